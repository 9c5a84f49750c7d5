"""The production shape for benchmarks: a PostgreSQL database of their own and a
private Redis, prepared before Django starts."""

import os
import sys

import psycopg

BENCH_DB = os.environ.get("BENCH_DB", "portguard_bench")


def prepare_database(server_url: str) -> str:
    """(Re)create the bench database on the PostgreSQL server and return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{BENCH_DB}"


def start_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portguard.settings")
    os.environ.pop("REDIS_URL", None)  # each benchmark starts its own private Redis
    # Benchmarks measure throughput, not the API's throttles (portguard/throttling.py):
    # their few users send far more than anyone would by hand.
    os.environ.setdefault("PORTGUARD_API_WRITE_RATE", "1000000/minute")
    os.environ.setdefault("PORTGUARD_API_UPLOAD_RATE", "1000000/minute")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(f"bench database: {database_url}", file=sys.stderr)
