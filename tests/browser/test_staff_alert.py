"""A KCS staff member's positive in a real browser: recorded over the API by their
supervisor, it takes over the top of the wharf dashboard open on an inspector's phone
and the province overview, like a crew member's, with no reload."""

import json
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.stations import RosterLine, create_station, load_roster
from tests.browser.helpers import log_in, open_live
from tests.helpers import token_for
from vessels.areas import AreaData, add_epidemic_area

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_ID = "022190000001"
STAFF_NAME = "Nguyễn Thị Hằng"


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


@pytest.fixture
def station(cam_pha, supervisor, inspector, authority):
    """Trạm KCS Mông Dương at CP-03, with one staff member on today's morning shift."""
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    today = timezone.localdate()
    load_roster(supervisor, station, [RosterLine(2, STAFF_ID, STAFF_NAME, today.isoformat(), "S1")])
    return station


def post_positive(base_url: str, user) -> dict:
    body = {
        "id_number": STAFF_ID,
        "kind": "rapid",
        "sampled_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "result": "positive",
    }
    request = urllib.request.Request(
        f"{base_url}/api/v1/tests/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token_for(user)}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def test_a_kcs_staff_positive_raises_the_alert_on_the_wharf_dashboard_and_the_province(
    station, supervisor, daphne, open_phone, tmp_path
):
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    province = open_phone(daphne.http)
    log_in(province, "bob")
    open_live(province, "/province/")
    banner = dashboard.locator("[data-alert-banner]")
    expect(banner).to_be_hidden()

    post_positive(daphne.http, supervisor)

    expect(banner).to_be_visible()
    expect(banner.locator(".alert-name")).to_have_text(STAFF_NAME)
    expect(banner).to_contain_text("KCS-CP-03")
    expect(dashboard.locator("[data-feed]").first).to_contain_text(STAFF_NAME)
    assert dashboard.evaluate("window.sameDocument") is True  # no reload happened
    dashboard.screenshot(path=str(tmp_path / "staff-alert.png"))
    expect(province.locator("[data-alert-banner]")).to_contain_text(STAFF_NAME)

    # A dashboard opened afterwards raises it from its snapshot until acknowledged.
    late = open_phone(daphne.http)
    log_in(late, "alice")
    late.goto("/wharves/CP-03/")
    expect(late.locator("[data-alert-banner]")).to_contain_text(STAFF_NAME)


def post_json(base_url: str, path: str, user, body: dict) -> dict:
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Token {token_for(user)}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def test_a_vessel_from_an_epidemic_area_registered_while_the_dashboard_is_open_shows_its_flag(
    cam_pha, inspector, health, daphne, open_phone
):
    add_epidemic_area(health, AreaData("Bắc Giang", active_from=timezone.localdate() - timedelta(days=3)))
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")

    call = post_json(
        daphne.http,
        "/api/v1/port-calls/",
        inspector,
        {
            "wharf": "CP-03",
            "vessel": {"registration": "QN-1357", "name": "Hạ Long 01", "kind": "self_propelled_barge"},
            "arrived_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
            "origin": "Bắc Giang",
            "crew": [{"id_number": "022081000123", "full_name": "Nguyễn Văn Hùng", "role": "captain"}],
        },
    )

    card = dashboard.locator(f'[data-call="{call["id"]}"]')
    expect(card.locator('[data-flag="origin"]')).to_be_visible()
    expect(card.locator('[data-flag="origin"]')).to_have_text("Vùng có dịch")
    expect(card.locator('[data-flag="repeat"]')).to_be_hidden()
    assert dashboard.evaluate("window.sameDocument") is True
