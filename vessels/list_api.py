"""The API's lists of port calls, alerts, epidemic areas and violations, and a case's
contact list: each within the caller's scope exactly as on the pages, filtered by
validated parameters (a bad one answers 400 naming it), paginated by cursor
(``portguard.keyset``) in a constant number of queries a page."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crews.access_log import door_of, record_read
from crews.choices import ReadKind, TestKind, TestResult
from crews.models import ScreeningTest
from portguard import keyset
from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC, error_doc

from .api import PortCallCreate
from .call_list import filtered_calls, listed
from .call_list_views import CallFilterForm
from .contacts import confirmed_cases
from .models import EpidemicArea, Violation, Wharf
from .scope import visible_alerts, visible_wharves


def _iso(value):
    return timezone.localtime(value).isoformat() if value is not None else None


def check_params(request, allowed: set[str]) -> None:
    """Every parameter is one the endpoint knows: a misspelt filter is not silently
    ignored (that would hand back every row)."""
    unknown = sorted(set(request.query_params) - allowed - {"format"})
    if unknown:
        raise serializers.ValidationError({name: [_("Unknown parameter.")] for name in unknown})


def page_params(request) -> dict:
    params = keyset.PageParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


def paged(rows: list, next_cursor: str | None) -> dict:
    return {"results": rows, "next": next_cursor}


def list_doc(name: str, row: dict, example: dict) -> OpenApiResponse:
    return OpenApiResponse(
        inline_serializer(
            name,
            {
                "results": serializers.ListField(child=serializers.DictField()),
                "next": serializers.CharField(
                    allow_null=True, help_text="Cursor of the next page; null after the last"
                ),
            },
        ),
        examples=[
            OpenApiExample("A page", value={"results": [row], "next": "WyIyMDIxLTA4LTEyVDAxOjMwOjAwKzAwOjAwIiwxMl0"}),
            *[OpenApiExample(name, value=value) for name, value in example.items()],
        ],
    )


def bad_param_doc(field: str, message: str) -> OpenApiResponse:
    return error_doc(
        "A parameter that is malformed, unknown, or outside the caller's scope, named in fields",
        **{
            f"Bad {field}": {
                "error": "validation_error",
                "message": f"{field}: {message}",
                "fields": {field: [message]},
            }
        },
    )


CURSOR_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` of the previous page; none for the first"),
    OpenApiParameter(
        "limit", int, description=f"Rows a page (default {keyset.DEFAULT_LIMIT}, at most {keyset.MAX_LIMIT})"
    ),
]

# --- Port calls -----------------------------------------------------------------------

PORT_CALL_ROW = {
    "id": 12,
    "wharf": "CP-03",
    "registration": "QN-4567",
    "vessel": "Hoàng Long 18",
    "arrived_at": "2021-08-12T08:30:00+07:00",
    "departed_at": None,
    "origin": "Hải Phòng",
    "origin_flagged": False,
    "status": "awaiting_tests",
}


class PortCalls(PortCallCreate):
    """``GET`` lists the calls; ``POST`` registers one (``PortCallCreate``)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "wharf",
                str,
                description="A wharf code in the caller's scope",
                examples=[OpenApiExample("Bến Mông Dương", value="CP-03")],
            ),
            OpenApiParameter(
                "status",
                str,
                description="awaiting_tests, cleared, blocked, quarantined, handover_approved or departed",
                examples=[OpenApiExample("Departed", value="departed")],
            ),
            OpenApiParameter(
                "arrived_after",
                str,
                description="First arrival day, YYYY-MM-DD (Vietnam time)",
                examples=[OpenApiExample("From", value="2021-08-01")],
            ),
            OpenApiParameter(
                "arrived_before",
                str,
                description="Last arrival day, inclusive",
                examples=[OpenApiExample("Until", value="2021-08-31")],
            ),
            OpenApiParameter(
                "origin",
                str,
                description="yes: from an epidemic area that day (R4); no: the others",
                examples=[OpenApiExample("Flagged", value="yes")],
            ),
            *CURSOR_PARAMS,
        ],
        responses={
            200: list_doc("PortCallPage", PORT_CALL_ROW, {}),
            400: bad_param_doc("wharf", "Select a valid choice. CP-99 is not one of the available choices."),
            403: FORBIDDEN_DOC,
        },
        operation_id="port_calls_list",
        summary="Port calls the caller sees, departed ones too, newest arrival first, filtered as on /port-calls/",
    )
    def get(self, request):
        if not request.user.has_perm("vessels.view_portcall"):
            raise PermissionDenied
        check_params(request, {"wharf", "status", "arrived_after", "arrived_before", "origin", "cursor", "limit"})
        form = CallFilterForm(request.query_params, visible_wharves(request.user))
        if not form.is_valid():
            raise serializers.ValidationError({name: list(errors) for name, errors in form.errors.items()})
        paging = page_params(request)
        now = timezone.now()
        calls, next_cursor = keyset.page_of(
            filtered_calls(request.user, form.call_filter(), now),
            ("-arrived_at", "-id"),
            (keyset.datetime, int),
            paging.get("cursor"),
            paging["limit"],
        )
        return Response(
            paged(
                [
                    {
                        "id": row.call.pk,
                        "wharf": row.call.wharf.code,
                        "registration": row.call.vessel.registration,
                        "vessel": row.call.vessel.name,
                        "arrived_at": _iso(row.call.arrived_at),
                        "departed_at": _iso(row.call.departed_at),
                        "origin": row.call.origin,
                        "origin_flagged": row.origin_flagged,
                        "status": row.status,
                    }
                    for row in listed(calls, now)
                ],
                next_cursor,
            )
        )


