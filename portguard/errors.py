"""Error answers for what no API view catches: under the API (``/api/``) in its JSON
error shape (SPEC §6), so a client never has to parse an HTML page; elsewhere the HTML
pages.

``handler404`` is here; ``handler500`` is ``portguard.middleware.server_error``, which
also tells a lost database (503) from anything else.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import csrf, defaults

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(code: str, message: str, status: int) -> JsonResponse:
    """The shape of ``portguard.api.error_response``, for answers given outside DRF."""
    return JsonResponse({"error": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


def page_not_found(request, exception):
    """``handler404``: an unknown path, or a view that raised ``Http404``."""
    if is_api(request):
        return json_error("not_found", _("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error_answer(request):
    """An unexpected error: Django has logged it; the caller is told no more."""
    if is_api(request):
        return json_error("server_error", _("Something went wrong on the server. Please try again later."), 500)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: Django's page, marked so that the phone's outbox
    (static/portguard/pwa/queue.js) tells a stale token, which the next page load
    renews, from a refusal: the entry is kept and sent again, not shown as refused."""
    response = csrf.csrf_failure(request, reason=reason)
    response["X-CSRF-Failure"] = "1"
    return response
