"""The live dashboard pages as the server renders them: the wharf dashboard of an
inspector and the province overview of the port authority and health officers. What
the script does with the socket is tested in a real browser (tests/browser)."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import TestResult
from tests.helpers import ARRIVAL, people_of
from vessels.models import PortCall, Wharf
from vessels.services import approve_handover

NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def wharf_url(code: str = "CP-03") -> str:
    return reverse("wharf-dashboard", args=[code])


def live_config(page: str) -> dict:
    match = re.search(r'<script id="live-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def cards(page: str) -> list[str]:
    """The server-rendered cards, without the empty one kept in a <template> for the script."""
    body = page.split("<template", 1)[0]
    return re.findall(r'data-call="(\d+)"', body)


# --- Who may open which page ---------------------------------------------------------


def test_dashboards_require_login(client, cam_pha):
    for url in [wharf_url(), reverse("province-dashboard")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_wharf_dashboard_outside_the_inspectors_wharves_is_not_found(client, inspector, ha_long):
    client.force_login(inspector)
    assert client.get(wharf_url("HL-01")).status_code == 404
    assert client.get(wharf_url("XX-99")).status_code == 404
    assert client.get(wharf_url("CP-03")).status_code == 200


def test_province_dashboard_is_for_the_authority_and_health_only(client, inspector, authority, health, supervisor):
    for user, status in [(inspector, 403), (supervisor, 403), (authority, 200), (health, 200)]:
        client.force_login(user)
        assert client.get(reverse("province-dashboard")).status_code == status, user.username


def test_the_authority_may_open_any_wharf_dashboard(client, authority, cam_pha, ha_long):
    client.force_login(authority)
    assert client.get(wharf_url("CP-03")).status_code == 200
    assert client.get(wharf_url("HL-01")).status_code == 200


# --- Links -----------------------------------------------------------------------------


def test_home_links_each_wharf_to_its_dashboard(client, inspector, cam_pha):
    client.force_login(inspector)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{wharf_url("CP-03")}"' in page
    assert reverse("province-dashboard") not in page


def test_authority_and_health_get_the_province_link(client, authority, health):
    for user in (authority, health):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert f'<a href="{reverse("province-dashboard")}">Toàn tỉnh</a>' in page


# --- The wharf dashboard -------------------------------------------------------------


def test_wharf_dashboard_shows_the_open_calls_as_cards(client, inspector, make_call, record, outsider, ha_long, frozen):
    call = make_call(crew=3)
    first, second, _third = people_of(call)
    record(call, first)
    record(call, second, result=TestResult.POSITIVE)
    departed = make_call(crew=1)
    PortCall.objects.filter(pk=departed.pk).update(departed_at=NOW)
    elsewhere = make_call(crew=2, wharf=ha_long, by=outsider)
    client.force_login(inspector)

    page = client.get(wharf_url()).content.decode()

    assert cards(page) == [str(call.pk)]
    assert elsewhere.vessel.registration not in page
    assert departed.vessel.registration not in page
    assert call.vessel.registration in page
    assert call.vessel.name in page
    assert '<span class="chip status-blocked" data-field="status">Bị chặn</span>' in page
    assert f'href="{reverse("port-call", args=[call.pk])}"' in page
    # Arrival in Vietnam time: ARRIVAL is 08:00 in Asia/Ho_Chi_Minh.
    assert ">08:00 12/08/2021</time>" in page
    assert 'từ <span data-field="origin">Hải Phòng</span>' in page
    assert 'trên phương tiện <b data-field="crew">3</b>' in page
    assert 'đã xét nghiệm <b data-field="tested">2</b>' in page
    assert 'âm tính <b data-field="negative">1</b>' in page
    assert 'đang chặn <b data-field="blocking">2</b>' in page


def test_wharf_dashboard_tells_the_script_where_to_connect_and_what_to_say(client, inspector, cam_pha):
    client.force_login(inspector)
    page = client.get(wharf_url()).content.decode()
    config = live_config(page)
    assert config["socket"] == "/ws/wharves/CP-03/"
    assert config["timeZone"] == "Asia/Ho_Chi_Minh"
    assert config["statuses"]["blocked"] == "Bị chặn"
    assert config["text"]["reconnecting"] == "Đang kết nối lại…"
    assert config["text"]["live"] == "Trực tiếp"
    assert '<script type="module" src="/static/portguard/dashboard/main.js"></script>' in page
    assert "Đang kết nối…" in page  # until the first snapshot arrives
    assert "Đã biết" in page  # the alert banner's acknowledgement, hidden until a positive
    assert "Không có phương tiện nào đang neo đậu." in page


def test_wharf_dashboard_in_english(client, inspector, cam_pha):
    client.force_login(inspector)
    client.post(reverse("set_language"), {"language": "en", "next": wharf_url()})
    page = client.get(wharf_url()).content.decode()
    assert live_config(page)["text"]["reconnecting"] == "Reconnecting…"
    assert "Acknowledged" in page


# --- The province overview -----------------------------------------------------------


def test_province_lists_every_wharf_in_route_order_with_counts(
    client, authority, inspector, outsider, make_call, record, cam_pha, ha_long, frozen
):
    Wharf.objects.create(code="DT-01", name="Bến Đông Triều", locality="dong_trieu", route_order=40)
    cleared = make_call(crew=2)
    for person in people_of(cleared):
        record(cleared, person)
    blocked = make_call(crew=2)
    record(blocked, people_of(blocked)[0], result=TestResult.POSITIVE)
    make_call(crew=2)  # awaiting tests
    approved = make_call(crew=1, wharf=ha_long, by=outsider)
    record(approved, people_of(approved)[0], by=outsider)
    approve_handover(authority, approved.pk, now=NOW)
    client.force_login(authority)

    page = client.get(reverse("province-dashboard")).content.decode()
    body = page.split("<template", 1)[0]

    assert body.index('data-wharf="CP-03"') < body.index('data-wharf="HL-01"') < body.index('data-wharf="DT-01"')
    assert f'href="{wharf_url("CP-03")}"' in body

    def tally(code: str) -> dict[str, int]:
        row = body.split(f'data-wharf="{code}"', 1)[1].split("</li>", 1)[0]
        return {name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', row)}

    assert tally("CP-03") == {"open": 3, "cleared": 1, "blocked": 1, "awaiting": 1}
    assert tally("HL-01") == {"open": 1, "cleared": 1, "blocked": 0, "awaiting": 0}
    assert tally("DT-01") == {"open": 0, "cleared": 0, "blocked": 0, "awaiting": 0}
    assert '<b data-total="pending">1</b>' in body  # cleared and waiting; the approved one is not
    assert '<b data-total="blocked">1</b>' in body
    assert '<b data-total="open">4</b>' in body
    assert f'href="{reverse("approvals")}"' in body
    assert live_config(page)["socket"] == "/ws/province/"


# --- Query counts: the same ceiling at two sizes of data -----------------------------

# Each includes the KCS stations at the wharves shown (for their overdue staff); a
# station adds a fixed number more, pinned in tests/realtime/test_snapshot.py.
# Two more for the flags beside each status: epidemic areas (R4), violations (R5), and
# one for the unacknowledged positives of the snapshot. The wharf's adds one for its
# expected arrivals (R6; with declarations, three more: tests/vessels/test_declaration_pages.py).
# The kit forecast (R7) adds the stock, past arrivals and declarations: three on the
# wharf's; on the province's, the stations and wharves too, and the stations' rosters.
WHARF_DASHBOARD_QUERIES = 18
PROVINCE_DASHBOARD_QUERIES = 20


@pytest.fixture(params=[(1, 3), (20, 30)], ids=["1x3", "20x30"])
def berthed(request, make_call, record, authority):
    """``calls`` open calls of ``crew`` people: the first cleared and approved, the second
    with a positive, the rest untested."""
    calls_count, crew = request.param
    calls = [make_call(crew=crew) for _ in range(calls_count)]
    for person in people_of(calls[0]):
        record(calls[0], person)
    approve_handover(authority, calls[0].pk, now=ARRIVAL + timedelta(hours=1, minutes=30))
    if calls_count > 1:
        record(calls[1], people_of(calls[1])[0], result=TestResult.POSITIVE)
    return calls


def test_wharf_dashboard_runs_a_fixed_number_of_queries(
    client, inspector, berthed, frozen, django_assert_max_num_queries
):
    client.force_login(inspector)
    with django_assert_max_num_queries(WHARF_DASHBOARD_QUERIES):
        response = client.get(wharf_url())
    assert len(cards(response.content.decode())) == len(berthed)


def test_province_dashboard_runs_a_fixed_number_of_queries(
    client, authority, berthed, frozen, django_assert_max_num_queries
):
    client.force_login(authority)
    with django_assert_max_num_queries(PROVINCE_DASHBOARD_QUERIES):
        response = client.get(reverse("province-dashboard"))
    assert f'<b data-total="open">{len(berthed)}</b>' in response.content.decode()
