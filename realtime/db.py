"""A socket's database reads, off the thread that runs the HTTP views.

Under ASGI, Django runs the sync views of a process in one thread, one request after
another, and ``database_sync_to_async`` queues behind them by default. A socket's reads
(who it is, what it may see, its snapshot) share nothing with a request, so they run in
the event loop's thread pool instead: a crowd of dashboards reconnecting after a restart
is served beside a busy write load rather than after it.
"""

from channels.db import database_sync_to_async


def socket_read(func):
    """``database_sync_to_async(func)`` in a pool thread (it closes its connection after)."""
    return database_sync_to_async(func, thread_sensitive=False)
