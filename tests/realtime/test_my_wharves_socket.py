"""The socket of all my wharves: the groups of every wharf the inspector covers, a
snapshot of them all, refused to whoever covers none or sees every wharf (the province
socket is theirs)."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.results import TestData, record_test
from portguard import roles
from realtime.snapshot import dashboard_snapshot
from tests.helpers import make_user, people_of
from tests.realtime.helpers import ORIGIN, close_code, connect, receive_json, token_header
from vessels.models import Wharf

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PATH = "/ws/wharves/mine/"


@pytest.fixture
def dong_trieu(db):
    return Wharf.objects.create(code="DT-01", name="Bến Đông Triều", locality="dong_trieu", route_order=40)


def positive(by, call):
    person = people_of(call)[0]
    record_test(by, TestData(person, TestKind.RAPID, timezone.now(), TestResult.POSITIVE, port_call=call))
    return person


async def test_anonymous_and_everyone_outside_are_refused(cam_pha, authority, health, supervisor):
    anonymous, _connected = await connect(PATH, ORIGIN)
    assert await close_code(anonymous) == 4401
    nobody = await database_sync_to_async(make_user)("vinh", roles.INSPECTOR)
    for user in (authority, health, supervisor, nobody):
        communicator, _connected = await connect(PATH, await database_sync_to_async(token_header)(user))
        assert await close_code(communicator) == 4403, user.username
        await communicator.disconnect()


async def test_the_snapshot_is_the_union_of_the_inspectors_wharves(make_call, inspector, cam_pha, ha_long, dong_trieu):
    def world():
        ha_long.inspectors.add(inspector)
        other = make_user("dung", roles.INSPECTOR, [dong_trieu])
        arrived = timezone.now() - timedelta(hours=1)
        at_cam_pha = make_call(crew=2, arrived_at=arrived)
        at_ha_long = make_call(crew=2, wharf=ha_long, arrived_at=arrived)
        elsewhere = make_call(crew=2, wharf=dong_trieu, by=other, arrived_at=arrived)
        positive(inspector, at_ha_long)
        positive(other, elsewhere)
        return at_cam_pha, at_ha_long

    at_cam_pha, at_ha_long = await database_sync_to_async(world)()
    communicator, _connected = await connect(PATH, await database_sync_to_async(token_header)(inspector))
    snapshot = await receive_json(communicator)
    assert snapshot["type"] == "snapshot"
    assert [w["code"] for w in snapshot["wharves"]] == ["CP-03", "HL-01"]
    assert sorted(c["id"] for c in snapshot["port_calls"]) == sorted([at_cam_pha.pk, at_ha_long.pk])
    assert [(a["wharf"], a["vessel"]) for a in snapshot["alerts"]] == [("HL-01", at_ha_long.vessel.registration)]
    await communicator.disconnect()


async def test_events_of_each_covered_wharf_arrive_and_no_others(make_call, inspector, cam_pha, ha_long, dong_trieu):
    def world():
        ha_long.inspectors.add(inspector)
        other = make_user("dung", roles.INSPECTOR, [dong_trieu])
        arrived = timezone.now() - timedelta(hours=1)
        return (
            other,
            make_call(crew=2, arrived_at=arrived),
            make_call(crew=2, wharf=ha_long, arrived_at=arrived),
            make_call(crew=2, wharf=dong_trieu, by=other, arrived_at=arrived),
        )

    other, at_cam_pha, at_ha_long, elsewhere = await database_sync_to_async(world)()
    communicator, _connected = await connect(PATH, await database_sync_to_async(token_header)(inspector))
    assert (await receive_json(communicator))["type"] == "snapshot"

    # Đông Triều's positive is sent first: had it reached this socket, it would come first.
    await database_sync_to_async(positive)(other, elsewhere)
    for call in (at_ha_long, at_cam_pha):
        person = await database_sync_to_async(positive)(inspector, call)
        events = [await receive_json(communicator) for _ in range(3)]
        assert [e["type"] for e in events] == ["test.recorded", "alert.positive", "port_call.updated"]
        assert events[1]["wharf"] == call.wharf.code
        assert events[1]["test"]["full_name"] == person.full_name
    await communicator.disconnect()


async def test_a_wharf_assigned_later_is_joined_on_the_next_connection(make_call, inspector, cam_pha, ha_long):
    communicator, _connected = await connect(PATH, await database_sync_to_async(token_header)(inspector))
    assert [w["code"] for w in (await receive_json(communicator))["wharves"]] == ["CP-03"]
    await communicator.disconnect()
    await database_sync_to_async(ha_long.inspectors.add)(inspector)
    again, _connected = await connect(PATH, await database_sync_to_async(token_header)(inspector))
    assert [w["code"] for w in (await receive_json(again))["wharves"]] == ["CP-03", "HL-01"]
    await again.disconnect()


@pytest.mark.parametrize("calls_count, crew", [(1, 3), (20, 30)], ids=["1x3", "20x30"])
async def test_the_snapshot_runs_a_fixed_number_of_queries(
    make_call, inspector, cam_pha, ha_long, calls_count, crew, django_assert_max_num_queries
):
    def world():
        ha_long.inspectors.add(inspector)
        arrived = timezone.now() - timedelta(hours=1)
        calls = [make_call(crew=crew, wharf=ha_long if n % 2 else None, arrived_at=arrived) for n in range(calls_count)]
        positive(inspector, calls[-1])

    def snapshot():
        with django_assert_max_num_queries(MY_WHARVES_SNAPSHOT_QUERIES):
            return dashboard_snapshot(inspector)

    await database_sync_to_async(world)()
    result = await database_sync_to_async(snapshot)()
    assert len(result["port_calls"]) == calls_count
    assert len(result["alerts"]) == 1


# The wharves, their open calls, clearances (with R4's and R5's flags) and the positives.
MY_WHARVES_SNAPSHOT_QUERIES = 8
