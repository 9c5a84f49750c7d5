"""The clock tells a wharf's dashboards when a KCS staff member's planned test becomes
overdue (rule R3), with no cron line: once when it does, not again until the list changes."""

from datetime import datetime, time, timedelta

import pytest

from crews.stations import station_schedule
from tests.crews.helpers import START
from tests.helpers import VN
from vessels.clock import Clock

MINUTE = timedelta(minutes=1)


def overdue_events(broadcasts: list[dict]) -> list[dict]:
    return [e for e in broadcasts if e["type"] == "staff.overdue"]


@pytest.fixture
def first_due(rostered):
    """A station whose staff work every day from START, and the moment the first of
    their planned tests becomes overdue, with the tests that do then."""
    station = rostered(staff=2, days=3)
    planned = station_schedule(station, START, 7, now=datetime.combine(START, time(0), tzinfo=VN))
    due_by = min(e.planned.due_by for e in planned)
    return station, due_by, [e for e in planned if e.planned.due_by == due_by]


def test_a_test_becoming_overdue_is_announced_once(first_due, broadcasts, django_capture_on_commit_callbacks):
    station, due_by, missed = first_due
    clock = Clock()

    with django_capture_on_commit_callbacks(execute=True):
        assert clock.tick(now=due_by - MINUTE)
    (first,) = overdue_events(broadcasts)
    assert first == {"type": "staff.overdue", "wharf": "CP-03", "overdue_staff": []}, "a first tick tells every wharf"

    with django_capture_on_commit_callbacks(execute=True):
        clock.tick(now=due_by - MINUTE / 2)
    assert len(overdue_events(broadcasts)) == 1, "nothing changed"

    with django_capture_on_commit_callbacks(execute=True):
        clock.tick(now=due_by + MINUTE)
    _first, became = overdue_events(broadcasts)
    assert became["wharf"] == "CP-03"
    assert {(e["id_number"], e["station"], e["kind"]) for e in became["overdue_staff"]} == {
        (e.person.id_number, station.code, e.planned.kind) for e in missed
    }
    assert {e["due_by"] for e in became["overdue_staff"]} == {due_by.isoformat()}

    with django_capture_on_commit_callbacks(execute=True):
        clock.tick(now=due_by + 2 * MINUTE)
    assert len(overdue_events(broadcasts)) == 2, "still the same list: not sent again"


def test_a_clock_that_takes_over_tells_every_wharf_again(
    first_due, other_station, broadcasts, django_capture_on_commit_callbacks
):
    _station, due_by, _missed = first_due
    first, second = Clock(), Clock()
    with django_capture_on_commit_callbacks(execute=True):
        first.tick(now=due_by + MINUTE)
    assert [e["wharf"] for e in overdue_events(broadcasts)] == ["CP-03", "HL-01"]
    first.stop()
    with django_capture_on_commit_callbacks(execute=True):
        assert second.tick(now=due_by + 2 * MINUTE)
    assert [e["wharf"] for e in overdue_events(broadcasts)] == ["CP-03", "HL-01"] * 2


def test_two_clocks_ticking_at_once_tell_each_wharf_once(first_due, broadcasts, django_capture_on_commit_callbacks):
    """Two processes' clocks at the same moment (issue 18: work that must run once): the
    overdue check runs under the clock's lease, so one of them tells the wharf."""
    _station, due_by, missed = first_due
    first, second = Clock(), Clock()
    with django_capture_on_commit_callbacks(execute=True):
        ticked = [first.tick(now=due_by + MINUTE), second.tick(now=due_by + MINUTE)]
    assert ticked == [True, False]
    (told,) = overdue_events(broadcasts)
    assert len(told["overdue_staff"]) == len(missed)
