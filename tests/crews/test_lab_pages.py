"""Lab capacity on the station page (rule R7): the days of the next 7 on which the
planned RT-PCR load of the lab's stations, plus the crew RT-PCRs expected, is over the
lab's daily capacity are flagged, in words and colour."""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import TestKind
from crews.lab_load import lab_outlook
from crews.models import Lab
from tests.crews.helpers import START, STATION_PAGE_QUERIES
from tests.crews.test_kit_forecast import declare
from tests.helpers import VN, people_of
from tests.vessels.test_dashboard_pages import PROVINCE_DASHBOARD_QUERIES

NOW = datetime.combine(START + timedelta(days=3), time(10), tzinfo=VN)  # Thursday 12/08/2021 10:00
TODAY = NOW.date()
# The lab's reads: the stations, the staff's history, the rosters, the crew RT-PCRs
# with the declared arrivals (one query); and the station's lab.
LAB_QUERIES = 5


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def flagged_days(page: str) -> list[str]:
    return re.findall(r'data-lab-over-day="([\d-]+)"', page)


@pytest.mark.parametrize("staff", [3, 40])
def test_a_day_over_the_labs_pool_capacity_is_flagged_on_the_station_page(
    client, rostered, supervisor, staff, django_assert_max_num_queries
):
    station = rostered(staff=staff, days=14)
    station.lab = Lab.objects.create(name="CDC Quảng Ninh", capacity_single=100, capacity_pooled=1)
    station.save()
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES + LAB_QUERIES):
        page = client.get(reverse("station", args=[station.code])).content.decode()
    outlook = lab_outlook(station.lab, TODAY)
    assert [d.date for d in outlook] == [TODAY + timedelta(days=k) for k in range(7)]
    if staff == 3:
        # One pool a day at most: within the capacity.
        assert max(d.pools for d in outlook) == 1
        assert flagged_days(page) == []
        assert "data-lab-over" not in page
    else:
        # About 14 samples a day, 3 pools: over on every day.
        assert all(d.pools >= 3 for d in outlook)
        assert flagged_days(page) == [d.date.isoformat() for d in outlook]
        assert "Phòng xét nghiệm CDC Quảng Ninh quá công suất:" in page
        assert "mẫu gộp" in page


def test_expected_crew_samples_count_against_the_single_capacity(client, rostered, supervisor, make_call, record):
    station = rostered(staff=3, days=14)
    station.lab = Lab.objects.create(name="CDC Quảng Ninh", capacity_single=0, capacity_pooled=100)
    station.save()
    # A week ago, same weekday, at the station's wharf: 3 crew RT-PCRs, so 1 expected today.
    call = make_call(crew=3, wharf=station.wharf, arrived_at=NOW - timedelta(days=7))
    for person in people_of(call):
        record(call, person, kind=TestKind.RT_PCR)
    outlook = lab_outlook(station.lab, TODAY)
    assert [(d.date, d.single) for d in outlook if d.single] == [(TODAY, 1)]
    client.force_login(supervisor)
    page = client.get(reverse("station", args=[station.code])).content.decode()
    assert flagged_days(page) == [TODAY.isoformat()]


@pytest.mark.parametrize("declarations", [1, 12])
def test_declared_arrivals_count_as_expected_crew_samples(
    client, rostered, supervisor, make_call, record, ha_long, declarations, django_assert_max_num_queries
):
    station = rostered(staff=3, days=14)
    station.lab = Lab.objects.create(name="CDC Quảng Ninh", capacity_single=4, capacity_pooled=100)
    station.save()
    # A week ago, same weekday: 3 crew RT-PCRs, so 1 expected today, as before.
    call = make_call(crew=3, wharf=station.wharf, arrived_at=NOW - timedelta(days=7))
    for person in people_of(call):
        record(call, person, kind=TestKind.RT_PCR)
    # Declared at the station's wharf and not arrived yet: 4 people this afternoon, and
    # ``declarations`` vessels of 2 people tomorrow.
    declare(station.wharf, NOW + timedelta(hours=4), 4)
    for k in range(declarations):
        declare(station.wharf, NOW + timedelta(days=1, minutes=k), 2)
    # Not counted: a declaration already an arrival, one at a wharf without the lab's
    # stations, one a week ahead.
    declare(station.wharf, NOW + timedelta(hours=2), 5, port_call=call)
    declare(ha_long, NOW + timedelta(hours=3), 6)
    declare(station.wharf, NOW + timedelta(days=7), 3)
    outlook = lab_outlook(station.lab, TODAY)
    assert [(d.date, d.single) for d in outlook if d.single] == [
        (TODAY, 1 + 4),
        (TODAY + timedelta(days=1), 2 * declarations),
    ]
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES + LAB_QUERIES):
        page = client.get(reverse("station", args=[station.code])).content.decode()
    over = [TODAY] + ([TODAY + timedelta(days=1)] if 2 * declarations > 4 else [])
    assert flagged_days(page) == [day.isoformat() for day in over]


def test_a_station_without_a_lab_shows_no_flag(client, rostered, supervisor):
    station = rostered(staff=3, days=14)
    client.force_login(supervisor)
    assert "data-lab-over" not in client.get(reverse("station", args=[station.code])).content.decode()


@pytest.mark.parametrize("staff", [3, 40])
def test_the_province_overview_flags_each_lab_over_capacity(
    client, rostered, authority, staff, django_assert_max_num_queries
):
    station = rostered(staff=staff, days=14)
    station.lab = Lab.objects.create(name="CDC Quảng Ninh", capacity_single=100, capacity_pooled=1)
    station.save()
    Lab.objects.create(name="Bệnh viện Bãi Cháy", capacity_single=0, capacity_pooled=0)  # no station: never over
    client.force_login(authority)
    with django_assert_max_num_queries(PROVINCE_DASHBOARD_QUERIES + LAB_QUERIES):
        page = client.get(reverse("province-dashboard")).content.decode()
    if staff == 3:
        assert "data-labs-over" not in page
    else:
        assert "Phòng xét nghiệm quá công suất trong tuần" in page
        assert "Phòng xét nghiệm CDC Quảng Ninh quá công suất:" in page
        assert "Bãi Cháy" not in page
        assert len(flagged_days(page)) == 7
