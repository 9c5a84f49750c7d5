"""The configured channel layer carries a group message: in memory by default, through
Redis when REDIS_URL is set (the production-shape pass)."""

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


@pytest.mark.asyncio
async def test_group_message_reaches_a_member_of_the_group():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("wharf.CP-03", channel)
    await layer.group_send("wharf.CP-03", {"type": "test.recorded", "id": 7})
    assert await layer.receive(channel) == {"type": "test.recorded", "id": 7}
    await layer.group_discard("wharf.CP-03", channel)


def test_redis_url_selects_the_redis_pubsub_layer():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "channels_redis.pubsub.RedisPubSubChannelLayer"
        config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
        assert config["hosts"][0]["address"] == settings.REDIS_URL
        assert config["hosts"][0]["socket_connect_timeout"] > 0
    else:
        assert backend == "channels.layers.InMemoryChannelLayer"