# --- Alerts ---------------------------------------------------------------------------

ALERT_ROW = {
    "id": 3,
    "kind": "positive",
    "wharf": "CP-02",
    "port_call": 12,
    "station": None,
    "person": {"id": 51, "id_number": "022081000123", "full_name": "Nguyễn Văn Hùng"},
    "test": 41,
    "message": "Dương tính: Nguyễn Văn Hùng (QN-4567)",
    "created_at": "2021-08-12T09:25:00+07:00",
    "acknowledged_by": None,
    "acknowledged_at": None,
    "closed_at": None,
    "closed_reason": "",
}


class WharfParams(serializers.Serializer):
    wharf = serializers.CharField(required=False, max_length=16)

    def validate_wharf(self, value):
        wharf = visible_wharves(self.context["user"]).filter(code=value.strip().upper()).first()
        if wharf is None:
            raise serializers.ValidationError(_("Unknown wharf."))
        return wharf


class AlertList(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "wharf",
                str,
                description="Only this wharf's alerts (a code in the caller's scope)",
                examples=[OpenApiExample("Cảng Km6", value="CP-02")],
            ),
            *CURSOR_PARAMS,
        ],
        responses={
            200: list_doc("AlertPage", ALERT_ROW, {}),
            400: bad_param_doc("wharf", "Unknown wharf."),
            403: FORBIDDEN_DOC,
        },
        operation_id="alerts_list",
        summary="Alerts at the caller's wharves, newest first (health data: not for the administrator)",
    )
    def get(self, request):
        if not request.user.has_perm("vessels.view_alert"):
            raise PermissionDenied
        check_params(request, {"wharf", "cursor", "limit"})
        params = WharfParams(data=request.query_params, context={"user": request.user})
        params.is_valid(raise_exception=True)
        paging = page_params(request)
        alerts = visible_alerts(request.user)
        if "wharf" in params.validated_data:
            alerts = alerts.filter(wharf=params.validated_data["wharf"])
        page, next_cursor = keyset.page_of(
            alerts, ("-created_at", "-id"), (keyset.datetime, int), paging.get("cursor"), paging["limit"]
        )
        record_read(request.user, ReadKind.ALERTS, **door_of(request), count=len(page))
        return Response(
            paged(
                [
                    {
                        "id": a.pk,
                        "kind": a.kind,
                        "wharf": a.wharf.code,
                        "port_call": a.port_call_id,
                        "station": a.station.code if a.station_id else None,
                        "person": None
                        if a.person_id is None
                        else {"id": a.person_id, "id_number": a.person.id_number, "full_name": a.person.full_name},
                        "test": a.test_id,
                        "message": a.message,
                        "created_at": _iso(a.created_at),
                        "acknowledged_by": a.acknowledged_by.get_username() if a.acknowledged_by_id else None,
                        "acknowledged_at": _iso(a.acknowledged_at),
                        "closed_at": _iso(a.closed_at),
                        "closed_reason": a.closed_reason,
                    }
                    for a in page
                ],
                next_cursor,
            )
        )


