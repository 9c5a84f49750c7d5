"""Leases: work that must run in one process at a time, whatever the number of processes.

A process holds a lease by renewing it before it expires; one that dies stops renewing,
and once the lease has expired any other process takes it. Taking and renewing are one
conditional UPDATE (or, for a lease never held, one INSERT that the primary key makes
unique), so two processes racing for it cannot both win, on SQLite as on PostgreSQL.

Expiry is judged by each process's own clock: the hosts keep their clocks in step (NTP),
and a lease lasts tens of seconds, far longer than any drift between them.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Lease


def hold(name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``seconds`` from now.
    True if ``holder`` holds it now; False if another holder does and its lease has not
    expired."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=seconds)
    renewed = Lease.objects.filter(Q(holder=holder) | Q(expires_at__lt=now), name=name).update(
        holder=holder, expires_at=expires_at
    )
    if renewed:
        return True
    if Lease.objects.filter(name=name).exists():
        return False  # another holder's, not expired
    try:
        # A savepoint inside a caller's transaction: a lost race leaves it usable.
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def release(name: str, holder: str) -> None:
    """Give the lease up, if ``holder`` holds it: another process may take it at once."""
    Lease.objects.filter(name=name, holder=holder).delete()
