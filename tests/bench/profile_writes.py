"""Where a recorded result's time goes: one daphne on the production shape (the bench's
own database, a private Redis, Django's connection pool), CLIENTS clients each posting
CREW negative results to a port call of its own over HTTP, and py-spy sampling the daphne
meanwhile. Prints the throughput, the latencies, the daphne's CPU seconds and the share
of samples under the frames that matter.

    pip install py-spy==0.4.1        # any environment; PY_SPY names the binary
    .venv/bin/python -m tests.bench.profile_writes [POSTGRES_SERVER_URL]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import timedelta

from tests.bench.setup import prepare_database, start_django

CLIENTS, CREW = 20, 30

# (what, frame): the share of samples with this frame on the stack.
FRAMES = [
    ("the whole request (DRF dispatch)", "dispatch (rest_framework/views.py)"),
    ("waiting for PostgreSQL's answers", "wait (psycopg/connection.py)"),
    ("record_test (the domain write)", "_record (crews/results.py)"),
    ("  locking the port call (SELECT … FOR UPDATE)", "lock_port_calls (vessels/scope.py)"),
    ("  clearance of the call after the result", "clearance_for (vessels/status.py)"),
    ("  commit", "commit (psycopg/connection.py)"),
    ("validating the request (the port call's scope)", "is_valid (rest_framework/serializers.py)"),
    ("permission checks (user and group permissions)", "get_all_permissions (portguard/roles.py)"),
    ("the ORM compiling SQL", "as_sql (django/db/models/sql/compiler.py)"),
    ("token authentication", "authenticate (portguard/tokens.py)"),
]


def _scene():
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crews.people import PersonData
    from tests.helpers import token_for
    from vessels.models import Wharf
    from vessels.services import VesselData, register_port_call

    wharf = Wharf.objects.create(code="CP-03", name="Bến Mông Dương", locality="cam_pha")
    user = User.objects.create_user("profile-inspector")
    user.groups.add(Group.objects.get(name="inspector"))
    wharf.inspectors.add(user)
    calls = []
    for c in range(CLIENTS):
        ids = [f"03{c:03d}{i:07d}" for i in range(CREW)]
        call = register_port_call(
            user,
            wharf=wharf,
            vessel=VesselData(registration=f"QN-{7000 + c}", name=f"Hồ sơ {c}"),
            arrived_at=timezone.now() - timedelta(hours=1),
            crew=[PersonData(id_number=n, full_name=f"Trần Văn {c} {i}", role="crew") for i, n in enumerate(ids)],
        )
        calls.append((call.pk, ids, token_for(user)))
    return calls


def shares(raw: str) -> tuple[int, Counter]:
    """Samples in all, and how many had each frame (file and function, no line) on the stack."""
    total, seen = 0, Counter()
    for line in raw.splitlines():
        match = re.match(r"(.*) (\d+)$", line)
        if not match:
            continue
        count = int(match.group(2))
        total += count
        frames = {re.sub(r":\d+\)", ")", frame) for frame in match.group(1).split(";")}
        for frame in frames:
            seen[frame] += count
    return total, seen


def main() -> None:
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy is not installed: pip install py-spy==0.4.1, or name it in PY_SPY")
    server = sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/test"
    start_django(prepare_database(server))
    from django.utils import timezone

    from tests.realtime.servers import Daphne, PrivateRedis, running

    calls = _scene()
    redis = PrivateRedis()
    daphne = Daphne(redis.url, env={"PORTGUARD_API_WRITE_RATE": "1000000/minute", "DB_POOL_MAX_SIZE": "10"})
    latencies: list[float] = []

    def client(call_id: int, ids: list[str], token: str) -> None:
        for id_number in ids:
            payload = {
                "id_number": id_number,
                "kind": "rapid",
                "sampled_at": timezone.now().isoformat(),
                "result": "negative",
                "port_call": call_id,
            }
            request = urllib.request.Request(
                f"{daphne.http}/api/v1/tests/",
                data=json.dumps(payload).encode(),
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 201, response.status
            latencies.append(time.perf_counter() - started)

    with running(redis, daphne), tempfile.TemporaryDirectory() as folder:
        output = f"{folder}/daphne.txt"
        sampler = subprocess.Popen(
            [spy, "record", "--pid", str(daphne.process.pid), "--format", "raw", "--rate", "200"]
            + ["--nonblocking", "--output", output],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=call) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        with open(f"/proc/{daphne.process.pid}/stat") as stat:
            fields = stat.read().split()
        cpu = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        sampler.send_signal(2)
        sampler.wait(timeout=60)
        with open(output) as raw:
            total, seen = shares(raw.read())
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    print(
        f"{len(latencies)} results from {CLIENTS} clients in {elapsed:.1f} s ({len(latencies) / elapsed:.1f}/s); "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
        f"daphne CPU {cpu:.1f} s ({cpu / len(latencies) * 1000:.0f} ms per result); {total} samples"
    )
    for what, frame in FRAMES:
        print(f"{100 * seen[frame] / max(total, 1):5.1f}%  {what}")


if __name__ == "__main__":
    main()
