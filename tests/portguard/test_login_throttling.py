"""Login throttling (django-axes, portguard/logins.py): a user name locked out from an
address after repeated failures, told so in Vietnamese on the login page, lifted by an
administrator; API tokens and sockets are not affected."""

import io
import os
import subprocess
import sys
import uuid

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portguard import roles
from tests.helpers import make_user, token_for
from tests.portguard.test_api_throttling import UNREACHABLE_REDIS
from tests.realtime.helpers import connect, receive_json, token_header

LIMIT = 3
HOME = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LANGUAGE_CODE = "vi"


def log_in(username: str, password: str, address: str = HOME, client: Client | None = None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def lock_out(username: str, address: str = HOME) -> None:
    for _ in range(LIMIT):
        log_in(username, "wrong", address)


def logged_in(response) -> bool:
    return response.status_code == 302 and settings.SESSION_COOKIE_NAME in response.cookies


def test_the_right_password_is_refused_once_locked_out_and_the_page_says_why(inspector):
    for _ in range(LIMIT - 1):
        assert log_in("alice", "wrong").status_code == 200
    response = log_in("alice", "wrong")
    assert response.status_code == 429
    response = log_in("alice", "pw-alice")
    assert not logged_in(response)
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    page = response.content.decode()
    assert "Đăng nhập sai quá nhiều lần" in page
    assert "15 phút" in page
    assert 'name="password"' in page and 'value="alice"' in page  # the login form, not a bare text


def test_a_success_before_the_limit_starts_the_count_again(inspector):
    for _ in range(LIMIT - 1):
        log_in("alice", "wrong")
    assert logged_in(log_in("alice", "pw-alice"))
    for _ in range(LIMIT - 1):
        log_in("alice", "wrong")
    assert logged_in(log_in("alice", "pw-alice"))


def test_the_lock_is_on_the_user_from_that_address_only(inspector, authority):
    """Phones share carrier addresses: a colleague there still logs in."""
    lock_out("alice")
    assert not logged_in(log_in("alice", "pw-alice"))
    assert logged_in(log_in("bob", "pw-bob"))
    assert logged_in(log_in("alice", "pw-alice", ELSEWHERE))


def test_the_command_lifts_a_lock_out_by_user_name(inspector):
    lock_out("alice")
    lock_out("alice", ELSEWHERE)
    out = io.StringIO()
    call_command("axes_reset_username", "alice", stdout=out)
    assert "2 attempts removed" in out.getvalue()
    assert logged_in(log_in("alice", "pw-alice"))
    assert logged_in(log_in("alice", "pw-alice", ELSEWHERE))


def test_the_command_lifts_a_lock_out_by_address(inspector, authority):
    lock_out("alice")
    lock_out("bob")
    call_command("axes_reset_ip", HOME, stdout=io.StringIO())
    assert logged_in(log_in("alice", "pw-alice"))
    assert logged_in(log_in("bob", "pw-bob"))


def test_the_administrator_lifts_a_lock_out_in_the_users_admin(inspector):
    administrator = make_user("it", roles.ADMIN)
    administrator.is_staff = True
    administrator.save()
    lock_out("alice")
    admin = Client()
    admin.force_login(administrator)
    response = admin.post(
        reverse("admin:auth_user_changelist"),
        {"action": "lift_login_lockouts", "_selected_action": [User.objects.get(username="alice").pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert logged_in(log_in("alice", "pw-alice"))


def test_log_ins_go_on_while_the_cache_cannot_be_reached(settings, inspector):
    """Redis away: failures are not counted and nobody is refused for it."""
    settings.CACHES = {"default": {**UNREACHABLE_REDIS}}
    lock_out("alice")
    assert log_in("alice", "wrong").status_code == 200
    assert logged_in(log_in("alice", "pw-alice"))


def test_a_locked_out_users_token_still_works_on_the_api(inspector):
    """Tokens are not passwords: axes' backend is not on their path."""
    lock_out("alice")
    token = token_for(inspector)
    response = Client().get(reverse("api:wharves"), HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=HOME)
    assert response.status_code == 200
    assert [w["code"] for w in response.json()] == ["CP-03"]


def test_wrong_tokens_do_not_lock_out_the_user(inspector):
    for _ in range(LIMIT + 1):
        Client().get(reverse("api:wharves"), HTTP_AUTHORIZATION="Token wrong", REMOTE_ADDR=HOME)
    assert logged_in(log_in("alice", "pw-alice"))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_accept_a_locked_out_users_token(cam_pha, inspector):
    await database_sync_to_async(lock_out)("alice")
    header = await database_sync_to_async(token_header)(inspector)
    communicator, connected = await connect("/ws/wharves/CP-03/", header)
    assert connected
    assert (await receive_json(communicator))["type"] == "snapshot"
    await communicator.disconnect()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the embedded default's cache is one process's memory")
def test_with_redis_a_lock_out_is_seen_and_lifted_by_another_process(settings, db):
    """The counts live in Redis: a lock-out made through this process is lifted by a
    command run as another process, as an administrator on another host would."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": "portguard"}}  # the real prefix
    name = f"throttled-{uuid.uuid4().hex[:8]}"
    User.objects.create_user(name, password="pw-" + name)
    lock_out(name)
    assert not logged_in(log_in(name, "pw-" + name))
    result = subprocess.run(
        [sys.executable, "manage.py", "axes_reset_username", name],
        cwd=settings.BASE_DIR,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "removed" in result.stdout
    assert logged_in(log_in(name, "pw-" + name))
