"""`make bench`: every benchmark beside its baseline, measured in the same run, on the
production shape (PostgreSQL + Redis). Prints one table and writes bench-results.json.

    python -m tests.bench.run [POSTGRES_SERVER_URL] [--only MODULE[,MODULE…]]

``--only`` (or ``BENCH_ONLY``) runs some of the modules: schedule_bench, forecast_bench,
upload_bench, api_bench, live_delivery, shift_change. ``BENCH_DB`` names the database created on the server (default
portguard_bench). Each module's ``run()`` returns its rows;
a row that carries ``"ok": False`` (a failed check) makes the run exit non-zero, after
the table is printed.
"""

import argparse
import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.core.management import call_command

from tests.bench.setup import prepare_database, start_django


def table(rows: list[dict]) -> str:
    lines = [
        f"{'benchmark':<78} {'p50':>9} {'p95':>9} {'floor p50':>10} {'floor p95':>10} {'ratio':>6}",
    ]
    for row in rows:
        if "p95" in row:
            lines.append(
                f"{row['name']:<78} {row['p50']:>7}ms {row['p95']:>7}ms {row['baseline_p50']:>8}ms "
                f"{row['baseline_p95']:>8}ms {row['ratio_p95']:>5}x"
            )
            if row["baseline"] != row["name"]:
                lines.append(f"    floor: {row['baseline']}")
        else:
            lines.append(f"{row['name']:<78} {row['value']:>7}{row['unit']}")
        if row.get("ok") is False:
            lines.append("    ^ FAILED")
    return "\n".join(lines)


MODULES = ("schedule_bench", "forecast_bench", "upload_bench", "api_bench", "live_delivery", "shift_change")


def arguments(argv: list[str]) -> tuple[str, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run")
    parser.add_argument(
        "server", nargs="?", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated module names")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()] or list(MODULES)
    unknown = sorted(set(only) - set(MODULES))
    if unknown:
        parser.error(f"unknown benchmark module(s): {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    return args.server, only


def main() -> int:
    server, only = arguments(sys.argv[1:])
    start_django(prepare_database(server))
    rows = []
    for index, name in enumerate(only):
        if index:
            # Each module's scene assumes it is alone (the sync counts every result, the
            # province's dashboards show every open call): start each from an empty
            # database, as `--only` runs them. Flushing keeps the roles (post_migrate).
            call_command("flush", interactive=False, verbosity=0)
        rows += importlib.import_module(f"tests.bench.{name}").run()
    failures = [row["name"] for row in rows if row.get("ok") is False]
    report = {
        "modules": only,
        "failures": failures,
        "when": datetime.now(UTC).isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "results": rows,
    }
    print(f"PortGuard benchmarks on {os.cpu_count()} cores (production shape: PostgreSQL + Redis)")
    print(table(rows))
    Path("bench-results.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print("written: bench-results.json")
    if failures:
        print("BENCHMARK CHECKS FAILED:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
