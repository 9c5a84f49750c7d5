"""``POST /api/v1/declarations/``: a health declaration (rule R6) sent by an agent's system,
checked by the same rules as the public form, rate-limited per address as it is."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard.api import error_doc, error_response
from portguard.ratelimit import client_address, hit
from vessels.declarations import (
    MAX_PEOPLE,
    MAX_PORTS,
    MAX_PROVINCES,
    DeclarationData,
    DeclarationInvalid,
    DeclaredPersonData,
    PortOfCallData,
    declare,
    flags_of,
    format_receipt,
)

from .choices import VesselKind
from .declaration_views import declaration_limit
from .models import Wharf


class DeclaredVesselSerializer(serializers.Serializer):
    registration = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kind = serializers.CharField(max_length=30, required=False, default=VesselKind.OTHER)


class DeclarantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=20)


class PortOfCallSerializer(serializers.Serializer):
    port = serializers.CharField(max_length=200)
    left_on = serializers.DateField()


class DeclaredPersonSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    id_number = serializers.CharField(max_length=20)
    role = serializers.CharField(max_length=10, help_text="captain, crew or worker")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    fever = serializers.BooleanField(required=False, default=False)
    cough = serializers.BooleanField(required=False, default=False)
    short_of_breath = serializers.BooleanField(required=False, default=False)
    sore_throat = serializers.BooleanField(required=False, default=False)
    lost_taste_or_smell = serializers.BooleanField(required=False, default=False)
    case_contact = serializers.BooleanField(required=False, default=False, help_text="Contact with a case (14 days)")
    provinces = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=MAX_PROVINCES,
        required=False,
        default=list,
        help_text="Provinces visited in the 14 days before arrival",
    )


class DeclarationInSerializer(serializers.Serializer):
    wharf = serializers.CharField(max_length=16, help_text="The wharf's code, e.g. CP-03")
    vessel = DeclaredVesselSerializer()
    expected_at = serializers.DateTimeField()
    declarant = DeclarantSerializer()
    ports_of_call = PortOfCallSerializer(many=True, max_length=MAX_PORTS)
    people = DeclaredPersonSerializer(many=True, max_length=MAX_PEOPLE)

    def validate_wharf(self, value):
        wharf = Wharf.objects.filter(code=value.strip().upper()).first()
        if wharf is None:
            raise serializers.ValidationError(_("Unknown wharf."))
        return wharf


DECLARATION_EXAMPLE = {
    "wharf": "CP-03",
    "vessel": {"registration": "QN-4567", "name": "Hoàng Long 18", "kind": "self_propelled_barge"},
    "expected_at": "2021-08-12T08:30:00+07:00",
    "declarant": {"name": "Nguyễn Văn Hùng", "phone": "0912 345 678"},
    "ports_of_call": [{"port": "Cảng Cái Lân, Quảng Ninh", "left_on": "2021-08-10"}],
    "people": [
        {
            "full_name": "Nguyễn Văn Hùng",
            "id_number": "022081000123",
            "role": "captain",
            "date_of_birth": "1981-04-02",
        },
        {
            "full_name": "Trần Thị Lan",
            "id_number": "031234567",
            "role": "worker",
            "cough": True,
            "provinces": ["Bắc Giang"],
        },
    ],
}

DECLARATION_OUT_EXAMPLE = {
    "id": 3,
    "receipt": "K7QD-M2XH-PA9R",
    "receipt_url": "https://portguard.example/declare/receipt/K7QD-M2XH-PA9R/",
    "wharf": "CP-03",
    "registration": "QN-4567",
    "expected_at": "2021-08-12T08:30:00+07:00",
    "people": 2,
    "flagged": 1,
}

DeclarationOut = inline_serializer(
    "DeclarationReceipt",
    {
        "id": serializers.IntegerField(),
        "receipt": serializers.CharField(help_text="The receipt code, given this once: keep it"),
        "receipt_url": serializers.URLField(help_text="The page to view or amend the declaration until arrival"),
        "wharf": serializers.CharField(),
        "registration": serializers.CharField(),
        "expected_at": serializers.DateTimeField(),
        "people": serializers.IntegerField(),
        "flagged": serializers.IntegerField(help_text="People with declared symptoms, a contact or epidemic travel"),
    },
)


class DeclarationCreate(APIView):
    @extend_schema(
        request=DeclarationInSerializer,
        responses={
            201: OpenApiResponse(DeclarationOut, examples=[OpenApiExample("Declared", value=DECLARATION_OUT_EXAMPLE)]),
            400: error_doc(
                "Validation error naming each field",
                **{
                    "Malformed ID number": {
                        "error": "validation_error",
                        "message": "Người thứ 1, số giấy tờ: 12345 không phải số CCCD 12 chữ số, CMND 9 chữ số "
                        "hay số hộ chiếu.",
                        "fields": {
                            "people[0].id_number": [
                                "Người thứ 1, số giấy tờ: 12345 không phải số CCCD 12 chữ số, CMND 9 chữ số "
                                "hay số hộ chiếu."
                            ]
                        },
                    }
                },
            ),
            409: error_doc(
                "The vessel is already declared and has not arrived: amend that declaration with its receipt code",
                **{
                    "Already declared": {
                        "error": "already_declared",
                        "message": "Phương tiện QN-4567 đã được khai báo và chưa cập bến: hãy sửa tờ khai đó bằng "
                        "mã biên nhận.",
                        "fields": {"registration": ["…"]},
                    }
                },
            ),
            413: error_doc(
                "The body is larger than PORTGUARD_DECLARATION_MAX_BYTES",
                **{"Too large": {"error": "request_too_large", "message": "Tờ khai quá lớn, không gửi được."}},
            ),
            429: error_doc(
                "Too many declarations from this address: wait Retry-After seconds",
                **{
                    "Rate limited": {
                        "error": "rate_limited",
                        "message": "Quá nhiều yêu cầu từ kết nối của bạn. Hãy thử lại sau 10 phút.",
                    }
                },
            ),
        },
        examples=[OpenApiExample("A coal barge expected at Cẩm Phả", value=DECLARATION_EXAMPLE, request_only=True)],
        summary="Declare a vessel's health before arrival (rule R6); answers the receipt code",
    )
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.PORTGUARD_DECLARATION_MAX_BYTES:
            return error_response("request_too_large", _("The declaration is too large to be sent."), 413)
        wait = hit(declaration_limit(), client_address(request))
        if wait is not None:
            minutes = max(1, (wait + 59) // 60)
            response = error_response(
                "rate_limited",
                _("Too many requests from your connection. Try again in %(m)d minutes.") % {"m": minutes},
                status.HTTP_429_TOO_MANY_REQUESTS,
            )
            response["Retry-After"] = str(wait)
            return response
        form = DeclarationInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            declaration, receipt = declare(
                DeclarationData(
                    registration=data["vessel"]["registration"],
                    vessel_name=data["vessel"]["name"],
                    vessel_kind=data["vessel"]["kind"],
                    expected_at=data["expected_at"],
                    declarant_name=data["declarant"]["name"],
                    declarant_phone=data["declarant"]["phone"],
                    ports=[PortOfCallData(**port) for port in data["ports_of_call"]],
                    people=[DeclaredPersonData(**person) for person in data["people"]],
                ),
                wharf=data["wharf"],
                by=request.user,
            )
        except DeclarationInvalid as exc:
            return error_response("validation_error", exc.message, 400, fields=exc.errors)
        flags = flags_of([declaration])[0]
        return Response(
            {
                "id": declaration.pk,
                "receipt": format_receipt(receipt),
                "receipt_url": request.build_absolute_uri(
                    reverse("declaration-receipt", args=[format_receipt(receipt)])
                ),
                "wharf": declaration.wharf.code,
                "registration": declaration.registration,
                "expected_at": timezone.localtime(declaration.expected_at).isoformat(),
                "people": len(flags.people),
                "flagged": len(flags.flagged_people),
            },
            status=status.HTTP_201_CREATED,
        )
