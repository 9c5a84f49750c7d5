"""The wharf dashboard keeps a call's newest state when two server processes deliver its
updates in the wrong order: the socket is played by the test (Playwright's WebSocket
routing), so the order is exactly the one that goes wrong."""

import json
import re

import pytest
from playwright.sync_api import expect

from realtime.snapshot import dashboard_snapshot
from tests.browser.helpers import log_in
from tests.helpers import people_of

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]


def test_an_update_older_than_the_one_shown_is_dropped(make_call, inspector, cam_pha, phone):
    call = make_call(crew=2)
    person = people_of(call)[0]
    snapshot = json.loads(json.dumps(dashboard_snapshot(inspector, cam_pha), default=str))
    (summary,) = snapshot["port_calls"]
    version = summary["version"]
    newer = {**summary, "version": version + 2, "status": "cleared", "counts": {**summary["counts"], "negative": 2}}
    older = {**summary, "version": version + 1, "status": "blocked"}
    marker = {
        "type": "test.recorded",
        "test": {
            "id": 1,
            "port_call": call.pk,
            "id_number": person.id_number,
            "full_name": person.full_name,
            "kind": "rapid",
            "result": "negative",
            "sampled_at": summary["arrived_at"],
        },
    }

    def server(ws):
        ws.send(json.dumps(snapshot))
        ws.send(json.dumps([{"type": "port_call.updated", "port_call": newer}]))
        # The older update, published by another process, arrives last.
        ws.send(json.dumps([{"type": "port_call.updated", "port_call": older}, marker]))

    phone.route_web_socket(re.compile(r".*/ws/wharves/CP-03/$"), server)
    log_in(phone, "alice")
    phone.goto("/wharves/CP-03/")
    expect(phone.locator("[data-feed]")).to_contain_text(person.full_name)  # every message was handled
    card = phone.locator(f'[data-call="{call.pk}"]')
    expect(card).to_have_attribute("data-status", "cleared")
    expect(card.locator('[data-field="status"]')).to_have_text("Đủ điều kiện")
