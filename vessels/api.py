from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crews.access_log import door_of, record_read
from crews.choices import CrewRole, ReadKind
from crews.people import PersonData
from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC, error_doc
from vessels.scope import visible_port_calls, visible_wharves
from vessels.services import VesselData, approve_handover, record_departure, register_port_call_once
from vessels.status import blocking_payload, clearance_of

from .choices import PortCallStatus, VesselKind
from .clearance import CallClearance
from .models import PortCall


class WharfSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    locality = serializers.CharField()
    kind = serializers.CharField()


class VesselInSerializer(serializers.Serializer):
    registration = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=VesselKind.choices, required=False, default=VesselKind.OTHER)
    owner = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CrewInSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=20)
    full_name = serializers.CharField(max_length=200)
    role = serializers.ChoiceField(choices=CrewRole.choices)
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class PortCallInSerializer(serializers.Serializer):
    wharf = serializers.CharField(max_length=16)
    vessel = VesselInSerializer()
    arrived_at = serializers.DateTimeField()
    origin = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    cargo_kind = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    cargo_tonnes = serializers.DecimalField(
        max_digits=10, decimal_places=1, required=False, allow_null=True, default=None, min_value=0
    )
    crew = CrewInSerializer(many=True, required=False, default=list)
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A key the client makes for this registration: sent again, the call it registered is returned",
    )

    def validate_wharf(self, value):
        wharf = visible_wharves(self.context["request"].user).filter(code=value.strip().upper()).first()
        if wharf is None:
            raise serializers.ValidationError(_("Unknown wharf."))
        return wharf


def port_call_json(call: PortCall, clearance: CallClearance) -> dict:
    return {
        "id": call.pk,
        "wharf": {"code": call.wharf.code, "name": call.wharf.name},
        "vessel": {"registration": call.vessel.registration, "name": call.vessel.name, "kind": call.vessel.kind},
        "arrived_at": timezone.localtime(call.arrived_at).isoformat(),
        "departed_at": timezone.localtime(call.departed_at).isoformat() if call.departed_at else None,
        "origin": call.origin,
        "cargo_kind": call.cargo_kind,
        "cargo_tonnes": float(call.cargo_tonnes) if call.cargo_tonnes is not None else None,
        "status": clearance.status,
        "origin_flagged": clearance.origin_flagged,
        "repeat_offender": clearance.repeat_offender,
        "crew": [
            {
                "id_number": p.member.person.id_number,
                "full_name": p.member.person.full_name,
                "role": p.member.role,
                "screening": p.state,
                "reason": p.reason,
                "repeat_offender": p.repeat_offender,
                "test": None
                if p.test is None
                else {
                    "id": p.test.pk,
                    "kind": p.test.kind,
                    "result": p.test.result,
                    "sampled_at": timezone.localtime(p.test.sampled_at).isoformat(),
                },
            }
            for p in clearance.people
        ],
        "counts": {
            "crew": len(clearance.people),
            "tested": clearance.tested_count,
            "negative": clearance.negative_count,
            "blocking": len(clearance.blocking),
        },
        "blocking": [] if clearance.can_approve else blocking_payload(clearance),
    }


PORT_CALL_EXAMPLE = {
    "wharf": "CP-03",
    "vessel": {"registration": "QN-4567", "name": "Hoàng Long 18", "kind": "self_propelled_barge"},
    "arrived_at": "2021-08-12T08:30:00+07:00",
    "origin": "Hải Phòng",
    "cargo_kind": "than cám",
    "cargo_tonnes": 850,
    "crew": [
        {"id_number": "022081000123", "full_name": "Nguyễn Văn Hùng", "role": "captain", "date_of_birth": "1981-04-02"}
    ],
    "client_uuid": "3b8e6c0a-2f4d-4a7e-9c1b-5d2f8e7a6b40",
}

PortCallOut = inline_serializer(
    "PortCall",
    {
        "id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=PortCallStatus.choices),
        "origin_flagged": serializers.BooleanField(help_text="Origin in an active epidemic area (rule R4)"),
        "repeat_offender": serializers.BooleanField(help_text="Vessel or someone on board is a repeat offender (R5)"),
        "crew": serializers.ListField(child=serializers.DictField()),
        "blocking": serializers.ListField(child=serializers.DictField()),
    },
)


