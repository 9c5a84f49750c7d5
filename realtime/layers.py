"""The channel layer of several processes: channels_redis's pub/sub layer, which does not
tell anyone when it lost Redis.

Redis keeps no pub/sub message for a subscriber that is not connected, and channels_redis
quietly subscribes again once Redis is back: the events published meanwhile are lost,
and a dashboard that kept its socket would show stale data without knowing it. So when
a process's subscription to Redis breaks, and again when it is restored, every socket
of that process is sent ``dashboard.resync``; its consumer closes it, and the dashboard
reconnects and re-reads its snapshot (SPEC §4).

A process killed between a commit and its publish loses that event for everyone, and
no subscription breaks to say so. So each process also beats in Redis (a sorted set of
process ids by the time of their last beat) and watches the others: when one it has
seen goes silent for three beats, every socket of this process is sent
``dashboard.refresh``, and its consumer sends it a fresh snapshot on the same socket.
"""

import asyncio
import logging
import uuid

from channels import layers
from channels_redis import pubsub
from django.conf import settings
from redis.asyncio.client import PubSub

from .shared import everything_changed, group_changed

logger = logging.getLogger(__name__)

RESYNC = {"type": "dashboard.resync"}
REFRESH = {"type": "dashboard.refresh"}
BEATS_BEFORE_DEAD = 3


def _reraise_if_cancelled(error: Exception) -> None:
    """redis-py may turn a cancellation that lands mid-command into an error of its own.
    A loop that caught it and went on would never end: the event loop's shutdown, which
    cancels every task and waits for them, would then wait for ever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error


class InMemoryChannelLayer(layers.InMemoryChannelLayer):
    """The embedded default's layer, one process: a group's message first tells this
    process's kept snapshots (``realtime.shared``) that the group changed."""

    async def group_send(self, group, message):
        group_changed(group)
        await super().group_send(group, message)


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
    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self.process_id = uuid.uuid4().hex
        self.peers: set[str] = set()  # the other processes alive at the last beat
        self._beat_task = None

    def _ensure_receiver(self):
        super()._ensure_receiver()
        if self._beat_task is None:
            self._beat_task = asyncio.ensure_future(self._beat_forever())

    async def flush(self):
        if self._beat_task is not None:
            self._beat_task.cancel()
            self._beat_task = None
        await super().flush()

    async def _beat_forever(self):
        interval = settings.PORTGUARD_PROCESS_HEARTBEAT_MS / 1000
        while True:
            try:
                # Shielded: a cancellation then always reaches this loop as one, even
                # when redis-py swallows it inside the command (the beat itself just ends).
                await asyncio.shield(self.beat(interval * BEATS_BEFORE_DEAD))
            except Exception as error:
                _reraise_if_cancelled(error)
                # Redis away: the subscription's own loop resynchronises the sockets and
                # logs the loss; one line per missed beat is enough here.
                logger.warning("Could not beat in Redis: %s", error)
            await asyncio.sleep(interval)

    async def beat(self, timeout: float) -> None:
        """Say this process is alive and see who else is; if a process seen at the last
        beat has been silent for ``timeout`` seconds, refresh this process's sockets."""
        key = f"{self.channel_layer.prefix}:processes"
        seconds, micro = await self._redis.time()  # one clock for every host
        now = seconds + micro / 1_000_000
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {self.process_id: now})
            pipe.zremrangebyscore(key, "-inf", now - max(60, 10 * timeout))
            pipe.zrangebyscore(key, now - timeout, "+inf")
            *_done, alive = await pipe.execute()
        alive = {name.decode() if isinstance(name, bytes) else name for name in alive} - {self.process_id}
        gone = self.peers - alive
        self.peers = alive
        if gone:
            logger.warning("Process %s went silent; refreshing this process's dashboards", ", ".join(sorted(gone)))
            self._tell_sockets(REFRESH)

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
            except Exception as error:
                _reraise_if_cancelled(error)
                logger.exception("Lost the subscription to Redis; resynchronising this process's sockets")
                self.resync_sockets()
                await asyncio.sleep(1)

    def _receive_message(self, message):
        # A group's message tells this process's kept snapshots (``realtime.shared``)
        # that the group changed, before any socket handles it.
        if message is not None:
            name = message["channel"]
            name = name.decode() if isinstance(name, bytes) else name
            _, grouped, group = name.partition("__group__")
            if grouped:
                group_changed(group)
        super()._receive_message(message)

    def resync_sockets(self) -> None:
        """Tell every consumer of this process whose subscription was in place that
        events may have been lost. A consumer subscribing right now (its subscription
        is what reconnected) has lost nothing yet."""
        self._tell_sockets(RESYNC)

    def _tell_sockets(self, message: dict) -> None:
        everything_changed()  # no kept snapshot may be given to anyone now
        layer = self.channel_layer
        data = layer.channel_layer.serialize(message)
        for name, queue in layer.channels.items():
            if name in self._subscribed_to:
                queue.put_nowait(data)
