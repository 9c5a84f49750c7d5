"""API conventions shared by every endpoint: the JSON error shape."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .domain import DomainError, HandoverBlocked, InvalidFile


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
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        return error_response("not_found", "Not found.", 404)
    if isinstance(exc, PermissionDenied):
        return error_response("forbidden", str(exc) or "Forbidden.", 403)
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
