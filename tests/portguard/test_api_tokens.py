"""API tokens (portguard/tokens.py): kept as digests, one per device, with an expiry, and
revocable by their owner, an administrator or a command; the API and the sockets apply
the same rules. A stolen token or a lost phone: revoke it, or it expires."""

import importlib
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portguard import roles
from portguard.models import ApiToken
from portguard.tokens import LAST_USED_STEP, digest_of, issue_token
from tests.helpers import make_user
from tests.realtime.helpers import close_code, connect, receive_json

WHARVES = reverse("api:wharves")
SOCKET = "/ws/wharves/CP-03/"


def api_get(secret: str, path: str = WHARVES):
    return Client().get(path, HTTP_AUTHORIZATION=f"Token {secret}")


def assert_refused(response, code: str):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert body["error"] == code and body["message"], body


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def administrator(db):
    user = make_user("quantri", roles.ADMIN)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


# --- Kept as a digest --------------------------------------------------------------------


def test_the_database_keeps_no_usable_secret(inspector):
    token, secret = issue_token(inspector, "Điện thoại Samsung")
    stored = ApiToken.objects.filter(pk=token.pk).values_list().get()
    assert not any(secret in str(value) for value in stored)
    assert token.digest == digest_of(secret) and token.prefix == secret[:8]
    assert api_get(secret).status_code == 200
    for guess in (token.digest, token.prefix, secret[:-1]):
        assert_refused(api_get(guess), "authentication_failed")


# --- Refused alike by the API and the sockets ------------------------------------------------


