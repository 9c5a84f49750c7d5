"""The feed of recorded results that a lab or the provincial system follows to receive
every change exactly once, corrections included.

A result is never edited (``ScreeningTest.save``): a correction is a new row naming
the one it supersedes. So the feed is the rows themselves, and "updated" means recorded.

Why not order by id or by time: on PostgreSQL two transactions take ids 10 and 11, the
second commits first, a reader hands out 11 and moves its cursor past 10 before 10
commits, and 10 is never handed out. Each row therefore carries the id of the
transaction that wrote it (``change_txid``, assigned by the database), and the feed is
read in rounds of database snapshots. A round hands out, in ``(change_txid, id)`` order
and a page at a time, the rows whose transaction had committed in its snapshot and had
not in the previous round's: a set no later commit can change, so its pages are exact;
the next round starts from a new snapshot. Every committed row is in exactly one round.
A transaction still open when a round starts is simply in a later one: nothing waits
for it and nothing skips it (a long transaction elsewhere on the server does not hold
the feed back, as "only rows older than the oldest open transaction" would).

SQLite runs one write transaction at a time, so its ids follow the commits and the feed
is simply ``id`` order there (``change_txid`` is 0).
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from .models import ScreeningTest
from .scope import visible_tests

TABLE = ScreeningTest._meta.db_table
TXID = f'"{TABLE}"."change_txid"'
SNAPSHOT = re.compile(r"^(\d{1,19}):(\d{1,19}):((?:\d{1,19})(?:,\d{1,19})*)?$")


def valid_snapshot(text: str) -> bool:
    """A PostgreSQL snapshot as ``pg_current_snapshot()::text`` writes it."""
    found = SNAPSHOT.match(text)
    if not found:
        return False
    xmin, xmax = int(found[1]), int(found[2])
    xip = [int(x) for x in found[3].split(",")] if found[3] else []
    return xmin <= xmax < 2**63 and all(xmin <= x < xmax for x in xip)


def _bounds(snapshot: str) -> tuple[int, int]:
    xmin, xmax, _ = snapshot.split(":")
    return int(xmin), int(xmax)


@dataclass(frozen=True)
class Position:
    """Where a reader stands: in the round of snapshot ``current`` (``""``: a round
    still to start), after ``previous``'s rounds, past row ``(txid, id)``."""

    previous: str = ""
    current: str = ""
    txid: int = 0
    id: int = 0


# What a row of the feed holds, read as values (no model instances: the feed is read
# whole by other systems, a hundred thousand rows at a time).
FIELDS = (
    "id",
    "change_txid",
    "person_id",
    "person__id_number",
    "person__full_name",
    "kind",
    "sampled_at",
    "result",
    "result_at",
    "port_call_id",
    "port_call__wharf__code",
    "station__code",
    "wharf__code",
    "kit_lot",
    "pool_id",
    "lab",
    "recorded_by__username",
    "recorded_at",
    "supersedes_id",
    "correction_reason",
)


@dataclass
class Page:
    rows: list[dict]
    next: Position
    more: bool


def read(user, position: Position, limit: int, recorded_after: datetime | None = None) -> Page:
    """One page of the feed of the results ``user`` may see (``visible_tests``),
    recorded after ``recorded_after``, each row a dict of ``FIELDS``: one query (two
    where a round ends within the page)."""
    tests = visible_tests(user).order_by("change_txid", "id")
    if recorded_after is not None:
        tests = tests.filter(recorded_at__gt=recorded_after)
    if connection.vendor != "postgresql":
        found = list(tests.filter(id__gt=position.id).values(*FIELDS)[: limit + 1])
        page = found[:limit]
        last = page[-1]["id"] if page else position.id
        return Page(page, Position(id=last), len(found) > limit)
    page = _round(tests, position, limit)
    if position.current and not page.more and len(page.rows) < limit:
        # The round ended short of a page: fill it from a new round, so that a page
        # shorter than asked means nothing more had committed.
        rest = _round(tests, page.next, limit - len(page.rows))
        page = Page(page.rows + rest.rows, rest.next, rest.more)
    if len(page.rows) == limit:
        page.more = True  # a round may have ended with the page: the next one may hold more
    return page


def _round(tests: QuerySet[ScreeningTest], position: Position, limit: int) -> Page:
    where, params = [], []
    if position.current:
        where.append(f"pg_visible_in_snapshot({TXID}::text::xid8, %s::pg_snapshot)")
        params.append(position.current)
    else:
        # A reader sees its own writes (a GET has none; a test wrapped in a transaction has).
        where.append(
            f"(pg_visible_in_snapshot({TXID}::text::xid8, pg_current_snapshot())"
            f" OR {TXID} = txid_current_if_assigned())"
        )
    if position.previous:
        xmin, _xmax = _bounds(position.previous)
        where.append(f"{TXID} >= %s AND NOT pg_visible_in_snapshot({TXID}::text::xid8, %s::pg_snapshot)")
        params += [xmin, position.previous]
    if position.current:
        where.append(f'({TXID}, "{TABLE}"."id") > (%s, %s)')
        params += [position.txid, position.id]
    found = list(
        tests.extra(select={"feed_snapshot": "pg_current_snapshot()::text", "feed_own": "txid_current_if_assigned()"})
        .extra(where=where, params=params)
        .values(*FIELDS, "feed_snapshot", "feed_own")[: limit + 1]
    )
    page = found[:limit]
    snapshot = position.current or (_as_seen(page[0]["feed_snapshot"], page[0]["feed_own"]) if page else "")
    if len(found) > limit:
        last = page[-1]
        return Page(page, Position(position.previous, snapshot, last["change_txid"], last["id"]), True)
    if not snapshot:  # nothing new: the next round starts from a new snapshot
        return Page(page, Position(position.previous), False)
    # The round is over: the next one hands out what committed after its snapshot.
    return Page(page, Position(snapshot), False)


def _as_seen(snapshot: str, own: int | None) -> str:
    """The snapshot with the reader's own transaction counted as committed, as the
    reader sees its rows."""
    if own is None:
        return snapshot
    xmin, xmax, xip = snapshot.split(":")
    return f"{xmin}:{xmax}:{','.join(x for x in xip.split(',') if x and int(x) != own)}"
