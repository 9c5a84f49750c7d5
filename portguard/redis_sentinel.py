"""Django's Redis cache, reaching the master that Redis Sentinel names.

Django's ``RedisCache`` takes server URLs only. With ``REDIS_SENTINELS`` the cache asks
the sentinels for the current master (redis-py's ``SentinelConnectionPool``, the same
machinery channels_redis uses for the channel layer): a connection that breaks because
the master died connects again to whichever server the sentinels promoted. Every read
and write goes to the master; a replica is there to take over, not to be read from (a
throttle counted on a replica would lag behind its writes).

``LOCATION`` is the master's name as the sentinels know it; ``OPTIONS`` holds
``sentinels`` (a list of ``(host, port)``), optionally ``sentinel_kwargs`` for the
connections to the sentinels themselves (by default the same timeouts as the master's),
and the usual connection options.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.sentinel import Sentinel, SentinelConnectionPool

TIMEOUTS = ("socket_connect_timeout", "socket_timeout")


class SentinelRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, sentinels, sentinel_kwargs=None, **options):
        super().__init__(servers, **options)
        (self._master_name,) = servers
        if sentinel_kwargs is None:
            # A sentinel that does not answer must not hold a request longer than the master would.
            sentinel_kwargs = {name: options[name] for name in TIMEOUTS if name in options}
        self._sentinel = Sentinel([tuple(address) for address in sentinels], sentinel_kwargs=sentinel_kwargs)

    def _get_connection_pool(self, write):
        if 0 not in self._pools:
            self._pools[0] = SentinelConnectionPool(self._master_name, self._sentinel, **self._pool_options)
        return self._pools[0]


class SentinelRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SentinelRedisCacheClient
