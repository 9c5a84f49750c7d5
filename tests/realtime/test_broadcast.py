"""The broadcast helper: events leave after commit, and a broken layer loses no write."""

import json
import logging
from datetime import timedelta

from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from crews.results import TestData, record_test
from realtime.broadcast import PROVINCE_GROUP, wharf_group
from tests.helpers import people_of


def test_events_are_sent_only_after_commit(make_call, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr("realtime.broadcast._send", lambda groups, text: sent.append((groups, json.loads(text))))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_call(crew=1)
        assert sent == []
    for callback in callbacks:
        callback()
    assert [(groups, event["type"]) for groups, event in sent] == [
        ((wharf_group("CP-03"), PROVINCE_GROUP), "port_call.updated")
    ]


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
