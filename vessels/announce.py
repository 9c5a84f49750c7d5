"""Telling the dashboards a port call's new state, in commit order."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection

from realtime.broadcast import send_event_on_commit
from vessels.scope import lock_port_calls
from vessels.status import call_summaries, call_summary, clearance_of

from .clearance import CallClearance
from .models import PortCall


def announce_port_call(call: PortCall, clearance: CallClearance | None = None) -> None:
    """Tell the dashboards the call's new state, once the current transaction commits.

    ``clearance`` is the call's state as just written, when the caller already has it
    (read while holding the call's lock).
    """
    bump_versions([call])
    clearance = clearance or clearance_of(call)
    send_event_on_commit(call.wharf.code, "port_call.updated", {"port_call": call_summary(call, clearance)})


def announce_port_calls(calls: Sequence[PortCall], now: datetime | None = None) -> None:
    """``announce_port_call`` for calls whose locks the caller does not hold, in a
    constant number of queries: their rows are held from the version raise on, so
    the state read after it is not older than any announcement with a lower version."""
    # Their locks in id order, as every other writer of several calls takes them, so
    # that two such writers wait for each other rather than deadlock.
    lock_port_calls([c.pk for c in calls])
    bump_versions(calls)
    summaries = call_summaries(calls, now)
    for call in calls:
        send_event_on_commit(call.wharf.code, "port_call.updated", {"port_call": summaries[call.pk]})


def bump_versions(calls: Iterable[PortCall]) -> None:
    """Raise each call's ``version``, in one query. The row stays locked until the
    transaction ends, so versions rise in the order the changes commit; a dashboard
    keeps the highest version it has seen of a call and drops an older update that
    another process happened to publish later. Call inside the write's transaction."""
    by_id = {call.pk: call for call in calls}
    if not by_id:
        return
    table = PortCall._meta.db_table
    marks = ", ".join(["%s"] * len(by_id))
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "version" = "version" + 1 WHERE "id" IN ({marks}) RETURNING "id", "version"',
            list(by_id),
        )
        for pk, version in cursor.fetchall():
            by_id[pk].version = version
