"""Dashboard sockets: who may connect, the snapshot, and events after commit."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.results import TestData, record_test
from realtime.broadcast import wharf_group
from realtime.consumers import CLOSE_RESYNC
from realtime.layers import RESYNC
from tests.helpers import people_of
from tests.realtime.helpers import ORIGIN, close_code, connect, receive_json, token_header

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_anonymous_socket_is_closed_as_unauthenticated(cam_pha):
    communicator, connected = await connect("/ws/wharves/CP-03/", ORIGIN)
    assert connected
    assert await close_code(communicator) == 4401


async def test_inspector_of_another_wharf_is_refused(cam_pha, outsider):
    header = await database_sync_to_async(token_header)(outsider)
    communicator, _connected = await connect("/ws/wharves/CP-03/", header)
    assert await close_code(communicator) == 4403


async def test_inspector_is_refused_the_province_dashboard(inspector):
    header = await database_sync_to_async(token_header)(inspector)
    communicator, _connected = await connect("/ws/province/", header)
    assert await close_code(communicator) == 4403


async def test_wharf_socket_starts_with_a_snapshot_of_open_calls(make_call, inspector):
    call = await database_sync_to_async(make_call)(crew=3)
    header = await database_sync_to_async(token_header)(inspector)
    communicator, connected = await connect("/ws/wharves/CP-03/", header)
    assert connected
    snapshot = await receive_json(communicator)
    assert snapshot["type"] == "snapshot"
    assert [c["id"] for c in snapshot["port_calls"]] == [call.pk]
    assert snapshot["port_calls"][0]["counts"] == {"crew": 3, "tested": 0, "negative": 0, "blocking": 3}
    await communicator.disconnect()


async def test_session_cookie_from_our_origin_is_accepted_and_from_elsewhere_refused(cam_pha, inspector):
    client = Client()
    await database_sync_to_async(client.force_login)(inspector)
    cookie = (
        b"cookie",
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode(),
    )
    communicator, connected = await connect("/ws/wharves/CP-03/", cookie, ORIGIN)
    assert connected
    assert (await receive_json(communicator))["type"] == "snapshot"
    await communicator.disconnect()
    foreign, connected = await connect("/ws/wharves/CP-03/", cookie, (b"origin", b"http://evil.example"))
    assert not connected


async def test_sockets_are_served_while_a_request_holds_the_thread_of_the_views(make_call, inspector):
    # Django runs a process's sync views one at a time in one thread: sockets must not
    # queue behind them, neither to connect (a crowd reconnecting under a write load)
    # nor for each event they are sent.
    call = await database_sync_to_async(make_call)(crew=2)
    token = await database_sync_to_async(token_header)(inspector)
    client = Client()
    await database_sync_to_async(client.force_login)(inspector)
    cookie = (
        b"cookie",
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode(),
    )
    release = threading.Event()
    busy_view = asyncio.ensure_future(sync_to_async(release.wait, thread_sensitive=True)())
    try:
        for headers in ((token,), (cookie, ORIGIN)):
            communicator, connected = await connect("/ws/wharves/CP-03/", *headers)
            assert connected
            snapshot = await receive_json(communicator)
            assert [c["id"] for c in snapshot["port_calls"]] == [call.pk]
            event = {"type": "dashboard.event", "text": json.dumps({"type": "port_call.updated", "n": len(headers)})}
            await get_channel_layer().group_send(wharf_group("CP-03"), event)
            assert await receive_json(communicator) == {"type": "port_call.updated", "n": len(headers)}
            await communicator.disconnect()
        assert not busy_view.done()
    finally:
        release.set()
        await busy_view


async def test_recorded_positive_reaches_the_wharf_and_the_province(make_call, inspector, authority):
    call = await database_sync_to_async(make_call)(crew=2, arrived_at=timezone.now() - timedelta(hours=1))
    wharf_socket, _ = await connect("/ws/wharves/CP-03/", await database_sync_to_async(token_header)(inspector))
    province_socket, _ = await connect("/ws/province/", await database_sync_to_async(token_header)(authority))
    await receive_json(wharf_socket)
    await receive_json(province_socket)

    def positive():
        person = people_of(call)[0]
        record_test(inspector, TestData(person, TestKind.RAPID, timezone.now(), TestResult.POSITIVE, port_call=call))
        return person

    person = await database_sync_to_async(positive)()
    for socket in (wharf_socket, province_socket):
        events = [await receive_json(socket) for _ in range(3)]
        assert [e["type"] for e in events] == ["test.recorded", "alert.positive", "port_call.updated"]
        assert events[1]["test"]["id_number"] == person.id_number
        assert events[2]["port_call"]["status"] == "blocked"
        await socket.disconnect()


async def test_junk_frames_are_ignored_and_a_flood_is_cut_off(make_call, inspector):
    await database_sync_to_async(make_call)(crew=1)
    header = await database_sync_to_async(token_header)(inspector)
    communicator, _connected = await connect("/ws/wharves/CP-03/", header)
    assert (await receive_json(communicator))["type"] == "snapshot"
    await communicator.send_to(text_data="{not json")
    await communicator.send_to(bytes_data=b"\x00\xff\xfe")
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.send_to(text_data="x" * 100_000)
    assert await close_code(communicator) == 1009
    # The server is unharmed: a new socket gets its snapshot.
    again, connected = await connect("/ws/wharves/CP-03/", header)
    assert connected and (await receive_json(again))["type"] == "snapshot"
    await again.disconnect()


async def test_a_resync_from_the_channel_layer_closes_the_socket_so_the_dashboard_rereads(make_call, inspector):
    await database_sync_to_async(make_call)(crew=1)
    header = await database_sync_to_async(token_header)(inspector)
    communicator, _connected = await connect("/ws/wharves/CP-03/", header)
    assert (await receive_json(communicator))["type"] == "snapshot"
    await get_channel_layer().group_send(wharf_group("CP-03"), RESYNC)
    assert await close_code(communicator) == CLOSE_RESYNC
    await communicator.disconnect()
