"""The live alert of a KCS station short of rapid kits (rule R7) on an open wharf
dashboard, in a real browser served by a real daphne process: a result that leaves the
station under 2 days of kits shows it, in words, without a reload, and a delivery that
covers it again takes it away."""

import json
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.kit_stock import Place
from crews.kits import DeliveryData, record_delivery
from crews.models import Person
from crews.stations import create_station, load_roster
from tests.browser.helpers import log_in, open_live
from tests.crews.helpers import roster_lines
from tests.helpers import token_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


def post(url: str, token: str, body: dict) -> int:
    """POST a JSON body to the API with a token; the answer's status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return response.status


def test_a_result_leaving_a_station_short_shows_the_alert_on_the_open_dashboard(
    daphne, open_phone, inspector, supervisor, cam_pha, tmp_path
):
    # 2 staff on a day shift each day from today: 4 rapid tests in the 2 days ahead; 4 kits.
    station = create_station(code="KCS-CP-03", name="Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    today = timezone.localdate()
    load_roster(supervisor, station, roster_lines(2, 3, start=today))
    record_delivery(supervisor, Place(station=station), DeliveryData("LOT-S", today + timedelta(days=60), 4))
    person = Person.objects.order_by("id_number").first()
    token = token_for(supervisor)

    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    alert = dashboard.locator("[data-kits-short]")
    expect(alert).to_be_hidden()

    payload = {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "result": "negative",
        "kit_lot": "LOT-S",
    }
    assert post(daphne.http + "/api/v1/tests/", token, payload) == 201

    sentence = (
        "Trạm KCS KCS-CP-03 Mông Dương sắp hết kit test nhanh: còn 3, cần 4 trong 2 ngày tới "
        f"(hết vào ngày {today + timedelta(days=1):%d/%m/%Y})."
    )
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Sắp hết kit test nhanh")
    expect(alert.locator('[data-kits-short-place="station:KCS-CP-03"]')).to_have_text(sentence)
    expect(dashboard.locator("[data-feed] .feed-kits")).to_contain_text(sentence)
    dashboard.screenshot(path=tmp_path / "live-kits-short.png", full_page=True)

    # Kits delivered: the station is covered again, and the box goes.
    delivery = {"lot": "LOT-R", "expires_on": (today + timedelta(days=60)).isoformat(), "quantity": 10}
    assert post(daphne.http + "/api/v1/stations/KCS-CP-03/kits/deliveries/", token, delivery) == 201
    expect(alert).to_be_hidden()
    expect(dashboard.locator("[data-feed] .feed-kits").first).to_contain_text(
        "Trạm KCS KCS-CP-03 Mông Dương đã đủ kit test nhanh trở lại."
    )
    assert dashboard.evaluate("window.sameDocument") is True