def revoke_by_administrator(token, administrator):
    response = signed_in(administrator).post(
        reverse("admin:portguard_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
        follow=True,
    )
    assert "Đã thu hồi 1 token." in response.content.decode()
    return administrator


def revoke_by_owner(token, administrator):
    client = signed_in(token.user, enforce_csrf_checks=True)
    csrf = client.get(reverse("profile")).context["csrf_token"]
    url = reverse("profile-token-revoke", args=[token.pk])
    assert client.post(url).status_code == 403, "no CSRF token, no revocation"
    assert client.post(url, {"csrfmiddlewaretoken": csrf}).status_code == 302
    return token.user


def revoke_by_command(token, administrator):
    out = StringIO()
    call_command("revoke_tokens", token.user.username, "--device", token.device, stdout=out)
    assert out.getvalue().startswith("1 token(s) of alice revoked")
    return None


@pytest.mark.parametrize("revoke", [revoke_by_administrator, revoke_by_owner, revoke_by_command])
def test_a_revoked_token_is_refused_and_names_who_revoked_it(inspector, administrator, revoke):
    token, secret = issue_token(inspector, "Điện thoại bị mất")
    _other, kept = issue_token(inspector, "Máy tính bảng")
    assert api_get(secret).status_code == 200

    by = revoke(token, administrator)

    assert_refused(api_get(secret), "token_revoked")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == by
    assert api_get(kept).status_code == 200, "the user's other device keeps working"


def test_an_expired_token_is_refused(inspector, settings):
    settings.PORTGUARD_API_TOKEN_DAYS = 30
    token, secret = issue_token(inspector, "Điện thoại")
    assert token.expires_at == token.created_at + timedelta(days=30)
    with time_machine.travel(token.expires_at - timedelta(minutes=1), tick=False):
        assert api_get(secret).status_code == 200
    with time_machine.travel(token.expires_at, tick=False):
        assert_refused(api_get(secret), "token_expired")


def test_an_inactive_users_token_is_refused(inspector):
    _token, secret = issue_token(inspector, "Điện thoại")
    User.objects.filter(pk=inspector.pk).update(is_active=False)
    assert_refused(api_get(secret), "authentication_failed")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_sockets_accept_the_same_tokens_and_refuse_the_same_ones(cam_pha, inspector, administrator):
    @database_sync_to_async
    def tokens():
        issued = {reason: issue_token(inspector, reason) for reason in ("live", "expired", "revoked")}
        ApiToken.objects.filter(pk=issued["expired"][0].pk).update(expires_at=timezone.now())
        revoke_by_administrator(issued["revoked"][0], administrator)
        other_user = make_user("dung", roles.INSPECTOR, [cam_pha])
        inactive = issue_token(other_user, "Điện thoại")
        User.objects.filter(pk=other_user.pk).update(is_active=False)
        return {reason: secret for reason, (_token, secret) in issued.items()} | {"inactive": inactive[1]}

    secrets = await tokens()
    live, _connected = await connect(SOCKET, (b"authorization", f"Token {secrets.pop('live')}".encode()))
    assert (await receive_json(live))["type"] == "snapshot"
    await live.disconnect()
    for reason, secret in secrets.items():
        communicator, _connected = await connect(SOCKET, (b"authorization", f"Token {secret}".encode()))
        assert await close_code(communicator) == 4401, reason
        await communicator.disconnect()


# --- One token per device ----------------------------------------------------------------


def test_issuing_for_the_same_device_replaces_its_token_and_no_other(inspector):
    _phone, old = issue_token(inspector, "Điện thoại")
    _tablet, tablet = issue_token(inspector, "Máy tính bảng")
    replaced = ApiToken.objects.get(digest=digest_of(old))

    _new_phone, new = issue_token(inspector, "Điện thoại")

    assert_refused(api_get(old), "token_revoked")
    replaced.refresh_from_db()
    assert replaced.revoked_at is not None and replaced.revoked_by is None
    assert api_get(new).status_code == 200
    assert api_get(tablet).status_code == 200
    assert ApiToken.objects.filter(user=inspector, revoked_at__isnull=True).count() == 2


def test_issue_token_prints_a_usable_token_alone_for_the_device_and_days_asked(inspector):
    out = StringIO()
    call_command("issue_token", "alice", "--device", "Hệ thống phòng xét nghiệm", "--days", "3", stdout=out)
    secret = out.getvalue().removesuffix("\n")
    assert "\n" not in secret and " " not in secret
    token = ApiToken.objects.get(digest=digest_of(secret))
    assert (token.user, token.device, token.expires_at - token.created_at) == (
        inspector,
        "Hệ thống phòng xét nghiệm",
        timedelta(days=3),
    )
    assert api_get(secret).status_code == 200


# --- Last use: noted, not written at every request ---------------------------------------------


def writes_to_tokens(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith("UPDATE") and "portguard_apitoken" in q["sql"])


def test_the_last_use_is_written_at_most_once_a_minute(inspector):
    token, secret = issue_token(inspector, "Điện thoại")
    start = timezone.now()
    writes = []
    for moment in (start, start + LAST_USED_STEP - timedelta(seconds=1), start + LAST_USED_STEP):
        with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as queries:
            assert api_get(secret).status_code == 200
        writes.append(writes_to_tokens(queries))
    assert writes == [1, 0, 1], "the first use, none within the minute, one after it"
    token.refresh_from_db()
    assert token.last_used_at == start + LAST_USED_STEP


# --- The owner's profile page ------------------------------------------------------------------


def test_the_profile_lists_the_users_live_tokens_and_no_secret(inspector, authority, django_assert_max_num_queries):
    client = signed_in(inspector)
    issue_token(authority, "Máy của người khác")
    revoked, _secret = issue_token(inspector, "Điện thoại cũ")
    issue_token(inspector, "Điện thoại cũ")  # replaces it
    secrets = []
    for devices in (["Điện thoại 1"], ["Điện thoại 2", "Điện thoại 3", "Máy tính bảng"]):
        secrets += [issue_token(inspector, device)[1] for device in devices]
        with django_assert_max_num_queries(12):
            response = client.get(reverse("profile"))
        html = response.content.decode()
        assert "Token API" in html
    assert html.count('action="/profile/tokens/') == 5
    assert "Máy tính bảng" in html and "Máy của người khác" not in html
    assert f'data-token="{revoked.pk}"' not in html
    assert not any(secret in html or digest_of(secret) in html for secret in secrets)


def test_a_user_cannot_revoke_anothers_token(inspector, authority):
    token, secret = issue_token(authority, "Máy tính")
    client = signed_in(inspector)
    assert client.post(reverse("profile-token-revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("profile-token-revoke", args=[token.pk])).status_code == 405
    assert api_get(secret).status_code == 200


def test_revoking_from_the_profile_says_so_in_vietnamese(inspector):
    token, _secret = issue_token(inspector, "Điện thoại")
    response = signed_in(inspector).post(reverse("profile-token-revoke", args=[token.pk]), follow=True)
    html = response.content.decode()
    assert "Đã thu hồi token của “Điện thoại”" in html
    assert "Bạn chưa có token API nào." in html


# --- The administrator's list -------------------------------------------------------------------


def test_the_admin_lists_tokens_without_their_secrets_in_constant_queries(
    inspector, authority, administrator, django_assert_max_num_queries
):
    client = signed_in(administrator)
    secrets, counts = [], []
    for users in ([inspector], [authority, inspector, authority]):
        secrets += [issue_token(user, f"Thiết bị {len(secrets) + i}")[1] for i, user in enumerate(users)]
        with django_assert_max_num_queries(12) as captured:
            response = client.get(reverse("admin:portguard_apitoken_changelist"))
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    html = response.content.decode()
    assert "Thiết bị 3" in html and "alice" in html and "bob" in html
    assert not any(secret in html or digest_of(secret) in html for secret in secrets)
    token = ApiToken.objects.first()
    change = client.get(reverse("admin:portguard_apitoken_change", args=[token.pk]))
    assert change.status_code == 200 and token.digest not in change.content.decode()
    assert client.get(reverse("admin:portguard_apitoken_add")).status_code == 403


# --- Keys of the old authtoken table ------------------------------------------------------------


def test_old_authtoken_keys_become_digests_and_keep_working(inspector):
    """The data migration, run on a database that still has DRF's table."""
    migration = importlib.import_module("portguard.migrations.0004_authtoken_keys_move_to_api_tokens")
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {migration.OLD_TABLE} (key varchar(40), created timestamp, user_id integer)")
        cursor.execute(f"INSERT INTO {migration.OLD_TABLE} VALUES (%s, '2025-10-30 08:00:00', %s)", [key, inspector.pk])
        migration.move_keys(apps, SimpleNamespace(connection=connection))
        cursor.execute(f"SELECT COUNT(*) FROM {migration.OLD_TABLE}")
        assert cursor.fetchone() == (0,), "the clear keys are erased"
    token = ApiToken.objects.get(user=inspector)
    assert (token.device, token.digest) == ("authtoken", digest_of(key))
    assert api_get(key).status_code == 200
