"""All my wharves: one live page for an inspector who covers several wharves, cards by
wharf; the authority and health officers keep the province overview. Its socket is
tested in tests/realtime/test_my_wharves_socket.py, its script in tests/browser."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import TestResult
from portguard import roles
from tests.helpers import ARRIVAL, make_user, people_of
from vessels.models import Wharf

NOW = ARRIVAL + timedelta(hours=2)
URL = "/wharves/mine/"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def two_wharves(inspector, cam_pha, ha_long):
    """Alice covers Cẩm Phả and Hạ Long; Đông Triều is someone else's."""
    ha_long.inspectors.add(inspector)
    dong_trieu = Wharf.objects.create(code="DT-01", name="Bến Đông Triều", locality="dong_trieu", route_order=40)
    return dong_trieu


def live_config(page: str) -> dict:
    match = re.search(r'<script id="live-config" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def groups(page: str) -> dict[str, list[str]]:
    """The server-rendered cards of each wharf's section (the <template> left out)."""
    body = page.split("<template", 1)[0]
    sections = re.findall(r'data-wharf-group="([^"]+)"(.*?)</section>', body, re.S)
    return {code: re.findall(r'data-call="(\d+)"', html) for code, html in sections}


def test_the_url_is_not_taken_for_a_wharf_code():
    assert reverse("my-wharves-dashboard") == URL
    assert reverse("wharf-dashboard", args=["CP-03"]) == "/wharves/CP-03/"


def test_login_is_required(client, cam_pha):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_who_sees_every_wharf_is_sent_to_the_province_overview(client, authority, health):
    for user in (authority, health):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"] == reverse("province-dashboard")


def test_who_covers_no_wharf_is_refused(client, supervisor, cam_pha):
    client.force_login(supervisor)
    assert client.get(URL).status_code == 403
    client.force_login(make_user("vinh", roles.INSPECTOR))
    assert client.get(URL).status_code == 403


def test_cards_are_grouped_by_wharf_and_only_of_the_inspectors_wharves(
    client, inspector, two_wharves, make_call, record, ha_long, frozen
):
    at_cam_pha = [make_call(crew=2), make_call(crew=1)]
    at_ha_long = make_call(crew=2, wharf=ha_long)
    record(at_ha_long, people_of(at_ha_long)[0], result=TestResult.POSITIVE)
    other = make_user("dung", roles.INSPECTOR, [two_wharves])
    elsewhere = make_call(crew=1, wharf=two_wharves, by=other)
    client.force_login(inspector)

    page = client.get(URL).content.decode()

    assert groups(page) == {
        "CP-03": [str(at_cam_pha[1].pk), str(at_cam_pha[0].pk)],  # newest first
        "HL-01": [str(at_ha_long.pk)],
    }
    assert elsewhere.vessel.registration not in page
    assert "Tất cả bến của tôi" in page
    assert '<span class="badge" data-total="open">3</span>' in page
    config = live_config(page)
    assert config["socket"] == "/ws/wharves/mine/"
    assert config["text"]["notifyTitle"] == "Dương tính: %(name)s"
    assert config["text"]["alertVessel"] == "Phương tiện %(vessel)s tại %(wharf)s"
    assert "Bật thông báo" in page  # shown by the script while permission is not asked yet
    assert '<script type="module" src="/static/portguard/dashboard/main.js"></script>' in page


def test_a_wharf_without_a_vessel_says_so(client, inspector, two_wharves, make_call):
    make_call(crew=1)
    client.force_login(inspector)
    page = client.get(URL).content.decode()
    assert groups(page)["HL-01"] == []
    hl_section = page.split('data-wharf-group="HL-01"', 1)[1].split("</section>", 1)[0]
    assert "data-cards-empty>" in hl_section  # not hidden
    assert "Không có phương tiện nào đang neo đậu." in hl_section


def test_inspectors_find_it_in_the_header_and_on_the_home_page(client, inspector, authority, cam_pha):
    client.force_login(inspector)
    home = client.get(reverse("home")).content.decode()
    assert f'<a href="{URL}">Tất cả bến của tôi</a>' in home
    assert f'<a href="{URL}">Tất cả bến của tôi, trực tiếp</a>' in home
    client.force_login(authority)
    assert f'href="{URL}"' not in client.get(reverse("home")).content.decode()


# The session and user, the wharves, their open calls, their clearances, the flags
# beside each status (epidemic areas, violations) and the unacknowledged positives;
# like the province overview, no KCS staff lists. The same at both sizes.
MY_WHARVES_QUERIES = 13


@pytest.mark.parametrize("calls_count, crew", [(1, 3), (20, 30)], ids=["1x3", "20x30"])
def test_the_page_runs_a_fixed_number_of_queries(
    client, inspector, two_wharves, make_call, record, ha_long, frozen, calls_count, crew, django_assert_max_num_queries
):
    calls = [make_call(crew=crew, wharf=ha_long if n % 2 else None) for n in range(calls_count)]
    record(calls[-1], people_of(calls[-1])[0], result=TestResult.POSITIVE)
    client.force_login(inspector)
    with django_assert_max_num_queries(MY_WHARVES_QUERIES):
        response = client.get(URL)
    assert sum(len(cards) for cards in groups(response.content.decode()).values()) == calls_count