# --- Epidemic areas -------------------------------------------------------------------

AREA_ROW = {"id": 2, "province": "Bắc Giang", "district": "", "active_from": "2021-05-10", "active_to": None}


class ActiveOnParams(serializers.Serializer):
    active_on = serializers.DateField(required=False, help_text="Only the areas active that day")


class EpidemicAreaList(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "active_on",
                str,
                description="Only areas active that day, YYYY-MM-DD",
                examples=[OpenApiExample("A day", value="2021-08-12")],
            ),
            *CURSOR_PARAMS,
        ],
        responses={
            200: list_doc("EpidemicAreaPage", AREA_ROW, {}),
            400: bad_param_doc("active_on", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."),
            403: FORBIDDEN_DOC,
        },
        operation_id="epidemic_areas_list",
        summary="The health officers' list of epidemic areas (rule R4), province-wide",
    )
    def get(self, request):
        if not request.user.has_perm("vessels.view_epidemicarea"):
            raise PermissionDenied
        check_params(request, {"active_on", "cursor", "limit"})
        params = ActiveOnParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        paging = page_params(request)
        areas = EpidemicArea.objects.all()
        day = params.validated_data.get("active_on")
        if day is not None:
            areas = areas.filter(active_from__lte=day).exclude(active_to__lt=day)
        page, next_cursor = keyset.page_of(areas, ("id",), (int,), paging.get("cursor"), paging["limit"])
        return Response(
            paged(
                [
                    {
                        "id": a.pk,
                        "province": a.province,
                        "district": a.district,
                        "active_from": a.active_from.isoformat(),
                        "active_to": a.active_to.isoformat() if a.active_to else None,
                    }
                    for a in page
                ],
                next_cursor,
            )
        )


# --- Violations -----------------------------------------------------------------------

VIOLATION_ROW = {
    "id": 5,
    "registration": "QN-8642",
    "against": "vessel",
    "owner_name": "Công ty Vận tải Thủy Bắc Giang",
    "person": None,
    "kind": "no_declaration",
    "occurred_at": "2021-08-10T14:00:00+07:00",
    "wharf": "HL-02",
    "note": "",
    "fine_vnd": 2000000,
    "recorded_by": "kiemsoat.hai",
    "recorded_at": "2021-08-10T14:05:00+07:00",
}


class ViolationParams(serializers.Serializer):
    vessel = serializers.CharField(required=False, max_length=20, help_text="A registration")
    wharf = serializers.CharField(required=False, max_length=16)

    def validate_wharf(self, value):
        wharf = Wharf.objects.filter(code=value.strip().upper()).first()
        if wharf is None:
            raise serializers.ValidationError(_("Unknown wharf."))
        return wharf


