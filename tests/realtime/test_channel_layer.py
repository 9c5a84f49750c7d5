"""The configured channel layer carries a group message: in memory by default, through
Redis when REDIS_URL is set (the production-shape pass). The Redis layer tells a
process's sockets to resynchronise whenever its subscription to Redis breaks."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from redis.asyncio import Redis

from realtime.layers import REFRESH, RESYNC, RedisPubSubChannelLayer
from tests.realtime.servers import PrivateRedis


@pytest.mark.asyncio
async def test_group_message_reaches_a_member_of_the_group():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("wharf.CP-03", channel)
    await layer.group_send("wharf.CP-03", {"type": "test.recorded", "id": 7})
    assert await layer.receive(channel) == {"type": "test.recorded", "id": 7}
    await layer.group_discard("wharf.CP-03", channel)


def test_redis_url_selects_the_redis_pubsub_layer_that_resyncs_sockets():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "realtime.layers.RedisPubSubChannelLayer"
        config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        assert config["hosts"][0]["address"] == settings.REDIS_URL
        assert config["hosts"][0]["socket_connect_timeout"] > 0
    else:
        assert backend == "realtime.layers.InMemoryChannelLayer"


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


async def subscribed_layer(redis: PrivateRedis):
    layer = RedisPubSubChannelLayer(hosts=[{"address": redis.url, "socket_connect_timeout": 3}])
    channel = await layer.new_channel()
    await layer.group_add("wharf.CP-03", channel)
    await layer.group_send("wharf.CP-03", {"type": "dashboard.event", "text": "{}"})
    assert await asyncio.wait_for(layer.receive(channel), 5) == {"type": "dashboard.event", "text": "{}"}
    return layer, channel


async def next_event(layer, channel) -> dict:
    """The next message that is not a resync."""
    while (message := await layer.receive(channel)) == RESYNC:
        pass
    return message


@pytest.mark.asyncio
async def test_a_subscription_dropped_and_restored_at_once_still_resyncs_its_sockets(private_redis):
    layer, channel = await subscribed_layer(private_redis)
    # Redis stays up; only the subscribing connection is cut, and reconnects at once.
    client = Redis.from_url(private_redis.url)
    assert await client.client_kill_filter(_type="pubsub") == 1
    await client.aclose()
    assert await asyncio.wait_for(layer.receive(channel), 5) == RESYNC
    # Events flow again (after a second resync, when the loss was also seen on reading).
    await layer.group_send("wharf.CP-03", {"type": "dashboard.event", "text": "{}"})
    assert await asyncio.wait_for(next_event(layer, channel), 5) == {"type": "dashboard.event", "text": "{}"}
    await layer.flush()


@pytest.mark.asyncio
async def test_redis_going_away_resyncs_the_sockets_at_once(private_redis):
    layer, channel = await subscribed_layer(private_redis)
    await asyncio.to_thread(private_redis.stop)
    assert await asyncio.wait_for(layer.receive(channel), 5) == RESYNC
    await layer.flush()


def shard_of(layer):
    (shard,) = layer._get_layer()._shards
    return shard


async def until(check, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def counted_beats(monkeypatch, shard) -> list[float]:
    """The beats the shard makes from now on, one entry each once it is done."""
    beats, beat = [], shard.beat

    async def counted(timeout):
        await beat(timeout)
        beats.append(timeout)

    monkeypatch.setattr(shard, "beat", counted)
    return beats


@pytest.mark.asyncio
async def test_a_process_gone_silent_makes_the_others_refresh_their_sockets(private_redis, settings, monkeypatch):
    settings.PORTGUARD_PROCESS_HEARTBEAT_MS = 100
    survivor, channel = await subscribed_layer(private_redis)
    doomed, _its_channel = await subscribed_layer(private_redis)
    # The second layer's own check message reached the first one's socket too.
    assert await asyncio.wait_for(survivor.receive(channel), 5) == {"type": "dashboard.event", "text": "{}"}
    await until(lambda: shard_of(doomed).process_id in shard_of(survivor).peers)
    assert shard_of(survivor).process_id in shard_of(doomed).peers
    beats = counted_beats(monkeypatch, shard_of(survivor)), counted_beats(monkeypatch, shard_of(doomed))
    await until(lambda: all(len(b) >= 5 for b in beats))  # a peer that beats is no news
    assert survivor._get_layer().channels[channel].empty()

    # Killed: it stops beating, and its last beat stays behind in Redis.
    shard_of(doomed)._beat_task.cancel()
    shard_of(doomed)._receive_task.cancel()
    assert await asyncio.wait_for(survivor.receive(channel), 5) == REFRESH
    assert shard_of(survivor).peers == set()
    await survivor.group_send("wharf.CP-03", {"type": "dashboard.event", "text": "{}"})
    assert await asyncio.wait_for(survivor.receive(channel), 5) == {"type": "dashboard.event", "text": "{}"}
    await survivor.flush()


@pytest.mark.asyncio
async def test_a_beat_cancelled_mid_command_ends_even_when_redis_py_turns_it_into_an_error(private_redis, monkeypatch):
    layer, _channel = await subscribed_layer(private_redis)
    shard = shard_of(layer)
    started = asyncio.Event()

    async def beat_cut_short(timeout):
        started.set()
        try:
            await asyncio.Event().wait()  # a command waiting on Redis
        except asyncio.CancelledError:
            raise ConnectionError("Connection closed by server.") from None

    shard._beat_task.cancel()  # the real loop goes; one whose command redis-py cuts short comes
    monkeypatch.setattr(shard, "beat", beat_cut_short)
    beating = shard._beat_task = asyncio.ensure_future(shard._beat_forever())
    await started.wait()
    beating.cancel()  # as the event loop's shutdown cancels every task and waits for them
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(beating, 2)
    await layer.flush()
