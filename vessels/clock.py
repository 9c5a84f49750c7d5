"""The clock: states that change with time alone, announced when they change.

A negative result runs past its validity (rule R1), a KCS staff member's planned test
becomes overdue (rule R3): no write happens, yet what a dashboard shows is no longer
true. The clock computes these states from the data at each tick and sends the
dashboards the ones that changed since the last tick, within a minute (SPEC "Time is an
event"). It also sends the outbox of e-mail alerts (``vessels.mail_outbox``), and once a
day anonymises the people past the retention period (``crews.retention``, under a lease
of its own that a cron line on another host shares).

Exactly one clock ticks across all processes: each tick first takes or renews a lease
(``portguard.lease``); a clock that does not hold it does nothing. When the holder's
process dies, its lease expires and another process's clock takes over, judging the
port calls from far enough back that nothing that changed meanwhile is missed.

It runs as ``manage.py clock`` beside the daphne processes, or inside daphne when the
channel layer is the in-memory one (``portguard.asgi``).
"""

import asyncio
import logging
import os
import secrets
import socket
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crews.models import KcsStation
from crews.retention import run_daily
from portguard.lease import hold, release
from realtime.broadcast import send_event_on_commit
from realtime.snapshot import overdue_staff
from vessels.announce import announce_port_calls
from vessels.mail_outbox import send_due_mails
from vessels.status import call_summary, clearance_for

from .models import PortCall

logger = logging.getLogger(__name__)

LEASE = "clock"


def holder_id() -> str:
    """This process, as the lease names it: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def overdue_by_wharf(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each wharf that has KCS stations, with its staff overdue for a test (rule R3) as
    ``staff.overdue`` lists them; a constant number of queries per station."""
    stations_at: dict[str, list[KcsStation]] = defaultdict(list)
    for station in KcsStation.objects.select_related("wharf").order_by("wharf__code", "code"):
        stations_at[station.wharf.code].append(station)
    return {code: overdue_staff(stations, now) for code, stations in stations_at.items()}


def announce_overdue(wharf_code: str, entries: list[dict[str, Any]]) -> None:
    """Send the wharf's dashboards its overdue staff (an empty list clears theirs)."""
    send_event_on_commit(wharf_code, "staff.overdue", {"wharf": wharf_code, "overdue_staff": entries})


def _shown(call: PortCall, clearance) -> dict[str, Any]:
    """What a dashboard shows of the call, but its version (raised by every announcement)."""
    summary = call_summary(call, clearance)
    del summary["version"]
    return summary


class Clock:
    """One process's clock. ``tick`` does the work if this process holds the lease."""

    def __init__(self, holder: str | None = None):
        self.holder = holder or holder_id()
        # The moment of the last tick this clock did, and the overdue lists it last sent
        # each wharf: None while it does not hold the lease.
        self.previous: datetime | None = None
        self.overdue_sent: dict[str, list[dict[str, Any]]] | None = None
        self.stopped = False
        # A tick runs in a pool thread: ``stop`` waits for one in progress to end, so that
        # no renewal follows the release.
        self._lock = threading.Lock()

    def tick(self, now: datetime | None = None) -> bool:
        """Announce what changed with time up to ``now``. False (and nothing done) when
        another process holds the clock."""
        with self._lock:
            now = now or timezone.now()
            if self.stopped or not hold(LEASE, self.holder, settings.PORTGUARD_CLOCK_LEASE_SECONDS):
                # Another clock ticks meanwhile: start afresh if this one takes over.
                self.previous = self.overdue_sent = None
                return False
            # Taking over from a holder that died: judge from as far back as its last
            # tick may have been, which is no earlier than its lease's length plus a tick.
            previous = self.previous or now - timedelta(
                seconds=settings.PORTGUARD_CLOCK_TICK_SECONDS + settings.PORTGUARD_CLOCK_LEASE_SECONDS
            )
            self._port_calls(previous, now)
            self._overdue_staff(now)
            self.previous = now
            send_due_mails(now)
            self._retention(now)
            return True

    def stop(self) -> None:
        """Tick no more and give the lease up: another process's clock takes it at once."""
        with self._lock:
            self.stopped = True
            release(LEASE, self.holder)

    def _retention(self, now: datetime) -> None:
        """Anonymise the people past the retention period, when a day has passed since
        the last run (by any clock or cron line): a failure is logged, not the tick's."""
        try:
            counts = run_daily(now)
        except Exception:
            logger.exception("Clock: the retention run failed; it is tried again in an hour")
            return
        if counts is not None:
            logger.info("Clock: retention run: %s", counts)

    def _port_calls(self, previous: datetime, now: datetime) -> None:
        """Announce the open port calls whose state at ``now`` differs from their state at
        ``previous``, judged on the same data: what changed with time alone. A constant
        number of queries, whatever the number of calls."""
        calls = list(PortCall.objects.filter(departed_at__isnull=True).select_related("vessel", "wharf"))
        before, after = clearance_for(calls, previous), clearance_for(calls, now)
        changed = [call for call in calls if _shown(call, before[call.pk]) != _shown(call, after[call.pk])]
        if not changed:
            return
        with transaction.atomic():
            announce_port_calls(changed, now)
        for call in changed:
            logger.info("Clock: %s at %s is now %s", call.vessel.registration, call.wharf.code, after[call.pk].status)

    def _overdue_staff(self, now: datetime) -> None:
        """Send each wharf its overdue staff when the list changed since the last one sent
        (every wharf's on a clock's first tick)."""
        sent = self.overdue_sent or {}
        for code, entries in overdue_by_wharf(now).items():
            if self.overdue_sent is not None and sent.get(code) == entries:
                continue
            announce_overdue(code, entries)
            sent[code] = entries
            logger.info("Clock: %d KCS tests overdue at %s", len(entries), code)
        self.overdue_sent = sent


async def run(clock: Clock) -> None:
    """Tick every ``PORTGUARD_CLOCK_TICK_SECONDS`` until cancelled, then give the lease up.
    A failed tick (the database away) is logged and the next one tries again."""
    tick = database_sync_to_async(clock.tick, thread_sensitive=False)
    try:
        while True:
            try:
                await tick()
            except Exception:
                logger.exception("The clock's tick failed; the next one tries again")
            await asyncio.sleep(settings.PORTGUARD_CLOCK_TICK_SECONDS)
    except asyncio.CancelledError:
        try:
            await database_sync_to_async(clock.stop, thread_sensitive=False)()
        except Exception:
            logger.exception("The clock could not give its lease up; it expires by itself")
        raise


async def run_in_process() -> None:
    """The clock of a daphne process that serves the in-memory channel layer: its first
    tick one tick after the process's first request, none before."""
    await asyncio.sleep(settings.PORTGUARD_CLOCK_TICK_SECONDS)
    await run(Clock())
