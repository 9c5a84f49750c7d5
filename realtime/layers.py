"""The channel layer of several processes: channels_redis's pub/sub layer, which does not
tell anyone when it lost Redis.

Redis keeps no pub/sub message for a subscriber that is not connected, and channels_redis
quietly subscribes again once Redis is back: the events published meanwhile are lost,
and a dashboard that kept its socket would show stale data without knowing it. So when
a process's subscription to Redis breaks, and again when it is restored, every socket
of that process is sent ``dashboard.resync``; its consumer closes it, and the dashboard
reconnects and re-reads its snapshot (SPEC §4).
"""

import asyncio
import logging

from channels_redis import pubsub
from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

RESYNC = {"type": "dashboard.resync"}


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    def _get_layer(self):
        layer = super()._get_layer()
        if not getattr(layer, "resyncs_sockets", False):
            # A loop's layer is new here and has not connected yet: swap its shards.
            layer._shards = [_ResyncingShard(shard.host, layer) for shard in layer._shards]
            layer.resyncs_sockets = True
        return layer


class _ReconnectWatchingPubSub(PubSub):
    """redis-py calls ``on_connect`` on every reconnection of a subscribed connection
    (never on the first one), to subscribe again: the moment to call ``on_reconnect``."""

    def __init__(self, *args, on_reconnect, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_reconnect = on_reconnect

    async def on_connect(self, connection):
        await super().on_connect(connection)
        self.on_reconnect()


class _ResyncingShard(pubsub.RedisSingleShardConnection):
    def _ensure_redis(self):
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = _ReconnectWatchingPubSub(
                self._redis.connection_pool,
                event_dispatcher=self._redis._event_dispatcher,
                on_reconnect=self.resync_sockets,
            )

    async def _do_receiving(self):
        # channels_redis's loop, which also resynchronises the sockets when reading fails.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except TimeoutError:
                raise  # as channels_redis does; cancellation is no Exception either
            except Exception:
                logger.exception("Lost the subscription to Redis; resynchronising this process's sockets")
                self.resync_sockets()
                await asyncio.sleep(1)

    def resync_sockets(self) -> None:
        """Tell every consumer of this process whose subscription was in place that
        events may have been lost. A consumer subscribing right now (its subscription
        is what reconnected) has lost nothing yet."""
        layer = self.channel_layer
        message = layer.channel_layer.serialize(RESYNC)
        for name, queue in layer.channels.items():
            if name in self._subscribed_to:
                queue.put_nowait(message)
