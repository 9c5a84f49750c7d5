"""REDIS_SENTINELS and REDIS_SENTINEL_MASTER: the channel layer and the cache find the
master through Redis Sentinel, and values that cannot work stop the start with a message
naming them. (The master killed under traffic: tests/failover/test_redis_sentinel.py.)"""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.failover.servers import MASTER_NAME, RedisNode
from tests.realtime.servers import wait_until


def run(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environment.update(DJANGO_SETTINGS_MODULE="portguard.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_SENTINELS": "10.0.0.5", "REDIS_SENTINEL_MASTER": "portguard"}, "REDIS_SENTINELS must be host:port"),
        ({"REDIS_SENTINELS": "10.0.0.5:26379"}, "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together"),
        (
            {"REDIS_SENTINELS": "10.0.0.5:26379", "REDIS_SENTINEL_MASTER": "portguard", "REDIS_URL": "redis://x/0"},
            "not both",
        ),
    ],
)
def test_sentinel_settings_that_cannot_work_stop_the_start(env, message):
    result = run("import portguard.settings", **env)
    assert result.returncode != 0
    assert message in result.stderr


# In a process started with the sentinel settings: a value through the cache, and an
# event through the channel layer.
USE_BOTH = """
import asyncio, django
django.setup()
from channels.layers import get_channel_layer
from django.core.cache import cache

cache.set("sentinel-test", "through the master")
print(cache.get("sentinel-test"))

async def event():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("wharf.CP-03", channel)
    await layer.group_send("wharf.CP-03", {"type": "dashboard.event", "text": "{}"})
    print((await asyncio.wait_for(layer.receive(channel), 5))["type"])
    await layer.flush()

asyncio.run(event())
"""


def test_the_cache_and_the_channel_layer_reach_the_master_the_sentinel_names(tmp_path):
    master = RedisNode(tmp_path)
    master.start()
    sentinel = RedisNode(tmp_path, f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} 1", sentinel=True)
    try:
        sentinel.start()
        wait_until(lambda: sentinel.client().sentinel_get_master_addr_by_name(MASTER_NAME), what="the sentinel")
        result = run(USE_BOTH, REDIS_SENTINELS=f"127.0.0.1:{sentinel.port}", REDIS_SENTINEL_MASTER=MASTER_NAME)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["through", "the", "master", "dashboard.event"]
        # Both went to the master: the cache's key is there, under PortGuard's prefix.
        assert master.client().keys("portguard:*sentinel-test")
    finally:
        sentinel.stop()
        master.stop()
