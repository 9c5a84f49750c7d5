"""A person's data on request, as JSON or CSV (``crews.person_export``): the download
buttons of their page and ``GET /api/v1/people/{id}/export/?format=json|csv``. Health
officers only; every export is written to the access log of health data reads."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC

from .access_log import door_of, record_read
from .choices import ReadKind, ReadVia
from .models import Person
from .person_export import as_csv, person_record

PERMISSION = "crews.export_person"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def _export(request, pk: int, fmt: str, via: ReadVia | None = None) -> HttpResponse:
    """The answer, once the caller may export: 404 for an unknown person, and one
    access-log entry for an export given."""
    person = get_object_or_404(Person, pk=pk)
    record = person_record(person)
    if fmt == "csv":
        body = as_csv(record)
    else:
        body = json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()
    record_read(request.user, ReadKind.PERSON_EXPORT, **door_of(request, via), person=person)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def person_export(request, pk: int, fmt: str):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    return _export(request, pk, fmt)


class CsvRenderer(BaseRenderer):
    """Lets ``?format=csv`` through DRF's content negotiation; the view writes the bytes."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class PersonExport(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv"],
                description="json (the default) or csv: one row per value (section, item, field, value)",
                examples=[OpenApiExample("CSV", value="csv")],
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Everything held about the person, section by section",
                examples=[
                    OpenApiExample(
                        "A sailor",
                        value={
                            "exported_at": "2021-08-20T09:00:00+07:00",
                            "person": {"id": 51, "full_name": "Nguyễn Văn Hùng", "id_number": "022081000123"},
                            "port_calls": [{"port_call": 7, "vessel": "QN-4567", "role": "crew"}],
                            "tests": [{"test": 42, "kind": "rapid", "result": "negative"}],
                            "staff_assignments": [],
                            "roster": [],
                            "contacts": [],
                            "alerts": [],
                            "violations": [],
                            "declarations": [],
                        },
                    )
                ],
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 with BOM"),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
        },
        operation_id="people_export",
        summary="Everything PortGuard holds about one person, as JSON or CSV (health officers)",
    )
    def get(self, request, pk: int):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        fmt = "csv" if request.accepted_renderer.format == "csv" else "json"
        return _export(request, pk, fmt, ReadVia.API)
