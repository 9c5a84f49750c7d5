"""Kit forecast (rule R7): the rapid kits each station and wharf needs over the next 7
days beside its stock, and the day the stock runs out. Expected numbers are worked out
by hand in each test."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from crews.kit_forecast import forecast, project, wharf_needs
from crews.kit_stock import Place
from crews.kits import DeliveryData, record_delivery
from crews.stations import create_station, load_roster
from tests.crews.helpers import roster_lines
from tests.helpers import VN
from vessels.models import Declaration, DeclaredPerson

NOW = datetime(2021, 8, 9, 7, 0, tzinfo=VN)
MONDAY = date(2021, 8, 16)  # the week after the roster helpers' START


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def test_project_uses_first_expiring_lots_and_drops_expired_ones():
    # A: 3 kits until Monday; B: 4 until the 30th. Needs 2, 1, 4.
    # Mon: 7 usable, 2 taken from A (1 left, expires). Tue: 4 usable (B), 1 taken.
    # Wed: 3 usable < 4: runs out. Without the expiry Wed would have had 4.
    days = project([(day(0), 3), (date(2021, 8, 30), 4)], [(day(0), 2), (day(1), 1), (day(2), 4), (day(3), 0)])
    assert [(d.day, d.need, d.available, d.covered) for d in days] == [
        (day(0), 2, 7, True),
        (day(1), 1, 4, True),
        (day(2), 4, 3, False),
        (day(3), 0, 0, True),
    ]


def test_wharf_needs_average_the_same_weekday_of_four_weeks_plus_declared():
    past = {
        day(-7): 3,  # Mondays: (3 + 2) / 4 rounded up = 2
        day(-14): 2,
        day(-35): 40,  # five weeks back: not counted
        day(-6): 4,  # Tuesday: 4 / 4 = 1
        day(-1): 9,  # Sunday: 9 / 4 rounded up = 3
    }
    needs = wharf_needs(past, {day(2): 5}, MONDAY)
    assert needs == {day(0): 2, day(1): 1, day(2): 5, day(3): 0, day(4): 0, day(5): 0, day(6): 3}


def declare(wharf, expected_at, people, port_call=None):
    declaration = Declaration.objects.create(
        wharf=wharf,
        registration=f"QN-{people}{expected_at:%d%H}",
        expected_at=expected_at,
        declarant_name="Vũ Văn Hải",
        declarant_phone="0912345678",
        receipt_hash=f"{wharf.pk}-{expected_at.isoformat()}-{people}",
        created_at=NOW,
        port_call=port_call,
    )
    DeclaredPerson.objects.bulk_create(
        DeclaredPerson(
            declaration=declaration, full_name=f"Người {i}", id_kind="cccd", id_number=f"0{i:11d}", role="crew"
        )
        for i in range(people)
    )


@pytest.fixture
def scenario(inspector, supervisor, make_call, station, cam_pha):
    """Cẩm Phả's wharf: arrivals on Monday 9th (2 people), Monday 2nd (2), Tuesday 10th
    (4, and 1 at 01:00 local, still Monday in UTC), Monday 12 July (five weeks back, 40);
    a declaration of 4 people expected Wednesday 18th, and one already arrived (not
    counted again). Kits: A 3 until the 16th, B 4 until the 30th. The station: 2 staff
    working a shift every day of the week from the 16th, 3 kits."""
    make_call(crew=2, arrived_at=datetime(2021, 8, 9, 9, 0, tzinfo=VN))
    make_call(crew=1, arrived_at=datetime(2021, 8, 10, 1, 0, tzinfo=VN))  # Monday 18:00 UTC
    make_call(crew=2, arrived_at=datetime(2021, 8, 2, 10, 0, tzinfo=VN))
    make_call(crew=4, arrived_at=datetime(2021, 8, 10, 10, 0, tzinfo=VN))
    make_call(crew=40, arrived_at=datetime(2021, 7, 12, 10, 0, tzinfo=VN))
    arrived = make_call(crew=6, arrived_at=datetime(2021, 8, 16, 6, 0, tzinfo=VN))
    declare(cam_pha, datetime(2021, 8, 18, 14, 0, tzinfo=VN), 4)
    declare(cam_pha, datetime(2021, 8, 17, 14, 0, tzinfo=VN), 6, port_call=arrived)
    wharf = Place(wharf=cam_pha)
    record_delivery(inspector, wharf, DeliveryData("LOT-A", day(0), 3), now=NOW)
    record_delivery(inspector, wharf, DeliveryData("LOT-B", date(2021, 8, 30), 4), now=NOW)
    load_roster(supervisor, station, roster_lines(2, 7, start=MONDAY))
    at_station = Place(station=station)
    record_delivery(supervisor, at_station, DeliveryData("LOT-S", date(2021, 9, 1), 3), now=NOW)
    return wharf, at_station


def test_forecast_of_a_wharf_and_a_station(scenario, django_assert_max_num_queries):
    wharf, station = scenario
    with django_assert_max_num_queries(4):
        result = forecast([wharf, station], MONDAY)
    at_wharf = result[wharf.key]
    # Mondays (2 + 2) / 4 -> 1; Tuesdays (4 + 1) / 4 rounded up -> 2; Wednesday the 4
    # declared. Stock: Monday 3 + 4, 1 taken from A, whose 2 left expire; Tuesday 4 of
    # B, 2 taken; Wednesday 2 < 4.
    assert [d.need for d in at_wharf.days] == [1, 2, 4, 0, 0, 0, 0]
    assert [d.available for d in at_wharf.days] == [7, 4, 2, 0, 0, 0, 0]
    assert at_wharf.runs_out_on == day(2)
    assert not at_wharf.short
    at_station = result[station.key]
    # A rapid test after each shift: 2 a day. 3 kits: Monday 3, Tuesday 1 < 2.
    assert [d.need for d in at_station.days] == [2] * 7
    assert at_station.runs_out_on == day(1)
    assert at_station.short


def test_a_place_with_enough_stock_never_runs_out(inspector, cam_pha):
    wharf = Place(wharf=cam_pha)
    record_delivery(inspector, wharf, DeliveryData("LOT-A", date(2021, 9, 1), 1), now=NOW)
    result = forecast([wharf], MONDAY)[wharf.key]
    assert result.total_need == 0 and result.runs_out_on is None and not result.short


def test_queries_stay_constant_with_more_places(
    scenario, supervisor, outsider, ha_long, make_call, django_assert_max_num_queries
):
    wharf, station = scenario
    other = create_station(code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[supervisor])
    load_roster(supervisor, other, roster_lines(3, 7, start=MONDAY))
    make_call(crew=5, wharf=ha_long, arrived_at=datetime(2021, 8, 11, 9, 0, tzinfo=VN), by=outsider)
    declare(ha_long, datetime(2021, 8, 20, 9, 0, tzinfo=VN), 2)
    places = [wharf, station, Place(wharf=ha_long), Place(station=other)]
    with django_assert_max_num_queries(4):
        result = forecast(places, MONDAY)
    # Hạ Long: Wednesday 5 / 4 rounded up -> 2; Friday the 2 declared. No stock: the
    # days needing nothing are covered, Wednesday is not.
    assert [d.need for d in result[(None, ha_long.pk)].days] == [0, 0, 2, 0, 2, 0, 0]
    assert result[(None, ha_long.pk)].runs_out_on == day(2)
    assert [d.need for d in result[(other.pk, None)].days] == [3] * 7
    assert result[(other.pk, None)].runs_out_on == MONDAY


# --- The pages ------------------------------------------------------------------------


@pytest.fixture
def on_monday(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"), time_machine.travel(datetime(2021, 8, 16, 7, 0, tzinfo=VN), tick=False):
        yield


def cells(page: str, name: str) -> list[str]:
    return re.findall(rf"<td data-{name}>(\d+)</td>", page)


def test_the_kits_pages_show_the_week_and_the_day_the_stock_runs_out(
    client, on_monday, scenario, inspector, supervisor, station
):
    client.force_login(inspector)
    page = client.get(reverse("wharf-kits", args=["CP-03"])).content.decode()
    assert cells(page, "need") == ["1", "2", "4", "0", "0", "0", "0"]
    assert cells(page, "available") == ["7", "4", "2", "0", "0", "0", "0"]
    assert 'data-runs-out="2021-08-18"' in page and "Runs out on 18/08/2021" in page
    assert "data-short" not in page
    client.force_login(supervisor)
    page = client.get(reverse("station-kits", args=[station.code])).content.decode()
    assert cells(page, "need") == ["2"] * 7
    assert 'data-runs-out="2021-08-17" data-short' in page
    overview = client.get(reverse("kits")).content.decode()
    assert 'data-runs-out="2021-08-17" data-short' in overview


def test_the_kits_pages_speak_vietnamese(client, on_monday, scenario, supervisor, station):
    client.force_login(supervisor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "vi"
    with translation.override("vi"):
        page = client.get(reverse("station-kits", args=[station.code])).content.decode()
    assert "Hết kit vào ngày 17/08/2021" in page and "7 ngày tới" in page


def test_the_dashboards_say_when_the_kits_run_out(client, on_monday, scenario, inspector, authority, station):
    client.force_login(inspector)
    page = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()
    assert 'data-runs-out="2021-08-18"' in page and "Runs out on 18/08/2021" in page
    client.force_login(authority)
    page = client.get(reverse("province-dashboard")).content.decode()
    shortages = re.search(r"<section[^>]*data-kit-shortages.*?</section>", page, re.S).group(0)
    # Soonest first: the station on the 17th (under 2 days), the wharf on the 18th.
    assert re.findall(r'data-kit-place="([^"]+)"', shortages) == [station.code, "CP-03"]
    assert re.findall(r'data-runs-out="([^"]+)"', shortages) == ["2021-08-17", "2021-08-18"]


def test_the_station_page_says_when_its_kits_run_out(client, on_monday, scenario, supervisor, station):
    client.force_login(supervisor)
    page = client.get(reverse("station", args=[station.code])).content.decode()
    assert 'data-runs-out="2021-08-17" data-short' in page and "Runs out on 17/08/2021" in page
