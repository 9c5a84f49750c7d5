"""Every door, tried by everyone who must not pass it.

The URL patterns are read from the resolver, so a new URL fails
``test_every_url_is_classified`` until it is listed below, as public (with the reason)
or as a ``Door`` naming who it serves. Then, on one small world at Cẩm Phả:

- anonymous: a page redirects to the login page, an API endpoint answers 401/403 in
  the error shape of SPEC §6, the admin site redirects to its own login;
- each persona the door does not serve gets 403 or 404 for the same request that the
  served personas get through with, and nothing stored changes;
- the sockets refuse anonymous and out-of-scope users.
"""

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from crews.choices import TestKind, TestResult
from crews.kit_stock import Place
from crews.kits import DeliveryData, record_delivery
from crews.models import HealthDataRead, KcsStation, Person
from crews.results import TestData
from crews.stations import create_station, load_roster, record_staff_test
from portguard import roles
from portguard.ratelimit import forget
from portguard.tokens import issue_token
from realtime.routing import websocket_urlpatterns
from tests.crews.helpers import roster_lines
from tests.helpers import ARRIVAL, make_user, people_of
from tests.realtime.helpers import ORIGIN, close_code, connect, receive_json, token_header
from vessels.areas import AreaData, add_epidemic_area
from vessels.certificate import certificate_token
from vessels.declaration_views import declaration_limit, receipt_limit
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData, declare
from vessels.services import approve_handover

NOW = ARRIVAL + timedelta(hours=3)

INSPECTOR = "inspector"  # of Cẩm Phả, where everything below happens
OUTSIDER = "outsider"  # inspector of Hạ Long
SUPERVISOR = "supervisor"  # of the Cẩm Phả KCS station
OTHER_SUPERVISOR = "other_supervisor"  # of the Hạ Long KCS station
AUTHORITY = "authority"
HEALTH = "health"
ADMIN = "admin"  # the administrator group, staff of the Django admin
EVERYONE = frozenset({INSPECTOR, OUTSIDER, SUPERVISOR, OTHER_SUPERVISOR, AUTHORITY, HEALTH, ADMIN})
AT_CAM_PHA = frozenset({INSPECTOR, AUTHORITY, HEALTH})
PROVINCE = frozenset({AUTHORITY, HEALTH})
CAM_PHA_STATION = frozenset({SUPERVISOR, AUTHORITY, HEALTH})
# The administrator reads records (portguard/roles.py), never writes screening.
READERS = frozenset({INSPECTOR, OUTSIDER, AUTHORITY, HEALTH, ADMIN})
# Personal health data is not the administrator's (rule R8).
HEALTH_READERS = READERS - {ADMIN}
# Who reads results (and so people's histories): every role but the administrator.
RESULT_READERS = EVERYONE - {ADMIN}

# Doors that need no login, and why.
PUBLIC = {
    "login": "the way in",
    "logout": "signing out needs no rights",
    "set_language": "choosing the interface language",
    "verify-certificate": "anyone holding a printed certificate checks it; the page names no person",
    "api:schema": "the OpenAPI description of the API holds no data",
    "declare": "a captain or agent declares before arriving (rule R6); the form reads only the wharf",
    "declaration-receipt": "whoever holds a receipt code reads and amends that declaration; any other code is 404",
    "manifest": "the installable app's name and icons, the same for everyone",
    "service-worker": "the installable app's offline script; it holds no data",
}
# Static files are served by WhiteNoise's middleware, not by a URL pattern.


@dataclass(frozen=True)
class Door:
    """Who a page or endpoint serves: the personas allowed each method on the world's
    Cẩm Phả objects. ``args`` and ``data`` build the URL arguments and the request from
    the world; ``named_in_body`` marks a door whose object is chosen in the request, which
    answers 400 for one outside the caller's scope, as it does for an unknown one."""

    args: Callable[[SimpleNamespace], dict] = lambda w: {}
    get: frozenset[str] | None = None
    post: frozenset[str] | None = None
    data: Callable[[SimpleNamespace], dict] = lambda w: {}
    json: bool = False
    named_in_body: bool = False
    # For a list: a text only the personas in ``shown_to`` may find in it.
    hides: Callable[[SimpleNamespace], str] | None = None
    shown_to: frozenset[str] = AT_CAM_PHA
    # For a door acting on one object: who may see that object. One of them whose role
    # may not act is told so (403); to anyone else the object is unknown (404).
    seen_by: frozenset[str] | None = None
    # The query string of a GET (a search needs its words).
    query: Callable[[SimpleNamespace], dict] = lambda w: {}


def call_of(name: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"pk": getattr(w, name).pk}


