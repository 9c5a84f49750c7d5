"""`make bench`: every benchmark beside its baseline, measured in the same run, on the
production shape (PostgreSQL + Redis). Prints one table and writes bench-results.json.

    python -m tests.bench.run [POSTGRES_SERVER_URL]
"""

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

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
    return "\n".join(lines)


def main() -> int:
    server = (
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    start_django(prepare_database(server))
    from tests.bench import live_delivery, schedule_bench, upload_bench

    rows = schedule_bench.run()
    rows += upload_bench.run()
    rows += live_delivery.run()
    report = {
        "when": datetime.now(UTC).isoformat(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "results": rows,
    }
    print(f"PortGuard benchmarks on {os.cpu_count()} cores (production shape: PostgreSQL + Redis)")
    print(table(rows))
    Path("bench-results.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print("written: bench-results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
