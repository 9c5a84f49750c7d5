"""The broadcast helper: events leave after commit, and a broken layer loses no write."""

import json
import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from crews.results import TestData, record_test, record_tests
from realtime.broadcast import FRAME_EVENTS, PROVINCE_GROUP, send_events_on_commit, wharf_group
from tests.helpers import people_of


class Layer:
    """A channel layer that keeps what it is given: (group, frame decoded)."""

    def __init__(self):
        self.sent: list[tuple[str, list[dict]]] = []

    async def group_send(self, group, message):
        assert message["type"] == "dashboard.event"
        self.sent.append((group, json.loads(message["text"])))


@pytest.fixture
def layer(monkeypatch) -> Layer:
    kept = Layer()
    monkeypatch.setattr("realtime.broadcast.get_channel_layer", lambda: kept)
    return kept


def test_events_are_sent_only_after_commit(make_call, layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_call(crew=1)
        assert layer.sent == []
    for callback in callbacks:
        callback()
    assert [(group, [event["type"] for event in frame]) for group, frame in layer.sent] == [
        (wharf_group("CP-03"), ["port_call.updated"]),
        (PROVINCE_GROUP, ["port_call.updated"]),
    ]


def test_a_commit_sends_its_events_to_each_group_in_one_frame(
    make_call, inspector, ha_long, layer, django_capture_on_commit_callbacks
):
    ha_long.inspectors.add(inspector)
    here = make_call(crew=2, arrived_at=timezone.now() - timedelta(hours=1))
    there = make_call(crew=1, wharf=ha_long, arrived_at=timezone.now() - timedelta(hours=1))
    layer.sent.clear()
    negative, positive = people_of(here)

    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        record_tests(
            inspector,
            [
                TestData(negative, TestKind.RAPID, now, TestResult.NEGATIVE, port_call=here),
                TestData(positive, TestKind.RAPID, now, TestResult.POSITIVE, port_call=here),
                TestData(people_of(there)[0], TestKind.RAPID, now, TestResult.NEGATIVE, port_call=there),
            ],
        )

    frames = dict(layer.sent)
    assert len(layer.sent) == len(frames) == 3  # one frame per group: two wharves, the province
    cam_pha = frames[wharf_group("CP-03")]
    ha_long_frame = frames[wharf_group(ha_long.code)]
    province = frames[PROVINCE_GROUP]
    # Each wharf hears its own events, in the order they were sent; the province all of them.
    assert [e["test"]["id_number"] for e in cam_pha if e["type"] == "test.recorded"] == [
        negative.id_number,
        positive.id_number,
    ]
    assert "alert.positive" in [e["type"] for e in cam_pha]
    assert [e["type"] for e in ha_long_frame] == ["test.recorded", "port_call.updated"]
    assert province == cam_pha + ha_long_frame


def test_a_rolled_back_savepoint_takes_its_events_with_it(
    make_call, inspector, layer, django_capture_on_commit_callbacks
):
    call = make_call(crew=2, arrived_at=timezone.now() - timedelta(hours=1))
    layer.sent.clear()
    kept, dropped = people_of(call)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record_test(inspector, TestData(kept, TestKind.RAPID, timezone.now(), TestResult.NEGATIVE, port_call=call))
        try:
            with transaction.atomic():
                record_test(
                    inspector, TestData(dropped, TestKind.RAPID, timezone.now(), TestResult.NEGATIVE, port_call=call)
                )
                raise RuntimeError("undo the second result")
        except RuntimeError:
            pass

    recorded = [e["test"]["id_number"] for group, frame in layer.sent for e in frame if e["type"] == "test.recorded"]
    assert recorded == [kept.id_number, kept.id_number]  # to the wharf and to the province, never the undone one


def test_a_lab_file_of_many_results_leaves_in_bounded_frames(layer):
    events = [("CP-03", "test.recorded", {"n": n}) for n in range(FRAME_EVENTS * 2 + 1)]

    send_events_on_commit(events)  # outside a transaction: at once

    wharf = [frame for group, frame in layer.sent if group == wharf_group("CP-03")]
    assert [len(frame) for frame in wharf] == [FRAME_EVENTS, FRAME_EVENTS, 1]
    assert [e["n"] for frame in wharf for e in frame] == list(range(FRAME_EVENTS * 2 + 1))


def test_a_failing_channel_layer_does_not_undo_the_write(
    make_call, inspector, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    call = make_call(crew=1, arrived_at=timezone.now() - timedelta(hours=1))

    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr("realtime.broadcast.get_channel_layer", lambda: BrokenLayer())
    caplog.set_level(logging.ERROR, logger="realtime.broadcast")
    with django_capture_on_commit_callbacks(execute=True):
        record_test(
            inspector,
            TestData(people_of(call)[0], TestKind.RAPID, timezone.now(), TestResult.NEGATIVE, port_call=call),
        )
    assert ScreeningTest.objects.filter(port_call=call).count() == 1
    assert "Could not broadcast" in caplog.text