def csv_upload(text: str, name: str = "upload.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def crew_file(w) -> dict:
    return {"file": csv_upload("full_name,role,id_number\nVũ Văn Nam,crew,031234567\n")}


def lab_file(w) -> dict:
    return {
        "file": csv_upload(
            f"id_number,kind,sampled_at,result\n{w.sailor.id_number},rapid,2021-08-12T10:30:00+07:00,negative\n"
        )
    }


def roster_file(w) -> dict:
    return {"file": csv_upload("id_number,full_name,date,shift\n022099000001,Đỗ Thị Mai,2021-08-16,S1\n")}


def staff_row(w) -> dict:
    return {
        "staff-id_number": "022099000001",
        "staff-full_name": "Đỗ Thị Mai",
        "staff-date": "2021-08-16",
        "staff-shift": "S1",
    }


def end_assignment(w) -> dict:
    return {f"end-{w.staff_case_args['person_id']}-left_on": "2021-08-13"}


def shift_times(w) -> dict:
    return {"shift-S1-name": "", "shift-S1-starts_at": "07:00", "shift-S1-ends_at": "15:00"}


def station_sheet(w) -> dict:
    """A rapid result for the station's staff member who is not the staff case."""
    colleague = Person.objects.get(id_number=roster_lines(2, 1)[1].id_number)
    return {"kind": TestKind.RAPID, "sampled_at": "2021-08-12T10:30", f"result_{colleague.pk}": TestResult.NEGATIVE}


def sheet(w) -> dict:
    return {"kind": TestKind.RAPID, "sampled_at": "2021-08-12T10:30", f"result_{w.sailor.pk}": TestResult.NEGATIVE}


def arrival(w) -> dict:
    return {
        "wharf": w.cam_pha.pk,
        "registration": "QN-7777",
        "kind": "tug",
        "arrived_at": "2021-08-12T10:00",
        "origin": "Hải Phòng",
    }


def api_arrival(w) -> dict:
    return {"wharf": "CP-03", "vessel": {"registration": "QN-7777"}, "arrived_at": "2021-08-12T10:00:00+07:00"}


def api_test(w) -> dict:
    """A result sent without its port call: it belongs to the one the person is on."""
    return {
        "id_number": w.sailor.id_number,
        "kind": "rapid",
        "sampled_at": "2021-08-12T10:00:00+07:00",
        "result": "negative",
    }


def api_declaration(w) -> dict:
    return {
        "wharf": "CP-03",
        "vessel": {"registration": "QN-7778"},
        "expected_at": "2021-08-12T15:00:00+07:00",
        "declarant": {"name": "Phạm Văn Long", "phone": "0912345678"},
        "ports_of_call": [{"port": "Cảng Hải Phòng", "left_on": "2021-08-11"}],
        "people": [{"full_name": "Phạm Văn Long", "id_number": "022085000111", "role": "captain"}],
    }


def violation(w) -> dict:
    return {"kind": "other", "against": "vessel", "occurred_at": "2021-08-12T10:00", "wharf": w.cam_pha.pk}


STATION = {"code": "KCS-CP-03"}
WHARF = {"code": "CP-03"}


def kit_delivery(w) -> dict:
    return {
        "delivery-lot": "LOT-N",
        "delivery-expires_on": "2021-09-30",
        "delivery-quantity": "10",
        "delivery-received_at": "2021-08-12T10:30",
    }


def kit_adjustment(lot: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"adjustment-lot": lot, "adjustment-reason": "damaged", "adjustment-quantity": "1"}


def api_kit_adjustment(lot: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"lot": lot, "reason": "damaged", "quantity": 1}


def api_kit_delivery(w) -> dict:
    return {"lot": "LOT-N", "expires_on": "2021-09-30", "quantity": 10}


DOORS: dict[str, Door] = {
    # Lists: everyone signed in, each seeing their own scope.
    "home": Door(get=EVERYONE, hides=lambda w: w.cleared.vessel.registration),
    "alerts": Door(get=HEALTH_READERS, hides=lambda w: w.case.vessel.registration),
    "daily-report": Door(get=READERS, hides=lambda w: "Bến Mông Dương"),
    "daily-report-csv": Door(get=READERS, hides=lambda w: "CP-03"),
    "daily-report-xlsx": Door(get=READERS),
    "stations": Door(
        get=frozenset({SUPERVISOR, OTHER_SUPERVISOR, AUTHORITY, HEALTH, ADMIN}),
        hides=lambda w: "KCS-CP-03",
        shown_to=CAM_PHA_STATION,
    ),
    "epidemic-areas": Door(
        get=READERS, post=frozenset({HEALTH}), data=lambda w: {"province": "Bắc Giang", "active_from": "2021-08-01"}
    ),
    "crew-template-csv": Door(get=EVERYONE),
    "crew-template-xlsx": Door(get=EVERYONE),
    "lab-template-csv": Door(get=EVERYONE),
    "lab-template-xlsx": Door(get=EVERYONE),
    "api:wharves": Door(get=EVERYONE, hides=lambda w: "CP-03"),
    # Finding things: the search (everyone, in their scope: tests/vessels/test_search.py),
    # every port call with its filters and exports, one person's history.
    "search": Door(get=EVERYONE),
    "port-calls": Door(get=READERS, hides=lambda w: w.cleared.vessel.registration),
    "port-calls-csv": Door(get=READERS, hides=lambda w: w.cleared.vessel.registration),
    "port-calls-xlsx": Door(get=READERS, hides=lambda w: w.cleared.vessel.registration),
    "person": Door(args=lambda w: {"pk": w.sailor.pk}, get=AT_CAM_PHA, hides=lambda w: w.sailor.id_number),
    "api:stations": Door(get=EVERYONE, hides=lambda w: "KCS-CP-03", shown_to=CAM_PHA_STATION),
    # Each user's own profile: their e-mail alerts, and revoking their own API tokens
    # (another's token is unknown to them: 404).
    "profile": Door(get=EVERYONE, post=EVERYONE, data=lambda w: {"email_alerts": "on"}),
    "profile-token-revoke": Door(args=lambda w: {"pk": w.inspector_token.pk}, post=frozenset({INSPECTOR})),
    # The province.
    "approvals": Door(get=PROVINCE),
    "province-dashboard": Door(get=PROVINCE),
    # All the wharves an inspector covers; who sees every wharf is sent to the province.
    "my-wharves-dashboard": Door(get=frozenset({INSPECTOR, OUTSIDER}) | PROVINCE),
    # One wharf, one port call.
    "wharf-dashboard": Door(args=lambda w: {"code": "CP-03"}, get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "wharf-alerts": Door(args=lambda w: {"code": "CP-03"}, get=AT_CAM_PHA),
    "alert-acknowledge": Door(args=lambda w: {"pk": w.alert.pk}, post=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "port-call": Door(args=call_of("cleared"), get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "port-call-tests": Door(
        args=call_of("cleared"), post=frozenset({INSPECTOR, HEALTH}), data=sheet, seen_by=AT_CAM_PHA
    ),
    "port-call-crew-add": Door(
        args=call_of("cleared"),
        post=frozenset({INSPECTOR}),
        data=lambda w: {"id_number": "031234567", "full_name": "Vũ Văn Nam", "role": "crew"},
        seen_by=AT_CAM_PHA,
    ),
    "port-call-crew-remove": Door(
        args=lambda w: {"pk": w.cleared.pk, "person_id": w.sailor.pk}, post=frozenset({INSPECTOR}), seen_by=AT_CAM_PHA
    ),
    "port-call-crew-upload": Door(
        args=call_of("cleared"), post=frozenset({INSPECTOR}), data=crew_file, seen_by=AT_CAM_PHA
    ),
    "port-call-handover": Door(args=call_of("ready"), post=frozenset({AUTHORITY}), seen_by=AT_CAM_PHA),
    "port-call-certificate": Door(args=call_of("cleared"), get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "port-call-departure": Door(args=call_of("cleared"), post=frozenset({INSPECTOR}), seen_by=AT_CAM_PHA),
    "port-call-no-declaration": Door(args=call_of("cleared"), post=frozenset({INSPECTOR}), seen_by=AT_CAM_PHA),
    "port-call-release": Door(
        args=call_of("case"), post=frozenset({HEALTH}), data=lambda w: {"reason": "Đủ 14 ngày"}, seen_by=AT_CAM_PHA
    ),
    "port-call-new": Door(
        get=frozenset({INSPECTOR, OUTSIDER}), post=frozenset({INSPECTOR}), data=arrival, named_in_body=True
    ),
    "vessel": Door(
        args=lambda w: {"registration": w.cleared.vessel.registration},
        get=READERS,
        post=frozenset({INSPECTOR}),
        data=violation,
        named_in_body=True,
    ),
    "lab-results": Door(
        get=frozenset({INSPECTOR, OUTSIDER, SUPERVISOR, OTHER_SUPERVISOR, HEALTH}),
        post=frozenset({INSPECTOR, HEALTH}),
        data=lab_file,
        named_in_body=True,
    ),
    # Health officers: cases and their contacts, epidemic areas, who read health data.
    "cases": Door(get=frozenset({HEALTH})),
    "access-log": Door(get=frozenset({HEALTH})),
    "access-log-csv": Door(get=frozenset({HEALTH})),
    "access-log-xlsx": Door(get=frozenset({HEALTH})),
    "case-contacts-csv": Door(args=lambda w: w.case_args, get=frozenset({HEALTH})),
    "case-contacts-xlsx": Door(args=lambda w: w.case_args, get=frozenset({HEALTH})),
    "case-recompute": Door(args=lambda w: w.case_args, post=frozenset({HEALTH})),
    "staff-case-contacts-csv": Door(args=lambda w: w.staff_case_args, get=frozenset({HEALTH})),
    "staff-case-contacts-xlsx": Door(args=lambda w: w.staff_case_args, get=frozenset({HEALTH})),
    # A person's data on request (retention, Decree 13/2023): health officers only.
    "person-export-json": Door(args=lambda w: {"pk": w.sailor.pk}, get=frozenset({HEALTH})),
    "person-export-csv": Door(args=lambda w: {"pk": w.sailor.pk}, get=frozenset({HEALTH})),
    "epidemic-area-end": Door(
        args=lambda w: {"pk": w.area.pk}, post=frozenset({HEALTH}), data=lambda w: {"active_to": "2021-08-20"}
    ),
    "epidemic-area-delete": Door(args=lambda w: {"pk": w.area.pk}, post=frozenset({HEALTH})),
    # KCS stations.
    "station": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "station-roster": Door(args=lambda w: STATION, post=frozenset({SUPERVISOR}), data=roster_file),
    # Its staff, shifts and results sheet, managed from the station page (issue 15).
    "station-staff-add": Door(
        args=lambda w: STATION, post=frozenset({SUPERVISOR}), data=staff_row, seen_by=CAM_PHA_STATION
    ),
    "station-staff-end": Door(
        args=lambda w: {**STATION, "person_id": w.staff_case_args["person_id"]},
        post=frozenset({SUPERVISOR}),
        data=end_assignment,
        seen_by=CAM_PHA_STATION,
    ),
    "station-shift": Door(
        args=lambda w: {**STATION, "shift": "S1"},
        post=frozenset({SUPERVISOR}),
        data=shift_times,
        seen_by=CAM_PHA_STATION,
    ),
    "station-tests": Door(
        args=lambda w: STATION, post=frozenset({SUPERVISOR, HEALTH}), data=station_sheet, seen_by=CAM_PHA_STATION
    ),
    "api:station-roster": Door(
        args=lambda w: STATION, get=CAM_PHA_STATION, post=frozenset({SUPERVISOR}), data=roster_file
    ),
    "api:station-schedule": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    # Kits (rule R7): a station's by its supervisors, a wharf's by its inspectors, all of
    # them seen by the province and kept by health officers too.
    "kits": Door(get=EVERYONE, hides=lambda w: "KCS-CP-03", shown_to=CAM_PHA_STATION),
    "station-kits": Door(args=lambda w: STATION, get=CAM_PHA_STATION, seen_by=CAM_PHA_STATION),
    "station-kit-deliveries": Door(
        args=lambda w: STATION, post=frozenset({SUPERVISOR, HEALTH}), data=kit_delivery, seen_by=CAM_PHA_STATION
    ),
    "station-kit-adjustments": Door(
        args=lambda w: STATION,
        post=frozenset({SUPERVISOR, HEALTH}),
        data=kit_adjustment("LOT-S"),
        seen_by=CAM_PHA_STATION,
    ),
    "wharf-kits": Door(args=lambda w: WHARF, get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "wharf-kit-deliveries": Door(
        args=lambda w: WHARF, post=frozenset({INSPECTOR, HEALTH}), data=kit_delivery, seen_by=AT_CAM_PHA
    ),
    "wharf-kit-adjustments": Door(
        args=lambda w: WHARF, post=frozenset({INSPECTOR, HEALTH}), data=kit_adjustment("LOT-W"), seen_by=AT_CAM_PHA
    ),
    "api:station-kits": Door(args=lambda w: STATION, get=CAM_PHA_STATION, seen_by=CAM_PHA_STATION),
    "api:station-kit-deliveries": Door(
        args=lambda w: STATION,
        post=frozenset({SUPERVISOR, HEALTH}),
        data=api_kit_delivery,
        json=True,
        seen_by=CAM_PHA_STATION,
    ),
    "api:station-kit-adjustments": Door(
        args=lambda w: STATION,
        post=frozenset({SUPERVISOR, HEALTH}),
        data=api_kit_adjustment("LOT-S"),
        json=True,
        seen_by=CAM_PHA_STATION,
    ),
    "api:wharf-kits": Door(args=lambda w: WHARF, get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "api:wharf-kit-deliveries": Door(
        args=lambda w: WHARF, post=frozenset({INSPECTOR, HEALTH}), data=api_kit_delivery, json=True, seen_by=AT_CAM_PHA
    ),
    "api:wharf-kit-adjustments": Door(
        args=lambda w: WHARF,
        post=frozenset({INSPECTOR, HEALTH}),
        data=api_kit_adjustment("LOT-W"),
        json=True,
        seen_by=AT_CAM_PHA,
    ),
    "api:station-schedule-csv": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "api:station-schedule-xlsx": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "api:station-schedule-pdf": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    # Rule R7: a day's labelled pools, as the schedule is seen.
    "api:station-pools": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "api:station-pools-csv": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "api:station-pools-pdf": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    "api:station-labels-pdf": Door(args=lambda w: STATION, get=CAM_PHA_STATION),
    # The API of port calls and tests.
    "api:port-calls": Door(
        get=READERS,
        hides=lambda w: w.cleared.vessel.registration,
        post=frozenset({INSPECTOR}),
        data=api_arrival,
        json=True,
        named_in_body=True,
    ),
    "api:port-call": Door(args=call_of("cleared"), get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "api:handover": Door(args=call_of("ready"), post=frozenset({AUTHORITY}), seen_by=AT_CAM_PHA),
    "api:departure": Door(args=call_of("cleared"), post=frozenset({INSPECTOR}), json=True, seen_by=AT_CAM_PHA),
    "api:tests": Door(
        get=RESULT_READERS,
        hides=lambda w: w.sailor.id_number,
        post=frozenset({INSPECTOR, HEALTH}),
        data=api_test,
        json=True,
    ),
    # The lists other systems read (issue 15), scoped as their pages.
    "api:alerts": Door(get=HEALTH_READERS, hides=lambda w: w.case_person.id_number),
    "api:epidemic-areas": Door(get=READERS, hides=lambda w: "Chí Linh", shown_to=READERS),
    "api:violations": Door(get=READERS),
    "api:case-contacts": Door(args=lambda w: {"pk": w.case_test.pk}, get=frozenset({HEALTH})),
    "api:people": Door(
        get=RESULT_READERS, query=lambda w: {"q": w.sailor.id_number}, hides=lambda w: w.sailor.full_name
    ),
    "api:person-export": Door(args=lambda w: {"pk": w.sailor.pk}, get=frozenset({HEALTH})),
    "api:test-corrections": Door(
        args=lambda w: {"pk": w.cleared.tests.get(person=w.sailor).pk},
        post=frozenset({INSPECTOR, HEALTH}),
        data=lambda w: {"result": "positive", "reason": "Nhập nhầm kết quả"},
        json=True,
        seen_by=AT_CAM_PHA,
    ),
    "test-correct": Door(
        args=lambda w: {"pk": w.cleared.tests.get(person=w.sailor).pk},
        post=frozenset({INSPECTOR, HEALTH}),
        data=lambda w: {"result": "positive", "reason": "Nhập nhầm kết quả"},
        seen_by=AT_CAM_PHA,
    ),
    "api:crew-upload": Door(args=call_of("cleared"), post=frozenset({INSPECTOR}), data=crew_file, seen_by=AT_CAM_PHA),
    "api:tests-upload": Door(post=frozenset({INSPECTOR, HEALTH}), data=lab_file, named_in_body=True),
    # Health declarations (rule R6): the wharf's poster, a declaration as its wharf sees it.
    "declaration-poster": Door(args=lambda w: {"code": "CP-03"}, get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "declaration": Door(args=lambda w: {"pk": w.declaration.pk}, get=AT_CAM_PHA, seen_by=AT_CAM_PHA),
    "declaration-register": Door(
        args=lambda w: {"pk": w.declaration.pk},
        post=frozenset({INSPECTOR}),
        data=lambda w: {"arrived_at": "2021-08-12T10:30"},
        seen_by=AT_CAM_PHA,
    ),
    # Any account may send a declaration, as anyone may by the public form.
    "api:declarations": Door(post=EVERYONE, data=api_declaration, json=True),
}


# --- The URLs, as the resolver knows them --------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    route: str

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")


def routes(resolver: URLResolver | None = None, namespace: str = "", prefix: str = "") -> list[Route]:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            found += routes(entry, ":".join(n for n in (namespace, entry.namespace) if n), route)
        else:
            name = entry.name or route
            found.append(Route(f"{namespace}:{name}" if namespace else name, route))
    return found


def url_of(route: Route, world: SimpleNamespace | None = None) -> str:
    if route.name in DOORS:
        return reverse(route.name, kwargs=DOORS[route.name].args(world))
    # Public and admin URLs: any value will do, the refusal comes before the lookup.
    return "/" + re.sub(r"<[^>]+>|\(\?P<\w+>[^)]*\)", "1", route.route)


ALL_ROUTES = routes()
APP_ROUTES = [r for r in ALL_ROUTES if not r.is_admin and r.name not in PUBLIC]
ADMIN_ROUTES = [r for r in ALL_ROUTES if r.is_admin]


def test_every_url_is_classified():
    unclassified = {r.name for r in ALL_ROUTES if not r.is_admin} - set(DOORS) - set(PUBLIC)
    assert not unclassified, f"say who these serve, in DOORS or PUBLIC: {sorted(unclassified)}"
    assert not set(DOORS) - {r.name for r in ALL_ROUTES}, "DOORS names a URL that no longer exists"


def test_every_socket_is_classified():
    assert sorted(str(p.pattern) for p in websocket_urlpatterns) == sorted(SOCKETS)


# --- The world -----------------------------------------------------------------------


@pytest.fixture
def world(make_call, record, cam_pha, ha_long, inspector, outsider, supervisor, authority, health):
    """At Cẩm Phả: a cleared call with its handover approved, one cleared and waiting
    for approval, a quarantined one with a confirmed case (its alert and contacts), the
    KCS station with a roster; an epidemic area. Hạ Long has its inspector and its own
    station and supervisor."""
    other_supervisor = make_user("tuan", roles.SUPERVISOR)
    administrator = make_user("quantri", roles.ADMIN)
    administrator.is_staff = True
    administrator.save(update_fields=["is_staff"])
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    create_station(code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[other_supervisor])
    load_roster(supervisor, station, roster_lines(2, 2))
    record_delivery(supervisor, Place(station=station), DeliveryData("LOT-S", date(2021, 9, 30), 20), now=NOW)
    record_delivery(inspector, Place(wharf=cam_pha), DeliveryData("LOT-W", date(2021, 9, 30), 20), now=NOW)

    cleared, ready = make_call(crew=2), make_call(crew=1)
    for call in (cleared, ready):
        for person in people_of(call):
            record(call, person, sampled_at=NOW - timedelta(hours=1))
    approve_handover(authority, cleared.pk, now=NOW - timedelta(minutes=30))
    case = make_call(crew=2)
    captain = people_of(case)[0]
    record(case, captain, result=TestResult.POSITIVE, kind=TestKind.RT_PCR)
    for limit in (declaration_limit(), receipt_limit()):
        forget(limit, "127.0.0.1")
    declaration, receipt = declare(
        DeclarationData(
            registration="QN-8888",
            expected_at=NOW + timedelta(hours=2),
            declarant_name="Đinh Văn Toàn",
            declarant_phone="0987654321",
            ports=[PortOfCallData("Cảng Cái Lân", date(2021, 8, 11))],
            people=[DeclaredPersonData("Đinh Văn Toàn", "022086000222", "captain", fever=True)],
        ),
        wharf=cam_pha,
    )
    staff_case = Person.objects.get(id_number=roster_lines(1, 1)[0].id_number)
    record_staff_test(
        supervisor,
        station,
        TestData(person=staff_case, kind=TestKind.RT_PCR, sampled_at=NOW - timedelta(hours=2), result="positive"),
        now=NOW,
    )
    return SimpleNamespace(
        inspector_token=issue_token(inspector, "Điện thoại")[0],
        staff_case_args={"station": station.code, "person_id": staff_case.pk},
        cam_pha=cam_pha,
        declaration=declaration,
        receipt=receipt,
        cleared=cleared,
        ready=ready,
        sailor=people_of(cleared)[1],
        case=case,
        case_args={"pk": case.pk, "person_id": captain.pk},
        case_person=captain,
        case_test=case.tests.get(person=captain),
        alert=case.alerts.get(kind="confirmed_case"),
        area=add_epidemic_area(health, AreaData("Hải Dương", "Chí Linh", date(2021, 8, 1))),
        personas={
            INSPECTOR: inspector,
            OUTSIDER: outsider,
            SUPERVISOR: supervisor,
            OTHER_SUPERVISOR: other_supervisor,
            AUTHORITY: authority,
            HEALTH: health,
            ADMIN: administrator,
        },
    )


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def send(client: Client, method: str, route: Route, world, door: Door | None = None):
    url = url_of(route, world)
    if method == "get":
        return client.get(url, DOORS[route.name].query(world) if route.name in DOORS else {})
    data = door.data(world) if door else {}
    if door and door.json:
        return client.generic(method.upper(), url, json.dumps(data), content_type="application/json")
    if method == "post":
        return client.post(url, data)
    return client.generic(method.upper(), url)


# A refused write shows the port call's or station's page again to whoever may read it,
# and that read is logged (tests/crews/test_access_log.py): the log is not what it changed.
DOMAIN_MODELS = [m for m in apps.get_models() if m._meta.app_label in ("vessels", "crews") and m is not HealthDataRead]


def stored() -> dict[str, list[tuple]]:
    """Every row of the domain, to show that a refused request changed nothing."""
    return {m._meta.label: list(m._default_manager.order_by("pk").values_list()) for m in DOMAIN_MODELS}


def body_of(response) -> str:
    if response.get("Content-Type", "").startswith("application/vnd.openxml"):
        book = load_workbook(io.BytesIO(response.content))
        return " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    return response.content.decode("utf-8", "replace")


def assert_error_shape(response):
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body


# --- Anonymous ----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_from_every_page(world):
    login = reverse("login")
    client = client_for(None)
    before = stored()
    for route in (r for r in APP_ROUTES if not r.is_api):
        for method in ("get", "post"):
            response = send(client, method, route, world)
            assert response.status_code == 302, (route.name, method, response.status_code)
            assert response["Location"].startswith(login + "?next="), (route.name, method)
    assert stored() == before


def test_anonymous_callers_of_the_api_get_401_in_the_error_shape(world):
    client = client_for(None)
    before = stored()
    for route in (r for r in APP_ROUTES if r.is_api):
        for method in ("get", "post", "put", "patch", "delete"):
            response = send(client, method, route, world)
            assert response.status_code in (401, 403), (route.name, method, response.status_code)
            assert_error_shape(response)
    assert stored() == before


def test_the_admin_site_sends_anonymous_and_non_staff_users_to_its_own_login(world):
    """Every admin URL for anonymous and for the health officer, who holds the most
    view permissions of the roles without staff status; the admin index for the rest."""
    admin_login = reverse("admin:login")
    everywhere = [r for r in ADMIN_ROUTES if r.name not in ("admin:login", "admin:logout")]
    index = [r for r in ADMIN_ROUTES if r.name == "admin:index"]
    for persona in [None, *sorted(EVERYONE - {ADMIN})]:
        client = client_for(world.personas[persona] if persona else None)
        for route in everywhere if persona in (None, HEALTH) else index:
            response = client.get(url_of(route))
            assert response.status_code == 302, (persona, route.name, response.status_code)
            assert response["Location"].startswith(admin_login), (persona, route.name)


def test_public_doors_open_without_login(world):
    client = client_for(None)
    for route in (r for r in ALL_ROUTES if r.name in PUBLIC):
        response = send(client, "post" if route.name in ("logout", "set_language") else "get", route, world)
        # The verification page answers 404 for a token it does not know.
        assert response.status_code in (200, 302, 404), (route.name, response.status_code)
        assert not response.get("Location", "").startswith(reverse("login") + "?next="), route.name
    handover = world.cleared.handovers.get()
    response = client.get(reverse("verify-certificate", args=[certificate_token(handover)]))
    assert response.status_code == 200
    assert world.cleared.vessel.registration in response.content.decode()
    assert world.sailor.full_name not in response.content.decode()


def test_the_public_declaration_form_reads_nothing_it_should_not(world):
    """The form of a wharf reads the wharf and nothing else: no port call, person,
    result or declaration reaches it; a receipt shows its own declaration only."""
    client = client_for(None)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("declare", args=["CP-03"]))
    assert response.status_code == 200
    assert [q["sql"] for q in queries if "vessels_wharf" not in q["sql"]] == []
    assert all(" JOIN " not in q["sql"] for q in queries)
    body = body_of(response)
    for secret in (
        world.cleared.vessel.registration,
        world.case.vessel.registration,
        world.sailor.full_name,
        world.declaration.registration,
        "Đinh Văn Toàn",
    ):
        assert secret not in body, secret
    receipt = client.get(reverse("declaration-receipt", args=[world.receipt]))
    assert receipt.status_code == 200 and "Đinh Văn Toàn" in body_of(receipt)
    assert world.sailor.full_name not in body_of(receipt)
    assert client.get(reverse("declaration-receipt", args=["ABCDEFGHJKLM"])).status_code == 404


# --- Each persona outside each door --------------------------------------------------


def refused(route: Route, door: Door, method: str, persona: str, response) -> bool:
    if door.seen_by is not None:
        allowed = {403} if persona in door.seen_by else {404}
    else:
        allowed = {403, 404} | ({400} if door.named_in_body and method == "post" else set())
    if response.status_code not in allowed:
        return False
    if route.is_api:
        assert_error_shape(response)
    return True


@pytest.mark.parametrize("persona", sorted(EVERYONE))
def test_each_persona_is_refused_every_door_outside_its_scope_or_role(world, persona):
    client = client_for(world.personas[persona])
    holes = []
    for route in APP_ROUTES:
        door = DOORS[route.name]
        for method, served in (("get", door.get), ("post", door.post)):
            if served is None or persona in served:
                continue
            before = stored() if method == "post" else None
            response = send(client, method, route, world, door)
            if not refused(route, door, method, persona, response):
                holes.append((route.name, method, response.status_code))
            elif before is not None and stored() != before:
                holes.append((route.name, method, "changed what is stored"))
    assert holes == []
    # The lists it is served show it its own scope only.
    for route in APP_ROUTES:
        door = DOORS[route.name]
        if door.hides is not None and persona in door.get:
            response = send(client, "get", route, world)
            assert response.status_code == 200, (route.name, response.status_code)
            assert (door.hides(world) in body_of(response)) == (persona in door.shown_to), route.name


def test_the_same_requests_get_through_for_a_persona_each_door_serves(world):
    """The refusals above mean something: each URL, its objects and its request are right.
    Each request is rolled back, so every door finds the world as it was."""
    clients = {persona: client_for(user) for persona, user in world.personas.items()}
    for route in APP_ROUTES:
        door = DOORS[route.name]
        for method, served in (("get", door.get), ("post", door.post)):
            if not served:
                continue
            persona = sorted(served)[0]
            with transaction.atomic():
                response = send(clients[persona], method, route, world, door)
                transaction.set_rollback(True)
            assert response.status_code in (200, 201, 302), (route.name, method, persona, response.status_code)


def test_no_door_writes_on_methods_it_does_not_serve(world):
    """Tried by a persona the door serves, so scope is no reason to stop: the API
    answers 405 in the error shape, and nothing stored changes behind the pages that
    write (the others only read, whatever the method)."""
    clients = {persona: client_for(user) for persona, user in world.personas.items()}
    for route in (r for r in APP_ROUTES if r.is_api or DOORS[r.name].post):
        door = DOORS[route.name]
        client = clients[sorted(door.post or door.get)[0]]
        before = stored()
        for method in ["put", "patch", "delete"] + ([] if door.post else ["post"]):
            response = send(client, method, route, world)
            if route.is_api:
                assert response.status_code == 405, (route.name, method, response.status_code)
                assert_error_shape(response)
            assert response.status_code < 500, (route.name, method, response.status_code)
        assert stored() == before, route.name


# --- Personal health data and the administrator (rule R8) ------------------------------

# Every door that shows a person's results, a case or a contact list (each writes one
# entry in the access log: tests/crews/test_access_log.py), and the log itself.
HEALTH_DATA_DOORS = {
    "port-call",
    "api:port-call",
    "person",
    "station",
    "port-call-certificate",
    "api:tests",
    "approvals",
    "alerts",
    "wharf-alerts",
    "api:alerts",
    "cases",
    "case-contacts-csv",
    "case-contacts-xlsx",
    "staff-case-contacts-csv",
    "staff-case-contacts-xlsx",
    "api:case-contacts",
    "api:people",
    "person-export-json",
    "person-export-csv",
    "api:person-export",
    "access-log",
    "access-log-csv",
    "access-log-xlsx",
}


def test_the_administrator_is_refused_every_door_to_personal_health_data(world):
    """The administrator manages users and reference data (the admin site), not health
    data: every page, endpoint and export that shows results, cases or contacts refuses
    them, as do the admin's pages of those records and the live dashboards' sockets
    (below); and no read of theirs is logged, since nothing was shown."""
    assert not [name for name in HEALTH_DATA_DOORS if ADMIN in (DOORS[name].get or ())]
    assert not [pattern for pattern, (_path, served) in SOCKETS.items() if ADMIN in served]
    administrator = world.personas[ADMIN]
    assert not administrator.is_superuser, "a superuser passes every permission check"
    # The admin site lets them list themselves among a wharf's inspectors or a station's
    # supervisors: that gives no scope to a role that reads no results.
    world.cam_pha.inspectors.add(administrator)
    KcsStation.objects.get(code=STATION["code"]).supervisors.add(administrator)
    client = client_for(administrator)
    opened = {}
    for route in (r for r in APP_ROUTES if r.name in HEALTH_DATA_DOORS):
        status = send(client, "get", route, world).status_code
        if status not in (403, 404):
            opened[route.name] = status
    for label in sorted(roles.HEALTH_DATA):
        model = apps.get_model(label)
        for view, args in (("changelist", []), ("change", [1]), ("add", [])):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
            status = client.get(url).status_code
            if status != 403:
                opened[url] = status
    assert opened == {}
    assert not HealthDataRead.objects.exists()
    # Still the administrator of users and reference data.
    for name in ("auth_user", "vessels_wharf", "vessels_vessel", "crews_kcsstation", "crews_person"):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200, name


# --- Sockets ---------------------------------------------------------------------------

SOCKETS = {
    "ws/wharves/<str:code>/": ("/ws/wharves/CP-03/", AT_CAM_PHA),
    "ws/wharves/mine/": ("/ws/wharves/mine/", frozenset({INSPECTOR, OUTSIDER})),
    "ws/province/": ("/ws/province/", PROVINCE),
}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pattern", sorted(SOCKETS))
async def test_sockets_refuse_anonymous_and_everyone_outside_their_scope(
    pattern, cam_pha, inspector, outsider, supervisor, authority, health
):
    path, served = SOCKETS[pattern]

    def more_personas():
        administrator = make_user("quantri", roles.ADMIN)
        administrator.is_staff = True
        administrator.save(update_fields=["is_staff"])
        cam_pha.inspectors.add(administrator)  # as the admin site lets them: still no scope
        return {
            INSPECTOR: inspector,
            OUTSIDER: outsider,
            SUPERVISOR: supervisor,
            OTHER_SUPERVISOR: make_user("tuan", roles.SUPERVISOR),
            AUTHORITY: authority,
            HEALTH: health,
            ADMIN: administrator,
        }

    personas = await database_sync_to_async(more_personas)()
    anonymous, _connected = await connect(path, ORIGIN)
    assert await close_code(anonymous) == 4401
    await anonymous.disconnect()
    for persona, user in sorted(personas.items()):
        communicator, _connected = await connect(path, await database_sync_to_async(token_header)(user))
        if persona in served:
            assert (await receive_json(communicator))["type"] == "snapshot", persona
        else:
            assert await close_code(communicator) == 4403, persona
        await communicator.disconnect()
