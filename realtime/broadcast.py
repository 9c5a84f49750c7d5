"""The one way events leave the domain layer: after commit, serialised once, to groups.

If the channel layer fails (Redis down), the write that caused the event stands; the
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


def wharf_group(code: str) -> str:
    """Channel-layer group of one wharf's dashboards. Group names allow only ASCII
    letters, digits, hyphens, underscores and periods: wharf codes fit."""
    return f"wharf.{code}"


def send_event_on_commit(wharf_code: str, event_type: str, payload: dict) -> None:
    """Send ``{"type": event_type, **payload}`` to the wharf's and the province's
    dashboards once the current transaction commits (at once outside a transaction)."""
    text = json.dumps({"type": event_type, **payload}, cls=DjangoJSONEncoder, ensure_ascii=False)
    groups = (wharf_group(wharf_code), PROVINCE_GROUP)
    transaction.on_commit(lambda: _send(groups, text), robust=True)


# Above this many events from one write (a lab's file of thousands of results), they
# leave in one trip into the event loop, not one trip each: from a plain thread every
# trip would start an event loop of its own.
BATCH_ABOVE = 50


def send_events_on_commit(events: Sequence[tuple[str, str, dict]]) -> None:
    """``send_event_on_commit`` for several ``(wharf_code, event_type, payload)``, in order."""
    if len(events) <= BATCH_ABOVE:
        for wharf_code, event_type, payload in events:
            send_event_on_commit(wharf_code, event_type, payload)
        return
    batch = [
        (
            (wharf_group(wharf_code), PROVINCE_GROUP),
            json.dumps({"type": event_type, **payload}, cls=DjangoJSONEncoder, ensure_ascii=False),
        )
        for wharf_code, event_type, payload in events
    ]
    transaction.on_commit(lambda: _send_batch(batch), robust=True)


def _send_batch(batch: list[tuple[tuple[str, ...], str]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def deliver() -> None:
        for groups, text in batch:
            for group in groups:
                try:
                    await layer.group_send(group, {"type": "dashboard.event", "text": text})
                except Exception:
                    # As for one event; and the rest would fail alike, one timeout each.
                    logger.exception("Could not broadcast %d events to %s", len(batch), group)
                    return

    async_to_sync(deliver)()


def _send(groups: tuple[str, ...], text: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": "dashboard.event", "text": text})
        except Exception:
            # Redis down or slow: the write stands, clients re-read the snapshot on reconnect.
            logger.exception("Could not broadcast an event to %s", group)
