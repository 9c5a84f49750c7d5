"""API conventions shared by every endpoint: the JSON error shape."""

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .domain import DomainError, HandoverBlocked, InvalidFile
from .middleware import (
    RETRY_AFTER_SECONDS,
    database_unavailable_message,
    is_database_unavailable,
    log_database_unavailable,
)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → ``{"crew[0].id_number": ["..."]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else key
            out.update(_flatten(value, path))
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, (dict, list)) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    messages = [str(d) for d in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix or "non_field_errors": messages}


def error_response(code: str, message: str, status_code: int, **extra) -> Response:
    return Response({"error": code, "message": message, **extra}, status=status_code)


def domain_error_response(exc: DomainError) -> Response:
    extra = {}
    if exc.field:
        extra["fields"] = {exc.field: [exc.message]}
    if isinstance(exc, HandoverBlocked):
        extra["blocking"] = exc.blocking
    if isinstance(exc, InvalidFile):
        extra["rows"] = exc.rows
    status_code = 404 if exc.code == "not_found" else exc.status
    if exc.code in ("already_approved", "departed", "already_corrected", "positive_on_board", "quarantined"):
        status_code = status.HTTP_409_CONFLICT
    return error_response(exc.code, exc.message, status_code, **extra)


def exception_handler(exc, context):
    if is_database_unavailable(exc):
        log_database_unavailable(context["request"], exc)
        response = error_response("database_unavailable", database_unavailable_message(), 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        return error_response("not_found", _("Not found."), 404)
    if isinstance(exc, PermissionDenied):
        return error_response("forbidden", str(exc) or "Forbidden.", 403)
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        # Django refuses a form field (not a file) that is too large, or too many of them,
        # while DRF parses the body; Django alone would answer with an HTML page.
        message = _("The request is too large: send the file as a file upload, at most %(mb)d MB.") % {
            "mb": settings.PORTGUARD_UPLOAD_MAX_MB
        }
        return error_response("request_too_large", message, 400)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait or 1))
        response = error_response(
            "rate_limited", _("Too many requests: try again in %(seconds)d seconds.") % {"seconds": wait}, 429
        )
        response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.items()))
        return error_response("validation_error", f"{first[0]}: {first[1][0]}", 400, fields=fields)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    detail = getattr(exc, "detail", "")
    return Response({"error": code, "message": str(detail)}, status=response.status_code, headers=response.headers)


# --- The error shape in the OpenAPI schema -------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "string",
            "description": (
                "A stable code: validation_error, not_found, forbidden, rate_limited, database_unavailable, …"
            ),
        },
        "message": {"type": "string", "description": "For people, in the caller's language."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Validation errors by field, such as crew[0].id_number.",
        },
        "blocking": {"type": "array", "items": {"type": "object"}, "description": "handover_blocked: who and why."},
        "rows": {"type": "array", "items": {"type": "object"}, "description": "invalid_file: each bad row."},
    },
    "required": ["error", "message"],
}


def error_doc(description: str, **examples: dict) -> OpenApiResponse:
    """A documented error answer with the shared error shape and named examples."""
    return OpenApiResponse(
        ERROR_SCHEMA,
        description=description,
        examples=[OpenApiExample(name, value=value) for name, value in examples.items()],
    )


NOT_FOUND_DOC = error_doc(
    "Unknown, or outside the caller's scope (the two look the same)",
    **{"Not found": {"error": "not_found", "message": "Not found."}},
)
FORBIDDEN_DOC = error_doc(
    "The caller's role may not do this",
    **{"Forbidden": {"error": "forbidden", "message": "Only the port authority approves cargo handover."}},
)
