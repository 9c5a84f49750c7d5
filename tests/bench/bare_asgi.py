"""The project's ASGI application with one more door, for benchmarks only: ``POST
/bench/bare-result/`` is a bare Django view that inserts one plain ScreeningTest row
(one ``bulk_create``: no token, no rules, no lock, no event) and answers its id.

The shift-change bench (tests/bench/shift_change.py) serves this module from its
daphnes to weigh a recorded result's server CPU against Django's own cost of a request
that writes one row. The request still goes through Django's handler and the project's
whole middleware stack, as the API's do; only its URL configuration is this module's
(a request class that names its own ``urlconf``, which Django's handler honours), so the
project's settings and URLs are left as they are. Every other request and every socket
goes to ``portguard.asgi.application`` unchanged.

    daphne tests.bench.bare_asgi:application
"""

import json

from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.http import JsonResponse
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portguard.asgi import application as portguard_application

BARE_PATH = "/bench/bare-result/"


@csrf_exempt
@require_POST
def bare_result(request):
    """Token-less: ``person`` and ``recorded_by`` are ids the bench created."""
    from crews.models import ScreeningTest

    data = json.loads(request.body)
    row = ScreeningTest(
        person_id=data["person"],
        kind=data["kind"],
        sampled_at=parse_datetime(data["sampled_at"]),
        result=data["result"],
        recorded_by_id=data["recorded_by"],
    )
    ScreeningTest.objects.bulk_create([row])
    return JsonResponse({"id": row.pk}, status=201)


urlpatterns = [path(BARE_PATH.strip("/") + "/", bare_result, name="bench-bare-result")]


class BareRequest(ASGIRequest):
    urlconf = __name__  # BaseHandler.resolve_request resolves with this module's urlpatterns


class BareHandler(ASGIHandler):
    request_class = BareRequest


bare_handler = BareHandler()


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == BARE_PATH:
        return await bare_handler(scope, receive, send)
    return await portguard_application(scope, receive, send)
