"""The current state a dashboard starts from, and re-reads after reconnecting."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from crews import schedule
from crews.kit_alerts import short_places
from crews.models import KcsStation
from crews.stations import needs_attention
from vessels.alerts import POSITIVE_ALERTS
from vessels.declarations import declaration_summary, expected_arrivals
from vessels.events import positive_alert_payload
from vessels.models import Alert, PortCall, Wharf
from vessels.scope import visible_port_calls, visible_wharves
from vessels.status import call_summaries


def dashboard_snapshot(
    user, wharf: Wharf | None = None, *, declarations: bool = True, kits: bool = False
) -> dict[str, Any]:
    """Open port calls of one wharf, or of every wharf the user sees, in constant
    queries; a wharf's snapshot adds its overdue KCS staff (a constant number of queries
    per station there) and its expected arrivals (rule R6, four queries), shaped as their
    ``declaration.received`` events. The province view shows neither, so it skips that cost,
    as does the wharf's page (``declarations=False``), which renders its own list of them.

    A socket's snapshot (``kits=True``) adds the wharves and stations short of rapid kits
    now, shaped as their ``kits.short`` events (rule R7; one query, six at most when some
    keep stock); the pages show each place's forecast themselves."""
    wharves = [wharf] if wharf is not None else list(visible_wharves(user))
    calls = list(visible_port_calls(user).filter(wharf__in=wharves, departed_at__isnull=True))
    summaries = call_summaries(calls)
    stations = KcsStation.objects.filter(wharf=wharf).select_related("wharf") if wharf is not None else []
    return {
        "type": "snapshot",
        "wharves": [{"code": w.code, "name": w.name, "locality": w.locality} for w in wharves],
        "port_calls": [summaries[call.pk] for call in calls],
        "overdue_staff": overdue_staff(stations),
        "alerts": open_positive_alerts(calls, wharves),
        "kits_short": short_places(wharves, timezone.localdate()) if kits else [],
        "declarations": (
            [declaration_summary(flags) for flags in expected_arrivals([wharf])]
            if wharf is not None and declarations
            else []
        ),
    }


def open_positive_alerts(calls: list[PortCall], wharves: list[Wharf]) -> list[dict[str, Any]]:
    """The unacknowledged alerts for positives (and positive pools) on these port calls
    and of the KCS staff at these wharves, oldest first, shaped as their
    ``alert.positive`` events: a dashboard that was away when one was sent (a dropped
    socket, a Redis restart) raises it again on reconnecting. One query."""
    alerts = (
        Alert.objects.filter(
            Q(port_call_id__in=[call.pk for call in calls]) | Q(port_call__isnull=True, wharf__in=wharves),
            acknowledged_at__isnull=True,
            kind__in=POSITIVE_ALERTS,
            test__isnull=False,
            closed_at__isnull=True,
        )
        .select_related("wharf", "station", "port_call__vessel", "test__person", "test__station")
        .order_by("created_at", "id")
    )
    return [positive_alert_payload(alert) for alert in alerts]


def overdue_staff(stations: Iterable[KcsStation], now: datetime | None = None) -> list[dict[str, Any]]:
    """One entry per overdue planned test of the stations' staff (rule R3), oldest first:
    the same in snapshots and in ``staff.overdue`` events."""
    now = now or timezone.now()
    entries = []
    for station in stations:
        for entry in needs_attention(station, now):
            if entry.state != schedule.OVERDUE:
                continue
            plan = entry.planned
            entries.append(
                {
                    "id_number": entry.person.id_number,
                    "full_name": entry.person.full_name,
                    "station": station.code,
                    "wharf": station.wharf.code,
                    "kind": plan.kind,
                    "date": plan.date,
                    "shift": plan.shift,
                    "due_by": plan.due_by,
                }
            )
    entries.sort(key=lambda e: (e["due_by"], e["full_name"], e["id_number"]))
    return entries
