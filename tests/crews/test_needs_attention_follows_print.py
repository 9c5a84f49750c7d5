"""Who is overdue agrees with the printed schedule: staff who followed it are never
listed as overdue, across the boundary between two printed weeks."""

from datetime import datetime, time, timedelta

import time_machine

from crews import schedule
from crews.results import TestData
from crews.stations import load_roster, needs_attention, record_staff_tests, station_schedule
from portguard import demo
from tests.crews.helpers import START
from tests.helpers import VN


def test_staff_who_followed_both_printed_weeks_are_not_overdue(station, supervisor):
    now = datetime.combine(START + timedelta(days=9), time(10), tzinfo=VN)  # Wednesday of week 2
    with time_machine.travel(now, tick=False):
        load_roster(supervisor, station, demo.roster_lines(demo.STATIONS[0].staff, START))
        for week in (0, 1):
            plan = station_schedule(station, START + timedelta(weeks=week), 7, now)
            record_staff_tests(
                supervisor,
                station,
                [
                    TestData(e.person, e.planned.kind, e.planned.due_from + timedelta(minutes=30), "negative")
                    for e in plan
                    if e.planned.due_by < now
                ],
                now=now,
            )
        assert not [e for e in needs_attention(station, now) if e.state == schedule.OVERDUE]


def test_a_missed_printed_test_is_overdue(station, supervisor):
    now = datetime.combine(START + timedelta(days=9), time(10), tzinfo=VN)
    with time_machine.travel(now, tick=False):
        load_roster(supervisor, station, demo.roster_lines(demo.STATIONS[0].staff, START))
        overdue = [e for e in needs_attention(station, now) if e.state == schedule.OVERDUE]
        assert overdue
        assert all(e.planned.due_by < now for e in overdue)