PORT_CALL_OUT_EXAMPLE = {
    "id": 12,
    "wharf": {"code": "CP-03", "name": "Bến Mông Dương"},
    "vessel": {"registration": "QN-4567", "name": "Hoàng Long 18", "kind": "self_propelled_barge"},
    "arrived_at": "2021-08-12T08:30:00+07:00",
    "departed_at": None,
    "origin": "Hải Phòng",
    "cargo_kind": "than cám",
    "cargo_tonnes": 850.0,
    "status": "awaiting_tests",
    "origin_flagged": False,
    "repeat_offender": False,
    "crew": [
        {
            "id_number": "022081000123",
            "full_name": "Nguyễn Văn Hùng",
            "role": "captain",
            "screening": "negative",
            "reason": "",
            "repeat_offender": False,
            "test": {"id": 41, "kind": "rapid", "result": "negative", "sampled_at": "2021-08-12T09:05:00+07:00"},
        },
        {
            "id_number": "031234567",
            "full_name": "Trần Thị Lan",
            "role": "worker",
            "screening": "untested",
            "reason": "No test taken for this port call.",
            "repeat_offender": False,
            "test": None,
        },
    ],
    "counts": {"crew": 2, "tested": 1, "negative": 1, "blocking": 1},
    "blocking": [
        {
            "id_number": "031234567",
            "full_name": "Trần Thị Lan",
            "screening": "untested",
            "reason": "No test taken for this port call.",
        }
    ],
}

VALIDATION_ERROR_DOC = error_doc(
    "Validation error naming the field",
    **{
        "Malformed ID number": {
            "error": "validation_error",
            "message": "crew[0].id_number: 12345 is not a 12-digit CCCD, a 9-digit CMND or a passport number.",
            "fields": {"crew[0].id_number": ["12345 is not a 12-digit CCCD, a 9-digit CMND or a passport number."]},
        }
    },
)


class WharfList(APIView):
    @extend_schema(
        responses=OpenApiResponse(
            WharfSerializer(many=True),
            examples=[
                OpenApiExample(
                    "An inspector of Cẩm Phả",
                    value=[{"code": "CP-03", "name": "Bến Mông Dương", "locality": "cam_pha", "kind": "wharf"}],
                )
            ],
        ),
        summary="Wharves the caller may see",
    )
    def get(self, request):
        wharves = visible_wharves(request.user)
        return Response(WharfSerializer(wharves, many=True).data)


