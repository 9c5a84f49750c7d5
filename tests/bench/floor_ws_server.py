"""The floor for live delivery: a plain ``websockets`` server that relays every message
of a Redis channel to all its sockets. No Django, no Channels, no auth.

    python -m tests.bench.floor_ws_server PORT REDIS_URL CHANNEL
"""

import asyncio
import sys

from redis.asyncio import Redis
from websockets.asyncio.server import broadcast, serve


async def main(port: int, redis_url: str, channel: str) -> None:
    clients = set()

    async def handler(socket):
        clients.add(socket)
        try:
            await socket.wait_closed()
        finally:
            clients.discard(socket)

    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, max_queue=None):
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(clients, message["data"].decode())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
