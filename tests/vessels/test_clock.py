"""The clock (SPEC "Time is an event"): a negative that runs past its validity changes a
port call's state with no write at all; the clock announces it to the dashboards, once,
and exactly one clock ticks however many processes run one (a lease in the database)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crews.choices import TestKind
from portguard.models import Lease
from tests.helpers import ARRIVAL, people_of
from vessels.clock import Clock
from vessels.services import record_departure

HOUR = timedelta(hours=1)
SAMPLED = ARRIVAL + HOUR
T0 = ARRIVAL + 2 * HOUR


def updates(broadcasts: list[dict]) -> list[dict]:
    return [e["port_call"] for e in broadcasts if e["type"] == "port_call.updated"]


def tick(clock: Clock, capture, now) -> bool:
    with capture(execute=True):
        return clock.tick(now=now)


@pytest.fixture
def cleared(make_call, record):
    """A call of three, each negative on a rapid test sampled an hour after arrival."""
    call = make_call(crew=3)
    for person in people_of(call):
        record(call, person, sampled_at=SAMPLED)
    return call


def test_a_rapid_negative_past_24_hours_is_announced_as_awaiting_tests(
    cleared, broadcasts, django_capture_on_commit_callbacks
):
    clock = Clock()
    assert tick(clock, django_capture_on_commit_callbacks, T0)
    assert updates(broadcasts) == [], "nothing changed with time since the arrival"

    assert tick(clock, django_capture_on_commit_callbacks, SAMPLED + 23 * HOUR)
    assert updates(broadcasts) == [], "still valid"

    assert tick(clock, django_capture_on_commit_callbacks, SAMPLED + 24 * HOUR + timedelta(minutes=1))
    (update,) = updates(broadcasts)
    assert update["id"] == cleared.pk
    assert update["wharf"] == "CP-03"
    assert update["status"] == "awaiting_tests"
    assert update["counts"] == {"crew": 3, "tested": 3, "negative": 0, "blocking": 3}
    cleared.refresh_from_db()
    assert update["version"] == cleared.version, "a version above the one the dashboard holds"


def test_a_tick_with_nothing_changed_sends_nothing(cleared, broadcasts, django_capture_on_commit_callbacks):
    clock = Clock()
    tick(clock, django_capture_on_commit_callbacks, T0)
    tick(clock, django_capture_on_commit_callbacks, T0 + 25 * HOUR)
    assert [u["status"] for u in updates(broadcasts)] == ["awaiting_tests"]
    tick(clock, django_capture_on_commit_callbacks, T0 + 26 * HOUR)
    tick(clock, django_capture_on_commit_callbacks, T0 + 27 * HOUR)
    assert len(updates(broadcasts)) == 1, "announced once, not at every tick"


def test_an_rt_pcr_negative_clears_for_72_hours(make_call, record, broadcasts, django_capture_on_commit_callbacks):
    call = make_call(crew=2)
    for person in people_of(call):
        record(call, person, kind=TestKind.RT_PCR, sampled_at=SAMPLED)
    clock = Clock()
    tick(clock, django_capture_on_commit_callbacks, T0)
    tick(clock, django_capture_on_commit_callbacks, SAMPLED + 25 * HOUR)
    tick(clock, django_capture_on_commit_callbacks, SAMPLED + 71 * HOUR)
    assert updates(broadcasts) == [], "an RT-PCR negative is valid for 72 hours, not 24"
    tick(clock, django_capture_on_commit_callbacks, SAMPLED + 72 * HOUR + timedelta(minutes=1))
    assert [(u["id"], u["status"]) for u in updates(broadcasts)] == [(call.pk, "awaiting_tests")]


def test_a_clock_that_takes_over_announces_what_expired_before_its_first_tick(
    cleared, broadcasts, django_capture_on_commit_callbacks
):
    """The holder died just before the negatives expired; the next clock's first tick
    comes up to a lease and a tick later, and still announces the change."""
    expiry = SAMPLED + 24 * HOUR
    assert tick(Clock(), django_capture_on_commit_callbacks, expiry + timedelta(seconds=50))
    assert [u["status"] for u in updates(broadcasts)] == ["awaiting_tests"]


def test_departed_calls_are_left_alone(cleared, inspector, broadcasts, django_capture_on_commit_callbacks):
    record_departure(inspector, cleared.pk, departed_at=T0)
    broadcasts.clear()
    clock = Clock()
    tick(clock, django_capture_on_commit_callbacks, T0)
    tick(clock, django_capture_on_commit_callbacks, T0 + 25 * HOUR)
    assert updates(broadcasts) == []


@pytest.mark.parametrize("calls", [2, 8])
def test_a_tick_reads_in_constant_queries_whatever_the_number_of_calls(
    calls, make_call, record, broadcasts, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for _ in range(calls):
        call = make_call(crew=3)
        for person in people_of(call):
            record(call, person, sampled_at=SAMPLED)
    clock = Clock()
    # One of them looks for e-mail alerts due (vessels/mail_outbox.py); the first tick also
    # runs the day's retention (crews/retention.py: eleven, whatever the number of people),
    # which the next one finds done (two).
    with django_assert_max_num_queries(29):
        tick(clock, django_capture_on_commit_callbacks, T0)
    with django_assert_max_num_queries(25):
        tick(clock, django_capture_on_commit_callbacks, T0 + 25 * HOUR)
    assert len(updates(broadcasts)) == calls


# --- One clock across processes: the lease ---------------------------------------------


def test_only_one_of_two_clocks_ticks(cleared, broadcasts, django_capture_on_commit_callbacks):
    first, second = Clock(), Clock()
    assert first.tick(now=T0)
    assert not second.tick(now=T0)
    assert not tick(second, django_capture_on_commit_callbacks, T0 + 25 * HOUR)
    assert updates(broadcasts) == [], "the clock that does not hold the lease announces nothing"
    assert Lease.objects.get(name="clock").holder == first.holder


def test_a_clock_that_stops_renewing_is_taken_over_once_its_lease_expires(db, settings):
    first, second = Clock(), Clock()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert first.tick()
    with time_machine.travel(start + timedelta(seconds=settings.PORTGUARD_CLOCK_LEASE_SECONDS - 1), tick=False):
        assert not second.tick(), "the lease has not expired yet"
    with time_machine.travel(start + timedelta(seconds=settings.PORTGUARD_CLOCK_LEASE_SECONDS + 1), tick=False):
        assert second.tick()
        assert not first.tick(), "the first clock came back: the second one keeps the lease"
    assert Lease.objects.get(name="clock").holder == second.holder


def test_a_clock_that_renews_keeps_its_lease(db, settings):
    first, second = Clock(), Clock()
    start = timezone.now()
    for beat in range(4):
        with time_machine.travel(start + beat * timedelta(seconds=settings.PORTGUARD_CLOCK_TICK_SECONDS), tick=False):
            assert first.tick()
            assert not second.tick()


def test_a_clock_that_stops_cleanly_hands_over_at_once(db):
    first, second = Clock(), Clock()
    assert first.tick()
    first.stop()
    assert second.tick(), "released: no need to wait for the lease to expire"
    assert not first.tick(), "a stopped clock ticks no more"
