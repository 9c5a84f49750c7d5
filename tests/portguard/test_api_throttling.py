"""API throttling (portguard/throttling.py): writes and uploads per user, answered 429
with Retry-After in the API's error shape; reads and other users unaffected, and a
shift change's normal use well under the default rates."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crews.models import ScreeningTest
from portguard.ratelimit import Limit, hit
from tests.helpers import ARRIVAL, client_for, people_of

# Nothing listens on port 1: every cache call fails at once.
UNREACHABLE_REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}


@pytest.fixture(autouse=True)
def in_vietnamese(settings):
    settings.LANGUAGE_CODE = "vi"


def post_result(client, call, person, result: str = "negative"):
    payload = {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": (call.arrived_at + timedelta(hours=1)).isoformat(),
        "result": result,
        "port_call": call.pk,
        "client_uuid": str(uuid.uuid4()),
    }
    return client.post(reverse("api:tests"), payload, format="json")


def crew_upload(name: str):
    text = f"full_name,role,id_number\n{name},crew,0312{uuid.uuid4().int % 10**5:05d}\n"
    return {"file": SimpleUploadedFile("crew.csv", text.encode(), content_type="text/csv")}


def test_writes_over_the_rate_are_answered_429_with_retry_after_in_the_error_shape(settings, make_call, inspector):
    settings.PORTGUARD_API_WRITE_RATE = "3/minute"
    call = make_call(crew=4)
    api = client_for(inspector)
    people = people_of(call)
    assert [post_result(api, call, p).status_code for p in people[:3]] == [201, 201, 201]
    refused = post_result(api, call, people[3])
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["error"] == "rate_limited"
    assert body["message"] == f"Quá nhiều yêu cầu: hãy thử lại sau {refused['Retry-After']} giây."
    assert ScreeningTest.objects.count() == 3


def test_reads_and_other_users_are_not_held_by_a_users_write_limit(settings, make_call, inspector, health):
    settings.PORTGUARD_API_WRITE_RATE = "1/minute"
    call = make_call(crew=2)
    api = client_for(inspector)
    first, second = people_of(call)
    assert post_result(api, call, first).status_code == 201
    assert post_result(api, call, second).status_code == 429
    for _ in range(20):
        assert api.get(reverse("api:port-call", args=[call.pk])).status_code == 200
    assert post_result(client_for(health), call, second).status_code == 201


def test_uploads_have_a_rate_of_their_own(settings, make_call, inspector):
    settings.PORTGUARD_API_UPLOAD_RATE = "2/hour"
    call = make_call(crew=1)
    api = client_for(inspector)
    url = reverse("api:crew-upload", args=[call.pk])
    assert api.post(url, crew_upload("Vũ Văn Nam")).status_code == 201
    assert api.post(url, crew_upload("Đỗ Văn Bình")).status_code == 201
    refused = api.post(url, crew_upload("Lê Văn Cường"))
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert int(refused["Retry-After"]) > 60
    # Other writes go on.
    assert post_result(api, call, people_of(call)[0]).status_code == 201


@time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False)
def test_a_shift_change_stays_under_the_default_rates(make_call, inspector, authority):
    """An inspector screens two crews of 40 by hand as fast as the API answers, uploads
    their crew lists, and the port authority approves both: nothing is throttled."""
    api = client_for(inspector)
    calls = [make_call(crew=40), make_call(crew=40)]
    answers = []
    for call in calls:
        answers.append(api.post(reverse("api:crew-upload", args=[call.pk]), crew_upload("Vũ Văn Nam")).status_code)
        answers += [post_result(api, call, p).status_code for p in people_of(call)]
        answers.append(client_for(authority).post(reverse("api:handover", args=[call.pk])).status_code)
    assert 429 not in answers
    assert answers.count(201) == len(answers)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the embedded default's cache is one process's memory")
def test_with_redis_the_count_is_shared_by_every_process(settings, make_call, inspector):
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "portguard"}}  # the real prefix
    settings.PORTGUARD_API_WRITE_RATE = "2/minute"
    call = make_call(crew=2)
    api = client_for(inspector)
    for person in people_of(call):
        assert post_result(api, call, person).status_code == 201
    read = f"from django.core.cache import cache; print(len(cache.get('throttle_writes_user-{inspector.pk}') or []))"
    other = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", read],
        cwd=settings.BASE_DIR,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    cache.delete(f"throttle_writes_user-{inspector.pk}")
    assert other.stdout.split()[-1] == "2", other.stdout + other.stderr


def test_writes_go_through_while_the_cache_cannot_be_reached(settings, make_call, inspector):
    """Redis restarting never costs a result at the berth: the limit steps aside."""
    settings.CACHES = {"default": {**UNREACHABLE_REDIS}}
    settings.PORTGUARD_API_WRITE_RATE = "1/minute"
    call = make_call(crew=2)
    api = client_for(inspector)
    assert [post_result(api, call, p).status_code for p in people_of(call)] == [201, 201]


def test_the_public_doors_rate_limit_steps_aside_too(settings):
    settings.CACHES = {"default": {**UNREACHABLE_REDIS}}
    limit = Limit("declarations", limit=1, window=600)
    assert [hit(limit, "10.0.0.1") for _ in range(3)] == [None, None, None]
