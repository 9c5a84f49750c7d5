"""API throttling: writes and uploads counted per user in Django's cache (shared by every
process with Redis), reads left alone.

A caller over the rate is answered ``429`` with ``Retry-After`` in the API's error shape
(portguard/api.py). The rates come from the settings, read at each request, as
``<number>/<second|minute|hour|day>``. While Redis cannot be reached the writes go
through unthrottled: a result at the berth matters more than the limit.
"""

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from .ratelimit import client_address

logger = logging.getLogger(__name__)


class WriteThrottle(SimpleRateThrottle):
    """Every POST, PUT, PATCH and DELETE of a user (of an address before one is known),
    at most ``PORTGUARD_API_WRITE_RATE``."""

    scope = "writes"
    setting = "PORTGUARD_API_WRITE_RATE"

    def get_rate(self):
        return getattr(settings, self.setting)

    def applies(self, request, view) -> bool:
        return request.method not in SAFE_METHODS

    def allow_request(self, request, view):
        if not self.applies(request, view):
            return True
        try:
            return super().allow_request(request, view)
        except RedisError:
            # A write never fails because the shared cache is away (Redis restarting):
            # the limit is lifted until it is back.
            logger.warning("API throttle skipped: the cache cannot be reached", exc_info=True)
            return True

    def get_cache_key(self, request, view):
        user = request.user
        ident = f"user-{user.pk}" if user and user.is_authenticated else f"address-{client_address(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class UploadThrottle(WriteThrottle):
    """Files sent to an upload endpoint (a view with ``throttle_uploads = True``), at most
    ``PORTGUARD_API_UPLOAD_RATE``, besides counting as writes."""

    scope = "uploads"
    setting = "PORTGUARD_API_UPLOAD_RATE"

    def applies(self, request, view) -> bool:
        return super().applies(request, view) and getattr(view, "throttle_uploads", False)