class PortCallCreate(APIView):
    @extend_schema(
        request=PortCallInSerializer,
        responses={
            201: OpenApiResponse(
                PortCallOut, examples=[OpenApiExample("Registered", value={**PORT_CALL_OUT_EXAMPLE, "crew": []})]
            ),
            200: OpenApiResponse(
                PortCallOut,
                description="Retry with a known client_uuid: the call it registered, nothing stored again",
                examples=[OpenApiExample("The call registered first", value={**PORT_CALL_OUT_EXAMPLE, "crew": []})],
            ),
            400: VALIDATION_ERROR_DOC,
            404: NOT_FOUND_DOC,
        },
        examples=[OpenApiExample("Coal barge arriving at Cẩm Phả", value=PORT_CALL_EXAMPLE, request_only=True)],
        summary="Register an arriving vessel and its crew (idempotent by client_uuid)",
    )
    def post(self, request):
        form = PortCallInSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        call, created = register_port_call_once(
            request.user,
            wharf=data["wharf"],
            vessel=VesselData(**data["vessel"]),
            arrived_at=data["arrived_at"],
            origin=data["origin"],
            cargo_kind=data["cargo_kind"],
            cargo_tonnes=data["cargo_tonnes"],
            crew=[PersonData(**member) for member in data["crew"]],
            client_uuid=data["client_uuid"],
        )
        call = visible_port_calls(request.user).get(pk=call.pk)
        return Response(
            port_call_json(call, clearance_of(call)), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class PortCallDetail(APIView):
    @extend_schema(
        responses={
            200: OpenApiResponse(
                PortCallOut, examples=[OpenApiExample("Awaiting one test", value=PORT_CALL_OUT_EXAMPLE)]
            ),
            404: NOT_FOUND_DOC,
        },
        summary="A port call with its status and each person's screening",
    )
    def get(self, request, pk: int):
        call = get_object_or_404(visible_port_calls(request.user), pk=pk)
        clearance = clearance_of(call)
        record_read(
            request.user, ReadKind.SCREENING_SHEET, **door_of(request), port_call=call, count=len(clearance.people)
        )
        return Response(port_call_json(call, clearance))


class HandoverCreate(APIView):
    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                inline_serializer(
                    "Handover",
                    {
                        "id": serializers.IntegerField(),
                        "port_call": serializers.IntegerField(),
                        "approved_at": serializers.DateTimeField(),
                        "approved_by": serializers.CharField(),
                        "evidence": serializers.ListField(child=serializers.DictField()),
                    },
                ),
                examples=[
                    OpenApiExample(
                        "Approved",
                        value={
                            "id": 7,
                            "port_call": 12,
                            "approved_at": "2021-08-12T11:00:00+07:00",
                            "approved_by": "cangvu.binh",
                            "evidence": [
                                {
                                    "id_number": "022081000123",
                                    "full_name": "Nguyễn Văn Hùng",
                                    "role": "captain",
                                    "test": 41,
                                    "kind": "rapid",
                                    "sampled_at": "2021-08-12T09:05:00+07:00",
                                }
                            ],
                        },
                    )
                ],
            ),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
            409: error_doc(
                "Someone on board is not cleared, the handover is already approved, or the vessel has departed",
                Blocked={
                    "error": "handover_blocked",
                    "message": "Cargo handover cannot be approved yet.",
                    "blocking": [
                        {
                            "id_number": "022081000123",
                            "full_name": "Nguyễn Văn Hùng",
                            "screening": "pending",
                            "reason": "Result pending.",
                        }
                    ],
                },
            ),
        },
        summary="Approve cargo handover (rule R1)",
    )
    def post(self, request, pk: int):
        call = get_object_or_404(visible_port_calls(request.user), pk=pk)
        handover = approve_handover(request.user, call.pk)
        evidence = handover.evidence_given
        return Response(
            {
                "id": handover.pk,
                "port_call": call.pk,
                "approved_at": timezone.localtime(handover.approved_at).isoformat(),
                "approved_by": request.user.get_username(),
                "evidence": [
                    {
                        "id_number": e.person.id_number,
                        "full_name": e.person.full_name,
                        "role": e.role,
                        "test": e.test_id,
                        "kind": e.test.kind,
                        "sampled_at": timezone.localtime(e.test.sampled_at).isoformat(),
                    }
                    for e in evidence
                ],
            },
            status=status.HTTP_201_CREATED,
        )


class DepartureInSerializer(serializers.Serializer):
    departed_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When the vessel left; now when omitted"
    )
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A key the client makes for this departure: sent again, the call as it recorded it is returned",
    )


class DepartureCreate(APIView):
    @extend_schema(
        request=DepartureInSerializer,
        responses={
            200: OpenApiResponse(
                PortCallOut,
                description="The call with its departure (also for a retry with the same client_uuid)",
                examples=[
                    OpenApiExample(
                        "Departed",
                        value={**PORT_CALL_OUT_EXAMPLE, "departed_at": "2021-08-12T15:30:00+07:00"},
                    )
                ],
            ),
            400: error_doc(
                "A departure time before the arrival or in the future, or a malformed field",
                **{
                    "Before arrival": {
                        "error": "validation_error",
                        "message": "Departure cannot be before arrival.",
                        "fields": {"departed_at": ["Departure cannot be before arrival."]},
                    }
                },
            ),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
            409: error_doc(
                "Already departed, or quarantined",
                Departed={"error": "departed", "message": "The vessel has already departed."},
            ),
        },
        examples=[
            OpenApiExample(
                "Left at 15:30",
                value={
                    "departed_at": "2021-08-12T15:30:00+07:00",
                    "client_uuid": "0b9b1f52-9f4e-4a53-8f0e-2b1c6a8e7d11",
                },
                request_only=True,
            )
        ],
        summary="Record that the vessel has left the wharf (idempotent by client_uuid)",
    )
    def post(self, request, pk: int):
        get_object_or_404(visible_port_calls(request.user), pk=pk)
        form = DepartureInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        record_departure(request.user, pk, **form.validated_data)
        call = visible_port_calls(request.user).get(pk=pk)
        return Response(port_call_json(call, clearance_of(call)))
