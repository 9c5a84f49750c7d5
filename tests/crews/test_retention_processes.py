"""Retention across hosts: two ``manage.py anonymise_personal_data`` processes started at
once on the same database (two cron lines on two hosts) do the work once; the other
says it skipped."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from crews.models import Person
from tests.crews.test_retention import NOW, build_world
from tests.realtime.servers import test_database_env as database_env

pytestmark = pytest.mark.django_db(transaction=True)


def start(log_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.update(database_env())
    env.setdefault("SECRET_KEY", "test-only")
    with open(log_path, "w") as out, open(f"{log_path}.err", "w") as err:
        return subprocess.Popen(
            [sys.executable, "manage.py", "anonymise_personal_data", "--now", NOW.isoformat()],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=err,
        )


def test_two_processes_started_at_once_anonymise_once(
    tmp_path, make_call, record, cam_pha, inspector, authority, supervisor
):
    world = build_world(make_call, record, cam_pha, inspector, authority, supervisor)
    processes = [start(tmp_path / f"{n}.log") for n in (1, 2)]
    for process in processes:
        assert process.wait(timeout=120) == 0, [(tmp_path / f"{n}.log.err").read_text() for n in (1, 2)]
    outputs = sorted((tmp_path / f"{n}.log").read_text() for n in (1, 2))
    assert outputs[0].startswith("Anonymised past 180 days: people: 3, declarations: 1"), outputs
    assert outputs[1].startswith("Skipped: already run or running"), outputs
    assert set(Person.objects.filter(anonymised_at__isnull=False)) == set(world.due)
