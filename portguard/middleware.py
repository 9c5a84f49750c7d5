"""The database went away during a request: a clear 503, not a 500.

A connection to PostgreSQL dropped, or a database that does not answer, raises
``OperationalError`` or ``InterfaceError``. Every write runs in ``transaction.atomic()``,
so a write cut off before it committed has rolled back whole; the caller is told to
try again.
The API answers in its JSON error shape (``portguard.api.exception_handler``), pages
with a short page of their own (``DatabaseUnavailableMiddleware``). Outside any view (a
middleware reading the session, or saving it once a login has changed it) Django calls
``handler500``; ``server_error`` answers the same 503 there. Both answer an API request
in the JSON shape, whatever failed (``portguard.errors``).
"""

import logging
import sys

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .errors import is_api, json_error, server_error_answer

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Long enough for a restarted PostgreSQL or a failover, short enough for a phone at the berth.
RETRY_AFTER_SECONDS = 10


def is_database_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_ERRORS)


def database_unavailable_message() -> str:
    return _("The database cannot be reached at the moment. Please try again in a few seconds.")


def log_database_unavailable(request, exc: BaseException) -> None:
    logger.error("Database unavailable during %s %s: %s", request.method, request.path, exc, exc_info=exc)


def unavailable_response(request):
    """The 503 for a request that lost the database: JSON under the API, a page elsewhere."""
    if not is_api(request):
        return unavailable_page(request)
    response = json_error("database_unavailable", database_unavailable_message(), 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def unavailable_page(request):
    # The page must not need the database it could not reach: no user, permissions or
    # messages are read for it (the header shows as signed out).
    context = {
        "user": AnonymousUser(),
        "messages": [],
        "message": database_unavailable_message(),
        "can_retry": request.method == "GET",
    }
    response = render(request, "503.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """Answer a page whose view lost the database with 503 and a short page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        log_database_unavailable(request, exception)
        return unavailable_response(request)


def server_error(request):
    """``handler500``: called while Django handles an exception no view caught. A lost
    database is a 503; anything else a 500 (in JSON under the API)."""
    exception = sys.exc_info()[1]
    if exception is None or not is_database_unavailable(exception):
        return server_error_answer(request)
    log_database_unavailable(request, exception)
    return unavailable_response(request)
