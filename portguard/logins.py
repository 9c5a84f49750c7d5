"""Login throttling with django-axes: failed log-ins counted in Django's cache, shared by
every process with Redis, and a lock-out answered by the login page itself.

axes' cache handler keys its counts by what settings.AXES_LOCKOUT_PARAMETERS names
(by default the pair of user name and address), so lifting a lock-out by user name alone
(``manage.py axes_reset_username``, the users' admin) cannot find the addresses it was
counted with. ``LoginLockouts`` keeps, beside the counts and for as long, the addresses
each user name failed from and the user names each address tried, and lifts every count
of the name or address it is given.
"""

import logging
import math

from axes.handlers.cache import AxesCacheHandler
from axes.helpers import get_cache, get_cache_timeout, get_client_ip_address, get_client_username, get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _index_key(kind: str, value: str) -> str:
    return f"logins:{kind}:{value}"


class LoginLockouts(AxesCacheHandler):
    def __init__(self):
        """No cache held: it is looked up at each use, so that a test (or a reload of
        the settings) that gives the cache another prefix is followed."""

    @property
    def cache(self):
        return get_cache()

    # While Redis cannot be reached, log-ins are neither counted nor refused (a shift's
    # inspectors can still sign in); the failure is logged.

    def get_failures(self, request, credentials=None) -> int:
        try:
            return super().get_failures(request, credentials)
        except RedisError:
            logger.warning("Login lock-outs not checked: the cache cannot be reached", exc_info=True)
            return 0

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except RedisError:
            logger.warning("Failed log-ins not reset: the cache cannot be reached", exc_info=True)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        try:
            self._count_failure(sender, credentials, request, **kwargs)
        except RedisError:
            logger.warning("A failed log-in was not counted: the cache cannot be reached", exc_info=True)

    def _count_failure(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = get_client_username(request, credentials)
        address = get_client_ip_address(request)
        timeout = get_cache_timeout(request)
        # Read then written: two failures at the same moment may keep one entry of the
        # two, which only matters to a reset by the other one's name or address.
        if username is not None:
            self._remember(_index_key("user", username), address, timeout)
        if address is not None:
            self._remember(_index_key("address", address), username, timeout)

    def _remember(self, key: str, value, timeout) -> None:
        seen = self.cache.get(key, [])
        if value not in seen:
            self.cache.set(key, [*seen, value], timeout=timeout)

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username: bool = False) -> int:
        if ip_address is not None and username is not None:
            return super().reset_attempts(ip_address=ip_address, username=username, ip_or_username=ip_or_username)
        pairs = []
        if username is not None:
            pairs += [(address, username) for address in self.cache.get(_index_key("user", username), [])]
            pairs.append((None, username))
        if ip_address is not None:
            pairs += [(ip_address, name) for name in self.cache.get(_index_key("address", ip_address), [])]
            pairs.append((ip_address, None))
        count = sum(super(LoginLockouts, self).reset_attempts(ip_address=a, username=n) for a, n in pairs)
        if username is not None:
            self.cache.delete(_index_key("user", username))
        if ip_address is not None:
            self.cache.delete(_index_key("address", ip_address))
        return count


def locked_out(request, original_response=None, credentials=None):
    """The login page again, saying why and for how long, answered ``429`` with
    ``Retry-After`` (every further try while locked out starts the wait again)."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds())
    message = _(
        "Too many failed log-ins: logging in as this user from this connection is locked for %(minutes)d "
        "minutes. Try again later, or ask an administrator to lift the lock."
    ) % {"minutes": math.ceil(seconds / 60)}
    context = {
        "form": AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")}),
        "locked_out": message,
        "next": request.POST.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
