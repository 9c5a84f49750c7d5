"""The list of port calls, past and present, as a user may filter it: by wharf, status,
arrival dates and epidemic-area origin (rule R4), newest first, within the user's scope.

Every filter is a condition of one query, whatever the number of calls, except the
status of a call still berthed: that is rule R1's verdict, computed by
``clearance_for`` over the calls still berthed that the other filters keep (a wharf
holds a few at a time, however long the history), in its constant number of queries.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .choices import PortCallStatus
from .clearance import CallClearance, place_name
from .models import EpidemicArea, PortCall, Wharf
from .scope import visible_port_calls
from .status import clearance_for, flagged_origins


@dataclass(frozen=True)
class CallFilter:
    """What the list is narrowed to; ``None`` (or empty) keeps every call."""

    wharf: Wharf | None = None
    status: str = ""
    arrived_from: date | None = None
    arrived_to: date | None = None  # inclusive
    epidemic_origin: bool | None = None


@dataclass
class ListedCall:
    """A call as the list and its export show it."""

    call: PortCall
    status: str
    origin_flagged: bool

    @property
    def status_label(self) -> str:
        return PortCallStatus(self.status).label


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _word(name: str) -> str:
    """A regular expression for ``name`` as a whole word of a folded origin, understood
    alike by PostgreSQL and by the function Django gives SQLite."""
    return rf"(^|[^a-z0-9]){re.escape(name)}([^a-z0-9]|$)"


def epidemic_origin_condition() -> Q:
    """Rule R4 as a condition on port calls: the folded origin names an epidemic area
    as a whole word, and the call arrived on a day the area was active. One query (the
    areas, a short list); a condition that holds for no call when there is none."""
    condition = Q(pk__in=[])
    for area in EpidemicArea.objects.all():
        name = place_name(area.district or area.province)
        if not name:
            continue
        during = Q(arrived_at__gte=_local_midnight(area.active_from))
        if area.active_to is not None:
            during &= Q(arrived_at__lt=_local_midnight(area.active_to + timedelta(days=1)))
        condition |= Q(origin_folded__regex=_word(name)) & during
    return condition


def filtered_calls(user, wanted: CallFilter, now: datetime | None = None) -> QuerySet[PortCall]:
    """The calls ``user`` sees that match ``wanted``, newest arrival first."""
    calls = visible_port_calls(user).order_by("-arrived_at", "-pk")
    if wanted.wharf is not None:
        calls = calls.filter(wharf=wanted.wharf)
    if wanted.arrived_from is not None:
        calls = calls.filter(arrived_at__gte=_local_midnight(wanted.arrived_from))
    if wanted.arrived_to is not None:
        calls = calls.filter(arrived_at__lt=_local_midnight(wanted.arrived_to + timedelta(days=1)))
    if wanted.epidemic_origin is not None:
        condition = epidemic_origin_condition()
        calls = calls.filter(condition) if wanted.epidemic_origin else calls.exclude(condition)
    if wanted.status == PortCallStatus.DEPARTED:
        calls = calls.filter(departed_at__isnull=False)
    elif wanted.status:
        berthed = list(calls.filter(departed_at__isnull=True))
        verdicts = clearance_for(berthed, now)
        calls = calls.filter(pk__in=[pk for pk, c in verdicts.items() if c.status == wanted.status])
    return calls


def listed(calls: list[PortCall], now: datetime | None = None) -> list[ListedCall]:
    """The rows of one page (or of an export): each call's status and origin flag, in a
    constant number of queries; a departed call's status needs none of rule R1."""
    now = now or timezone.now()
    berthed = [c for c in calls if c.departed_at is None]
    verdicts: dict[int, CallClearance] = clearance_for(berthed, now) if berthed else {}
    flagged = flagged_origins(calls)
    return [
        ListedCall(
            call,
            PortCallStatus.DEPARTED if call.departed_at is not None else verdicts[call.pk].status,
            call.pk in flagged,
        )
        for call in calls
    ]


EXPORT_COLUMNS = (
    "registration",
    "vessel",
    "wharf",
    "wharf_name",
    "arrived_at",
    "departed_at",
    "origin",
    "epidemic_origin",
    "status",
)


def export_rows(rows: list[ListedCall]) -> list[dict[str, str]]:
    """The rows as the CSV and XLSX files hold them (``EXPORT_COLUMNS``): text, times
    local in ISO 8601, the status by its code."""
    tz = ZoneInfo(settings.TIME_ZONE)
    return [
        {
            "registration": row.call.vessel.registration,
            "vessel": row.call.vessel.name,
            "wharf": row.call.wharf.code,
            "wharf_name": row.call.wharf.name,
            "arrived_at": row.call.arrived_at.astimezone(tz).isoformat(timespec="minutes"),
            "departed_at": row.call.departed_at.astimezone(tz).isoformat(timespec="minutes")
            if row.call.departed_at
            else "",
            "origin": row.call.origin,
            "epidemic_origin": "yes" if row.origin_flagged else "no",
            "status": row.status,
        }
        for row in rows
    ]
