"""What a crowd of dashboards costs at channels_redis's pub/sub layer (issue 16): each
socket subscribes a channel of its own and joins its wharf's group, and every subscribe,
unsubscribe and publish of a process's layer goes through one lock per Redis shard.
Subscribes N sockets' channels and groups at once through one layer, as a process does
when a crowd reconnects, and prints how long the lock kept them waiting. Not part of
`make bench` (no floor: the whole is tens of milliseconds); run it beside a Redis of your
own:

    redis-server --port 6470 --save '' --daemonize yes
    .venv/bin/python -m tests.bench.pubsub_lock redis://127.0.0.1:6470/0
"""

import asyncio
import sys
import time

from channels_redis.pubsub import RedisPubSubChannelLayer

WHARVES = 20


async def crowd(url: str, sockets: int) -> str:
    layer = RedisPubSubChannelLayer(hosts=[url])
    await layer.new_channel()  # connected before the crowd

    async def one(i: int) -> float:
        started = time.perf_counter()
        channel = await layer.new_channel()
        await layer.group_add(f"wharf-{i % WHARVES}", channel)
        return time.perf_counter() - started

    started = time.perf_counter()
    took = sorted(await asyncio.gather(*(one(i) for i in range(sockets))))
    total = time.perf_counter() - started
    await layer.flush()
    return (
        f"{sockets} sockets subscribing at once through one layer: {total * 1000:.0f} ms in all; "
        f"each waited p50 {took[sockets // 2] * 1000:.1f} ms, at most {took[-1] * 1000:.1f} ms"
    )


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6470/0"
    for sockets in (252, 504):
        print(asyncio.run(crowd(url, sockets)))


if __name__ == "__main__":
    main()
