"""The one way events leave the domain layer: after commit, one frame per commit and group.

Every event a transaction sends (a negative result is ``test.recorded`` and
``port_call.updated``; a positive adds its alerts) travels to each group in one frame: a
JSON list of the events in the order they were sent, each serialised once when it was
sent. A socket then costs the server one write per commit, not one per event. A snapshot
is an object; an event frame is always a list.

If the channel layer fails (Redis down), the write that caused the events stands; the
failure is logged and clients resynchronise from a snapshot when they reconnect.
"""

import json
import logging
from collections.abc import Sequence

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

PROVINCE_GROUP = "province"

# A lab's file of thousands of results commits at once: its events leave in frames of
# at most this many, so that no dashboard has to take one enormous message.
FRAME_EVENTS = 200


def wharf_group(code: str) -> str:
    """Channel-layer group of one wharf's dashboards. Group names allow only ASCII
    letters, digits, hyphens, underscores and periods: wharf codes fit."""
    return f"wharf.{code}"


def send_event_on_commit(wharf_code: str, event_type: str, payload: dict) -> None:
    """Send ``{"type": event_type, **payload}`` to the wharf's and the province's
    dashboards once the current transaction commits (at once outside a transaction),
    in the commit's frame."""
    send_events_on_commit([(wharf_code, event_type, payload)])


def send_events_on_commit(events: Sequence[tuple[str, str, dict]]) -> None:
    """``send_event_on_commit`` for several ``(wharf_code, event_type, payload)``, in order."""
    texts = [
        (wharf_code, json.dumps({"type": event_type, **payload}, cls=DjangoJSONEncoder, ensure_ascii=False))
        for wharf_code, event_type, payload in events
    ]
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _deliver(texts)
        return
    _frame_of(connection).events.extend(texts)


class _Frame:
    """The events of one transaction (or of one savepoint within it), sent on commit."""

    def __init__(self, level: frozenset):
        self.level = level
        self.events: list[tuple[str, str]] = []
        self.sent = False

    def send(self) -> None:
        self.sent = True
        events, self.events = self.events, []
        _give_back_connection()
        _deliver(events)


def _give_back_connection() -> None:
    """With Django's connection pool, give the request's connection back before waiting on
    the channel layer: its transaction has committed, and a publish that waits on a busy
    event loop or an absent Redis must not keep a connection other requests are waiting
    for. A later query of the request borrows one again."""
    connection = transaction.get_connection()
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()


def _frame_of(connection) -> _Frame:
    """The frame this transaction's events gather in, registered with ``on_commit`` by
    the first of them. Events sent inside a savepoint (a write verb called inside
    another's transaction) start a frame of their own, so that rolling the savepoint
    back drops them with it, as Django drops its hooks; so does the next event after
    it, to keep the order. A write verb's transaction sends one frame."""
    frame = connection.__dict__.get("portguard_frame")
    level = frozenset(connection.savepoint_ids)
    if (
        frame is None
        or frame.sent
        or frame.level != level
        # Dropped by a rollback: no longer among the hooks.
        or not any(getattr(hook, "__self__", None) is frame for _, hook, _ in connection.run_on_commit)
    ):
        frame = connection.portguard_frame = _Frame(level)
        transaction.on_commit(frame.send, robust=True)
    return frame


def _deliver(events: list[tuple[str, str]]) -> None:
    """Send ``(wharf_code, event_text)`` pairs, in order: to each wharf's group the
    frames of its own events, to the province's every event."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    by_group: dict[str, list[str]] = {}
    for wharf_code, text in events:
        by_group.setdefault(wharf_group(wharf_code), []).append(text)
        by_group.setdefault(PROVINCE_GROUP, []).append(text)
    frames = [
        (group, "[" + ",".join(texts[start : start + FRAME_EVENTS]) + "]")
        for group, texts in by_group.items()
        for start in range(0, len(texts), FRAME_EVENTS)
    ]

    async def send_all() -> None:
        for group, frame in frames:
            try:
                await layer.group_send(group, {"type": "dashboard.event", "text": frame})
            except Exception:
                # Redis down or slow: the write stands, clients re-read the snapshot on
                # reconnect. The other groups would fail alike, one timeout each.
                logger.exception("Could not broadcast %d events to %s", len(events), group)
                return

    async_to_sync(send_all)()
