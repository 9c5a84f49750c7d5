"""Sockets that want the same snapshot at about the same moment share one read of it.

A crowd of dashboards reconnects at once when a daphne process restarts or Redis comes
back. Read one by one, in the single thread that runs Django's sync code in a process,
hundreds of identical snapshots queue up the scope checks of the sockets behind them,
until daphne drops handshakes that were not accepted in time and the crowd comes back.

A socket asks for its snapshot only after joining its groups, so that no event falls
between the two: it may share a read only if that read starts after it asked. So it
joins the next read of its key, which starts as soon as the one under way (if any) ends,
and serves everyone who asked meanwhile.

A read is also kept, for sockets that ask later, until anything may have changed what it
shows: every message for one of its groups that reaches this process raises that group's
count of changes (``group_changed``, called by the channel layer before any socket
handles the message), a process that was not listening to a group may have missed its
changes (``listening``), and a refresh or resync of the process's sockets changes
everything (``everything_changed``). A kept read whose groups' counts moved since it
started is read again; so is one older than ``PORTGUARD_SNAPSHOT_KEEP_SECONDS``, for
what changes with no message at all. A crowd of dashboards of 20 wharves then costs 20
reads, not one per socket.
"""

import asyncio
import weakref
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from django.conf import settings

# This process's counts, shared by its event loops: changes seen per group, sockets
# listening per group, and changes of everything.
_changes: Counter[str] = Counter()
_listeners: Counter[str] = Counter()
_epoch = [0]


def group_changed(group: str) -> None:
    _changes[group] += 1


def everything_changed() -> None:
    _epoch[0] += 1


def listening(groups: Iterable[str]) -> None:
    """A socket of this process joined ``groups``."""
    for group in groups:
        if _listeners[group] == 0:
            # Nobody here listened: changes may have come and gone unseen.
            group_changed(group)
        _listeners[group] += 1


def not_listening(groups: Iterable[str]) -> None:
    for group in groups:
        _listeners[group] -= 1
        if _listeners[group] <= 0:
            del _listeners[group]


def _stamp(groups: tuple[str, ...]) -> tuple[int, ...]:
    return (_epoch[0], *(_changes[group] for group in groups))


class SharedReads:
    def __init__(self) -> None:
        self._next: dict[Hashable, asyncio.Future] = {}
        self._locks: defaultdict[Hashable, asyncio.Lock] = defaultdict(asyncio.Lock)
        # key: (the groups' stamp when the read started, the loop's time then, its result)
        self._kept: dict[Hashable, tuple[tuple[int, ...], float, Any]] = {}

    async def get(self, key: Hashable, read: Callable[[], Awaitable[Any]], groups: tuple[str, ...] = ()) -> Any:
        """The result of a call of ``read`` that started after this call, shared with
        everyone who asks for ``key`` before that read starts; or, when ``groups`` are
        given, a kept earlier read of ``key`` that nothing has changed since it started."""
        loop = asyncio.get_running_loop()
        kept = self._kept.get(key)
        if (
            kept is not None
            and kept[0] == _stamp(groups)
            and loop.time() - kept[1] < settings.PORTGUARD_SNAPSHOT_KEEP_SECONDS
        ):
            return kept[2]
        future = self._next.get(key)
        if future is None:
            future = self._next[key] = loop.create_future()
            loop.create_task(self._read(key, future, read, groups))
        # A socket that goes away while waiting must not cancel the others' read.
        return await asyncio.shield(future)

    async def _read(
        self, key: Hashable, future: asyncio.Future, read: Callable[[], Awaitable[Any]], groups: tuple[str, ...]
    ) -> None:
        async with self._locks[key]:
            del self._next[key]  # from now on, askers wait for the read after this one
            stamp, started = _stamp(groups), asyncio.get_running_loop().time()
            try:
                result = await read()
            except Exception as exc:
                self._kept.pop(key, None)
                future.set_exception(exc)
            else:
                if groups:
                    self._kept[key] = (stamp, started, result)
                future.set_result(result)


# One per event loop: a lock or a future belongs to the loop it was made in.
_per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedReads]" = weakref.WeakKeyDictionary()


def shared_reads() -> SharedReads:
    loop = asyncio.get_running_loop()
    reads = _per_loop.get(loop)
    if reads is None:
        reads = _per_loop[loop] = SharedReads()
    return reads
