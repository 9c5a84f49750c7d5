"""API tokens: one per device, kept as a digest, with an expiry, revocable.

A token is ``pgt_`` and 43 random URL-safe characters (256 bits), shown once when it is
issued; the database keeps its SHA-256 and its first characters (to recognise it in a
list), never the token. A secret that random needs no salt or slow hash: the digest is
looked up directly, by a unique index. ``authenticate`` is the one check, used by the API
(``TokenAuthentication``) and by the sockets (realtime/auth.py), so both refuse an
unknown, revoked or expired token and an inactive user alike.

Written by hand rather than with django-rest-knox (5.1): knox hashes and expires tokens,
but reads every token of the user at each request to delete the expired ones (a second
query and a write on the request path, the expired token gone from any list), keeps no
device name or last use, and revokes by deleting, so nobody could see later which
device's token was revoked, when or by whom. What is needed here is the few functions
below.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiToken

KEYWORD = "Token"
DEFAULT_DEVICE = "default"
PREFIX_LENGTH = 8
# A token's last use is written at most this often: not a write per request.
LAST_USED_STEP = timedelta(minutes=1)


class InvalidToken(exceptions.AuthenticationFailed):
    default_detail = _("Invalid token.")


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = _("This token has been revoked: ask an administrator for a new one.")
    default_code = "token_revoked"


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = _("This token has expired: ask an administrator for a new one.")
    default_code = "token_expired"


class InactiveUser(exceptions.AuthenticationFailed):
    default_detail = _("This account is disabled.")


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_days() -> int:
    return settings.PORTGUARD_API_TOKEN_DAYS


def issue_token(
    user, device: str = DEFAULT_DEVICE, *, days: int | None = None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``'s ``device``, valid ``days`` (PORTGUARD_API_TOKEN_DAYS by
    default); the device's previous token is revoked. Returns the stored token and the
    secret, which is kept nowhere: give it to the device now."""
    now = now or timezone.now()
    days = token_days() if days is None else days
    if days < 1:
        raise ValueError("A token is valid for at least one day.")
    secret = "pgt_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        revoke(ApiToken.objects.filter(user=user, device=device), now=now)
        token = ApiToken.objects.create(
            user=user,
            device=device,
            prefix=secret[:PREFIX_LENGTH],
            digest=digest_of(secret),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    return token, secret


def revoke(tokens: QuerySet[ApiToken], *, by=None, now: datetime | None = None) -> int:
    """Revoke the live tokens among ``tokens``, naming who did it (None: replaced by a new
    token, or from the command line). Returns how many were revoked."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=now or timezone.now(), revoked_by=by)


def authenticate(secret: str, now: datetime | None = None) -> ApiToken:
    """The token whose secret this is, with its user, if it may be used now; otherwise
    ``AuthenticationFailed`` (``InvalidToken``, ``TokenRevoked``, ``TokenExpired``,
    ``InactiveUser``). One query, and at most one write a minute to note its last use."""
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(secret)).first()
    if token is None:
        raise InvalidToken
    if token.revoked_at is not None:
        raise TokenRevoked
    if token.expires_at <= now:
        raise TokenExpired
    if not token.user.is_active:
        raise InactiveUser
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <token>`` for the API, checked by ``authenticate``. DRF's
    class gives the header's keyword (and so ``WWW-Authenticate: Token`` on a 401, this
    being REST_FRAMEWORK's first class) and the schema's security scheme; its table of
    clear keys is not used."""

    keyword = KEYWORD

    def authenticate(self, request):
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].lower() != KEYWORD.lower().encode():
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: send “Token” and the token."))
        try:
            secret = words[1].decode()
        except UnicodeError:
            raise InvalidToken from None
        token = authenticate(secret)
        return token.user, token
