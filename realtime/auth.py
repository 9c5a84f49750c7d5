"""WebSocket authentication: the session cookie (browsers) or an API token (scripts).

Browsers send cookies with cross-site requests, so a cookie-authenticated socket must
come from one of our own origins (``AllowedHostsOriginValidator``). A token is never
sent by a browser on its own, so a socket that presents ``Authorization: Token <key>``
is authenticated by that token alone, whatever its origin: by the API's own check
(``portguard.tokens.authenticate``), so an unknown, revoked or expired token or an
inactive user is refused here as there.
"""

from channels.auth import AuthMiddleware, get_user
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import SessionMiddlewareStack
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed

from portguard.tokens import KEYWORD, authenticate

from .db import socket_read


@socket_read
def _user_for_token(key: str):
    try:
        return authenticate(key).user
    except AuthenticationFailed:
        return AnonymousUser()


def _token_key(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            keyword, _sep, key = value.decode("latin1").partition(" ")
            if keyword.lower() == KEYWORD.lower() and key.strip():
                return key.strip()
    return None


_user_for_session = socket_read(get_user.func)


class _SessionAuth(AuthMiddleware):
    """Channels' session authentication, reading the session and user off the thread of
    the HTTP views (``realtime.db``)."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await _user_for_session(scope)


class TokenOrSessionAuth:
    def __init__(self, app):
        self.token_app = app
        self.session_app = AllowedHostsOriginValidator(SessionMiddlewareStack(_SessionAuth(app)))

    async def __call__(self, scope, receive, send):
        key = _token_key(scope)
        if key is None:
            return await self.session_app(scope, receive, send)
        scope = dict(scope, user=await _user_for_token(key))
        return await self.token_app(scope, receive, send)
