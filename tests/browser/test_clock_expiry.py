"""A wharf dashboard open in Chromium turns a call from cleared to awaiting tests when its
negatives run past their validity: no one writes anything, the clock announces it. The
test moves the clock rather than waiting a day: it ticks a clock in this process, at now
and at 25 hours on, whose events reach the daphne through the Redis they share."""

import threading
from datetime import timedelta

import pytest
from channels.layers import channel_layers
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from crews.choices import TestKind, TestResult
from crews.results import TestData, record_tests
from tests.browser.helpers import log_in, open_live
from tests.helpers import people_of
from tests.realtime.servers import Daphne, PrivateRedis
from vessels.clock import Clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


@pytest.fixture
def cleared(make_call, inspector):
    """A vessel berthed two hours ago, both people on board negative an hour ago."""
    call = make_call(crew=2, arrived_at=timezone.now() - timedelta(hours=2))
    sampled_at = timezone.now() - timedelta(hours=1)
    record_tests(
        inspector,
        [TestData(p, TestKind.RAPID, sampled_at, TestResult.NEGATIVE, port_call=call) for p in people_of(call)],
    )
    return call


@pytest.fixture
def served(transactional_db, settings, monkeypatch):
    """A daphne that runs no clock of its own, and this process's channel layer on the
    Redis that daphne listens to: the events of a clock ticked here reach its sockets."""
    redis = PrivateRedis()
    redis.start()
    server = Daphne(redis.url, env={"DEBUG": "true", "PORTGUARD_CLOCK_IN_PROCESS": "false"})
    try:
        server.start()
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "realtime.layers.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [{"address": redis.url}]},
            }
        }
        monkeypatch.setattr(channel_layers, "backends", {})
        yield server
    finally:
        server.stop()
        redis.stop()


def tick(clock: Clock, now) -> None:
    """One tick, in a thread of its own: Playwright's event loop runs in this one, and the
    tick sends its events from synchronous code."""
    outcome = {}

    def run():
        try:
            outcome["held"] = clock.tick(now=now)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert outcome["held"], "the clock ticked"


def test_a_dashboard_shows_a_call_awaiting_tests_when_its_negatives_expire(cleared, served, open_phone, tmp_path):
    dashboard = open_phone(served.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    card = dashboard.locator(f'[data-call="{cleared.pk}"]')
    chip = card.locator('[data-field="status"]')
    expect(chip).to_have_text("Đủ điều kiện")
    expect(card.locator('[data-field="negative"]')).to_have_text("2")

    clock, now = Clock(), timezone.now()
    tick(clock, now)
    tick(clock, now + timedelta(hours=25))

    expect(chip).to_have_text("Chờ xét nghiệm")
    expect(card).to_have_attribute("data-status", "awaiting_tests")
    expect(card.locator('[data-field="negative"]')).to_have_text("0")
    expect(card.locator('[data-field="blocking"]')).to_have_text("2")
    registration = cleared.vessel.registration
    expect(dashboard.locator("[data-feed]")).to_contain_text(
        f"{registration} tại CP-03 Bến Mông Dương: Chờ xét nghiệm, 0/2 người âm tính."
    )
    dashboard.screenshot(path=tmp_path / "clock-expiry.png", full_page=True)
    assert dashboard.evaluate("window.sameDocument") is True, "no reload"