class ViolationList(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "vessel",
                str,
                description="Only this vessel's (its registration)",
                examples=[OpenApiExample("A barge", value="QN-8642")],
            ),
            OpenApiParameter(
                "wharf",
                str,
                description="Only those recorded at this wharf",
                examples=[OpenApiExample("Cảng Nam Cầu Trắng", value="HL-02")],
            ),
            *CURSOR_PARAMS,
        ],
        responses={
            200: list_doc("ViolationPage", VIOLATION_ROW, {}),
            400: bad_param_doc("wharf", "Unknown wharf."),
            403: FORBIDDEN_DOC,
        },
        operation_id="violations_list",
        summary="Violations, newest first: every wharf's, as a vessel's page shows them (repeat offending, R5)",
    )
    def get(self, request):
        if not request.user.has_perm("vessels.view_vessel"):
            raise PermissionDenied
        check_params(request, {"vessel", "wharf", "cursor", "limit"})
        params = ViolationParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        paging = page_params(request)
        wanted = params.validated_data
        violations = Violation.objects.select_related("vessel", "wharf", "person", "recorded_by")
        if "vessel" in wanted:
            violations = violations.filter(vessel__registration=wanted["vessel"].strip().upper())
        if "wharf" in wanted:
            violations = violations.filter(wharf=wanted["wharf"])
        page, next_cursor = keyset.page_of(
            violations, ("-occurred_at", "-id"), (keyset.datetime, int), paging.get("cursor"), paging["limit"]
        )
        return Response(
            paged(
                [
                    {
                        "id": v.pk,
                        "registration": v.vessel.registration,
                        "against": v.against,
                        "owner_name": v.owner_name,
                        "person": None
                        if v.person_id is None
                        else {"id": v.person_id, "id_number": v.person.id_number, "full_name": v.person.full_name},
                        "kind": v.kind,
                        "occurred_at": _iso(v.occurred_at),
                        "wharf": v.wharf.code,
                        "note": v.note,
                        "fine_vnd": v.fine_vnd,
                        "recorded_by": v.recorded_by.get_username(),
                        "recorded_at": _iso(v.recorded_at),
                    }
                    for v in page
                ],
                next_cursor,
            )
        )


# --- A case's contacts ----------------------------------------------------------------

CONTACTS_EXAMPLE = {
    "case": {
        "test": 88,
        "person": {"id": 51, "id_number": "022081000123", "full_name": "Nguyễn Văn Hùng"},
        "port_call": 12,
        "station": None,
        "wharf": "UB-01",
        "sampled_at": "2021-08-12T09:05:00+07:00",
    },
    "contacts": [
        {
            "person": {"id": 52, "id_number": "031234567", "full_name": "Trần Thị Lan"},
            "level": "F1",
            "reason_code": "same_vessel",
            "reason": "Cùng tàu QN-4567",
            "computed_at": "2021-08-13T10:00:00+07:00",
        }
    ],
}


class CaseContacts(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "CaseContacts",
                    {"case": serializers.DictField(), "contacts": serializers.ListField(child=serializers.DictField())},
                ),
                examples=[OpenApiExample("A crew member's case", value=CONTACTS_EXAMPLE)],
            ),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
        },
        operation_id="case_contacts_retrieve",
        summary="A confirmed case's contact list (F1, F2), by the id of its confirming RT-PCR; health officers only",
    )
    def get(self, request, pk: int):
        if not request.user.has_perm("vessels.view_contact"):
            raise PermissionDenied
        check_params(request, set())
        test = get_object_or_404(
            ScreeningTest.objects.select_related("station"),
            pk=pk,
            kind=TestKind.RT_PCR,
            result=TestResult.POSITIVE,
        )
        found = confirmed_cases(
            request.user,
            port_call_id=test.port_call_id,
            person_id=test.person_id,
            station_code=test.station.code if test.port_call_id is None and test.station_id else None,
        )
        if not found:
            raise Http404
        (case,) = found
        record_read(
            request.user,
            ReadKind.CONTACT_LIST,
            **door_of(request),
            person=case.person,
            port_call=case.port_call,
            station=case.station,
            count=len(case.contacts),
        )
        return Response(
            {
                "case": {
                    "test": case.test.pk,
                    "person": {
                        "id": case.person.pk,
                        "id_number": case.person.id_number,
                        "full_name": case.person.full_name,
                    },
                    "port_call": case.test.port_call_id,
                    "station": case.station.code if case.station else None,
                    "wharf": case.wharf.code,
                    "sampled_at": _iso(case.test.sampled_at),
                },
                "contacts": [
                    {
                        "person": {"id": c.person_id, "id_number": c.person.id_number, "full_name": c.person.full_name},
                        "level": c.level,
                        "reason_code": c.reason_code,
                        "reason": c.reason,
                        "computed_at": _iso(c.computed_at),
                    }
                    for c in sorted(case.contacts, key=lambda c: (c.level, c.person.full_name, c.pk))
                ],
            }
        )
