"""``kits.short`` through the dashboard sockets (rule R7): a rapid result that leaves a
KCS station under 2 days of kits, recorded through the API or the station's page, reaches
its wharf's dashboards and the province's, not another wharf's; a dashboard opened
afterwards reads the station from its snapshot."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crews.kit_stock import Place
from crews.kits import DeliveryData, record_delivery
from crews.models import Person
from crews.stations import create_station, load_roster
from realtime.broadcast import send_event_on_commit
from tests.crews.helpers import roster_lines
from tests.helpers import client_for
from tests.realtime.helpers import connect, receive_json, token_header
from tests.vessels.helpers import local

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def short_station(cam_pha, supervisor):
    """A station at Cẩm Phả whose 2 staff work a day shift each day from today: 4 rapid
    tests in the 2 days ahead, and 4 kits in stock."""
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    today = timezone.localdate()
    load_roster(supervisor, station, roster_lines(2, 3, start=today))
    record_delivery(supervisor, Place(station=station), DeliveryData("LOT-S", today + timedelta(days=60), 4))
    return station


def record_through(door: str, supervisor, station) -> None:
    person = Person.objects.order_by("id_number").first()
    sampled_at = timezone.now() - timedelta(minutes=5)
    if door == "api":
        payload = {
            "id_number": person.id_number,
            "kind": "rapid",
            "sampled_at": sampled_at.isoformat(),
            "result": "negative",
            "kit_lot": "LOT-S",
        }
        assert client_for(supervisor).post("/api/v1/tests/", payload, format="json").status_code == 201
    else:
        client = Client()
        client.force_login(supervisor)
        data = {"kind": "rapid", "sampled_at": local(sampled_at), f"result_{person.pk}": "negative", "kit_lot": "LOT-S"}
        assert client.post(reverse("station-tests", args=[station.code]), data).status_code == 302


@pytest.mark.parametrize("door", ["api", "page"])
async def test_a_result_leaving_a_station_short_reaches_its_wharf_and_the_province(
    door, cam_pha, ha_long, inspector, outsider, authority, supervisor
):
    station = await database_sync_to_async(short_station)(cam_pha, supervisor)
    sockets = {}
    for name, path, user in [
        ("wharf", "/ws/wharves/CP-03/", inspector),
        ("province", "/ws/province/", authority),
        ("other", "/ws/wharves/HL-01/", outsider),
    ]:
        sockets[name], _connected = await connect(path, await database_sync_to_async(token_header)(user))
        assert (await receive_json(sockets[name]))["kits_short"] == []

    await database_sync_to_async(record_through)(door, supervisor, station)
    for name in ("wharf", "province"):
        event = await receive_json(sockets[name])
        assert event["type"] == "kits.short"
        assert (event["place_kind"], event["code"], event["wharf"], event["left"], event["need"]) == (
            "station",
            "KCS-CP-03",
            "CP-03",
            3,
            4,
        )
    # Hạ Long's dashboard was sent nothing: the next thing it hears is this.
    await database_sync_to_async(send_event_on_commit)("HL-01", "test.marker", {})
    assert (await receive_json(sockets["other"]))["type"] == "test.marker"

    later, _connected = await connect("/ws/wharves/CP-03/", await database_sync_to_async(token_header)(inspector))
    assert [(e["code"], e["left"]) for e in (await receive_json(later))["kits_short"]] == [("KCS-CP-03", 3)]
    for socket in [*sockets.values(), later]:
        await socket.disconnect()


def deliver_through(door: str, supervisor, station) -> None:
    expires_on = timezone.localdate() + timedelta(days=60)
    if door == "api":
        body = {"lot": "LOT-R", "expires_on": expires_on.isoformat(), "quantity": 10}
        url = f"/api/v1/stations/{station.code}/kits/deliveries/"
        assert client_for(supervisor).post(url, body, format="json").status_code == 201
    else:
        client = Client()
        client.force_login(supervisor)
        form = {
            "delivery-lot": "LOT-R",
            "delivery-expires_on": expires_on.isoformat(),
            "delivery-quantity": "10",
            "delivery-received_at": local(timezone.now() - timedelta(minutes=1)),
        }
        assert client.post(reverse("station-kit-deliveries", args=[station.code]), form).status_code == 302


@pytest.mark.parametrize("door", ["api", "page"])
async def test_a_delivery_that_covers_a_short_station_again_tells_its_wharf_and_the_province(
    door, cam_pha, inspector, authority, supervisor
):
    station = await database_sync_to_async(short_station)(cam_pha, supervisor)
    await database_sync_to_async(record_through)("api", supervisor, station)  # 3 kits left for 4 tests
    sockets = {}
    for name, path, user in [("wharf", "/ws/wharves/CP-03/", inspector), ("province", "/ws/province/", authority)]:
        sockets[name], _connected = await connect(path, await database_sync_to_async(token_header)(user))
        assert [e["code"] for e in (await receive_json(sockets[name]))["kits_short"]] == ["KCS-CP-03"]

    await database_sync_to_async(deliver_through)(door, supervisor, station)
    for socket in sockets.values():
        assert await receive_json(socket) == {
            "type": "kits.restocked",
            "place_kind": "station",
            "code": "KCS-CP-03",
            "name": "Trạm KCS Mông Dương",
            "wharf": "CP-03",
        }
    later, _connected = await connect("/ws/wharves/CP-03/", await database_sync_to_async(token_header)(inspector))
    assert (await receive_json(later))["kits_short"] == []
    for socket in [*sockets.values(), later]:
        await socket.disconnect()
