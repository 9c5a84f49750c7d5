"""Shared personas and data: an inspector of Cẩm Phả, an inspector of Hạ Long (the
outsider for Cẩm Phả), a port authority officer, a health officer, a TKV supervisor."""

import json
import uuid
from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User

from crews.choices import TestKind, TestResult
from crews.models import Person
from crews.results import TestData, record_test
from portguard import roles
from tests.helpers import ARRIVAL, crew_data, make_user
from vessels.choices import Locality, WharfKind
from vessels.models import PortCall, Wharf
from vessels.services import VesselData, register_port_call


@pytest.fixture
def cam_pha(db) -> Wharf:
    return Wharf.objects.create(
        code="CP-03", name="Bến Mông Dương", locality=Locality.CAM_PHA, kind=WharfKind.WHARF, route_order=3
    )


@pytest.fixture
def ha_long(db) -> Wharf:
    return Wharf.objects.create(
        code="HL-01", name="Cảng Làng Khánh", locality=Locality.HA_LONG, kind=WharfKind.PORT, route_order=10
    )


@pytest.fixture
def inspector(cam_pha) -> User:
    return make_user("alice", roles.INSPECTOR, [cam_pha])


@pytest.fixture
def outsider(ha_long) -> User:
    """An inspector of Hạ Long: outside Cẩm Phả's scope."""
    return make_user("charlie", roles.INSPECTOR, [ha_long])


@pytest.fixture
def authority(db) -> User:
    return make_user("bob", roles.AUTHORITY)


@pytest.fixture
def health(db) -> User:
    return make_user("hoa", roles.HEALTH)


@pytest.fixture
def supervisor(db) -> User:
    return make_user("son", roles.SUPERVISOR)


@pytest.fixture
def make_call(inspector, cam_pha):
    counter = iter(range(1000, 10000))

    def make(crew: int = 3, wharf: Wharf | None = None, arrived_at: datetime = ARRIVAL, by: User | None = None):
        n = next(counter)
        return register_port_call(
            by or inspector,
            wharf=wharf or cam_pha,
            vessel=VesselData(registration=f"QN-{n}", name=f"Hoàng Long {n}", kind="self_propelled_barge"),
            arrived_at=arrived_at,
            origin="Hải Phòng",
            crew=crew_data(crew, start=n * 100),
            now=arrived_at + timedelta(minutes=1),
        )

    return make


@pytest.fixture
def record(inspector):
    """Record one test for a person of a port call."""

    def rec(
        call: PortCall,
        person: Person,
        result: str = TestResult.NEGATIVE,
        kind: str = TestKind.RAPID,
        sampled_at: datetime | None = None,
        by: User | None = None,
        now: datetime | None = None,
    ):
        sampled_at = sampled_at or call.arrived_at + timedelta(hours=1)
        test, _created = record_test(
            by or inspector,
            TestData(person=person, kind=kind, sampled_at=sampled_at, result=result, port_call=call),
            now=now or sampled_at + timedelta(minutes=20),
        )
        return test

    return rec


def pytest_collection_modifyitems(config, items):
    """A pure test (a function of plain values) gives the same answer on either shape, and
    a browser-side one checks the browser's part of a page whose server side is tested on
    both: run them once, in the embedded pass, not again beside it on PostgreSQL + Redis."""
    if django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return
    once = pytest.mark.skip(reason="the embedded pass runs it: the shape cannot change its answer")
    for item in items:
        if item.get_closest_marker("pure") or item.get_closest_marker("browser_side"):
            item.add_marker(once)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def cache_of_its_own(settings):
    """Each test counts its rate limits, throttles and failed log-ins afresh: its own key
    prefix in the cache (a shared Redis keeps other tests' counts for their window)."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:12]}"}
        for name, config in settings.CACHES.items()
    }


@pytest.fixture
def broadcasts(monkeypatch) -> list[dict]:
    """Every event sent to the dashboards, decoded, in order (run the on-commit callbacks
    with ``django_capture_on_commit_callbacks(execute=True)``)."""
    sent: list[dict] = []
    monkeypatch.setattr("realtime.broadcast._deliver", lambda events: sent.extend(json.loads(t) for _, t in events))
    return sent
