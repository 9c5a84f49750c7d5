"""Sockets that want the same snapshot at about the same moment share one read of it.

A crowd of dashboards reconnects at once when a daphne process restarts or Redis comes
back. Read one by one, in the single thread that runs Django's sync code in a process,
hundreds of identical snapshots queue up the scope checks of the sockets behind them,
until daphne drops handshakes that were not accepted in time and the crowd comes back.

A socket asks for its snapshot only after joining its groups, so that no event falls
between the two: it may share a read only if that read starts after it asked. So it
joins the next read of its key, which starts as soon as the one under way (if any) ends,
and serves everyone who asked meanwhile.
"""

import asyncio
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable


class SharedReads:
    def __init__(self) -> None:
        self._next: dict[Hashable, asyncio.Future] = {}
        self._locks: defaultdict[Hashable, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, key: Hashable, read: Callable[[], Awaitable[str]]) -> str:
        """The result of a call of ``read`` that started after this call, shared with
        everyone who asks for ``key`` before that read starts."""
        future = self._next.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._next[key] = loop.create_future()
            loop.create_task(self._read(key, future, read))
        # A socket that goes away while waiting must not cancel the others' read.
        return await asyncio.shield(future)

    async def _read(self, key: Hashable, future: asyncio.Future, read: Callable[[], Awaitable[str]]) -> None:
        async with self._locks[key]:
            del self._next[key]  # from now on, askers wait for the read after this one
            try:
                future.set_result(await read())
            except Exception as exc:
                future.set_exception(exc)


# One per event loop: a lock or a future belongs to the loop it was made in.
_per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedReads]" = weakref.WeakKeyDictionary()


def shared_reads() -> SharedReads:
    loop = asyncio.get_running_loop()
    reads = _per_loop.get(loop)
    if reads is None:
        reads = _per_loop[loop] = SharedReads()
    return reads
