"""The access log of reads of personal health data (rule R8): every page, endpoint,
export and live dashboard that shows a person's results or a contact list writes one
entry per answer, through ``record_read``; nothing else writes to it, and nothing
changes or deletes an entry (``crews.models.HealthDataRead``).

A view calls it once it knows it will answer with the data, with the subject it shows::

    record_read(request.user, ReadKind.PERSON, **door_of(request), person=person)

One INSERT, in the request's transaction: a read whose answer fails with it is not kept.
"""

from typing import Any

from django.db.models import QuerySet

from .choices import ReadKind, ReadVia
from .models import HealthDataRead, KcsStation, Person

# A route ending so answers with a file: the read is an export.
_FILE_SUFFIXES = (".csv", ".xlsx", ".pdf", ".json")


def door_of(request, via: ReadVia | None = None) -> dict[str, Any]:
    """The door a request came through, as ``record_read`` takes it: its URL name (with
    its namespace), its method, and whether it is a page, the API or a file export
    (``via`` overrides the guess, e.g. for an export chosen by a query parameter)."""
    match = request.resolver_match
    name = match.view_name if match is not None else request.path
    if via is None:
        if name.startswith("api:") and not (match and match.route.endswith(_FILE_SUFFIXES)):
            via = ReadVia.API
        elif match is not None and match.route.endswith(_FILE_SUFFIXES):
            via = ReadVia.EXPORT
        else:
            via = ReadVia.PAGE
    return {"door": name, "via": via, "method": request.method}


def record_read(
    user,
    kind: ReadKind,
    *,
    door: str,
    via: ReadVia,
    method: str = "GET",
    person: Person | None = None,
    port_call=None,
    station: KcsStation | None = None,
    count: int | None = None,
) -> HealthDataRead:
    """Log that ``user`` was shown personal health data of ``kind`` (one INSERT): of one
    ``person`` (their history, their data export, a case's contact list), one
    ``port_call`` (its screening sheet, certificate or a case on it) or one ``station``
    (its staff's results), or a list (``count`` people named, no subject). ``door``,
    ``via`` and ``method`` say where from: ``**door_of(request)`` for a request."""
    return HealthDataRead.objects.create(
        user=user,
        kind=kind,
        door=door,
        via=via,
        method=method,
        person=person,
        port_call=port_call,
        station=station,
        count=count,
    )


def reads() -> QuerySet[HealthDataRead]:
    """The log, newest first, with what its rows show."""
    return HealthDataRead.objects.select_related("user", "person", "port_call__vessel", "station")
