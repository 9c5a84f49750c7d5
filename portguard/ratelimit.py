"""A per-address rate limit for the public doors, counted in Django's cache.

Fixed windows aligned on the clock: an address may make ``limit`` requests of one kind
in each window of ``window`` seconds; past that it is told how long to wait. With
several processes the cache must be shared (Redis, see settings.CACHES) for the limit
to hold across them; the embedded default's local-memory cache counts per process.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int  # seconds


def client_address(request) -> str:
    """The caller's address: ``REMOTE_ADDR``, or behind ``PORTGUARD_PROXY_HOPS`` trusted
    proxies the address the outermost of them saw (the others' X-Forwarded-For is
    the caller's to forge)."""
    hops = settings.PORTGUARD_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(limit: Limit, address: str, window_index: int) -> str:
    return f"ratelimit:{limit.scope}:{address}:{window_index}"


def hit(limit: Limit, address: str) -> int | None:
    """Count one request; ``None`` if it may go on, else the seconds to wait."""
    now = time.time()
    index = int(now // limit.window)
    key = _key(limit, address, index)
    try:
        # add() is atomic on every backend: the first request of the window creates the counter.
        cache.add(key, 0, timeout=limit.window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=limit.window + 1)
            count = 1
    except RedisError:
        # Redis away (restarting): the declaration is taken rather than refused.
        logger.warning("Rate limit %s skipped: the cache cannot be reached", limit.scope, exc_info=True)
        return None
    if count <= limit.limit:
        return None
    return max(1, int((index + 1) * limit.window - now + 0.999))


def forget(limit: Limit, address: str) -> None:
    """Start the address's count afresh (for tests, and for an operator who lifts a block)."""
    index = int(time.time() // limit.window)
    cache.delete_many([_key(limit, address, index - 1), _key(limit, address, index)])
