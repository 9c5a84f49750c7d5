"""What the dashboards receive of results and alerts: the same shapes in live events
and in snapshots. Plain functions of rows already loaded; no queries of their own
beyond the relations the caller selected."""

from typing import Any

from crews.models import ScreeningTest

from .models import Alert


def test_payload(test: ScreeningTest) -> dict[str, Any]:
    """A result as the dashboards receive it: for a port call, or (KCS staff) a station."""
    return {
        "test": {
            "id": test.pk,
            "port_call": test.port_call_id,
            "station": test.station.code if test.station_id else None,
            "id_number": test.person.id_number,
            "full_name": test.person.full_name,
            "kind": test.kind,
            "result": test.result,
            "sampled_at": test.sampled_at,
            "pool_id": test.pool_id,
        }
    }


def positive_alert_payload(alert: Alert) -> dict[str, Any]:
    """A positive's alert (a crew member's, a KCS staff member's, or a whole pool's) as
    the dashboards receive it: live, and in their snapshot until someone acknowledges
    it. ``alert`` comes with its test, the test's person, its wharf, and its port call's
    vessel or its station."""
    return {
        **test_payload(alert.test),
        "vessel": alert.port_call.vessel.registration if alert.port_call_id else "",
        "station": alert.station.code if alert.station_id else None,
        "wharf": alert.wharf.code,
        "alert": alert.pk,
        "kind": alert.kind,
        "message": alert.message,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    """Any alert, as ``alert.raised`` carries it."""
    person = alert.person
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "port_call": alert.port_call_id,
        "vessel": alert.port_call.vessel.registration if alert.port_call_id else "",
        "station": alert.station.code if alert.station_id else None,
        "wharf": alert.wharf.code,
        "id_number": person.id_number if person else "",
        "full_name": person.full_name if person else "",
        "message": alert.message,
        "created_at": alert.created_at,
    }
