"""Check that PostgreSQL and Redis answer: ``python -m portguard.services_check DB_URL REDIS_URL``.

Exits 0 when both answer, 1 (with the reason on stderr) when either does not. The test
run uses it to decide whether the production-shape pass can run.
"""

import asyncio
import sys

import psycopg
from redis.asyncio import Redis


async def _ping_redis(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    finally:
        await client.aclose()


def main(database_url: str, redis_url: str) -> int:
    try:
        psycopg.connect(database_url, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(f"PostgreSQL at {database_url} does not answer: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(_ping_redis(redis_url))
    except Exception as exc:  # any failure to reach Redis means the same thing here
        print(f"Redis at {redis_url} does not answer: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
