from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crews.people import find_person
from crews.results import TestData, record_test
from portguard.api import FORBIDDEN_DOC, error_doc
from vessels.scope import visible_port_calls

from .choices import TestKind, TestResult
from .models import ScreeningTest


class TestInSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=TestKind.choices)
    sampled_at = serializers.DateTimeField()
    result = serializers.ChoiceField(choices=TestResult.choices)
    port_call = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    kit_lot = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    client_uuid = serializers.UUIDField(required=False, allow_null=True, default=None)

    def validate_port_call(self, value):
        if value is None:
            return None
        call = visible_port_calls(self.context["request"].user).filter(pk=value).first()
        if call is None:
            raise serializers.ValidationError(_("Unknown port call."))
        return call


class TestOutSerializer(serializers.ModelSerializer):
    id_number = serializers.CharField(source="person.id_number")
    full_name = serializers.CharField(source="person.full_name")
    port_call = serializers.IntegerField(source="port_call_id", allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = ScreeningTest
        fields = [
            "id",
            "id_number",
            "full_name",
            "kind",
            "sampled_at",
            "result",
            "result_at",
            "port_call",
            "kit_lot",
            "client_uuid",
            "recorded_by",
            "recorded_at",
        ]


TEST_OUT_EXAMPLE = {
    "id": 41,
    "id_number": "022081000123",
    "full_name": "Nguyễn Văn Hùng",
    "kind": "rapid",
    "sampled_at": "2021-08-12T09:05:00+07:00",
    "result": "negative",
    "result_at": "2021-08-12T09:22:00+07:00",
    "port_call": 12,
    "kit_lot": "AG-2108-55",
    "client_uuid": "6f1c1c36-8a4e-4c55-9d49-4d0f2c1b8e11",
    "recorded_by": "kiemsoat.lan",
    "recorded_at": "2021-08-12T09:22:03+07:00",
}


class TestCreate(APIView):
    @extend_schema(
        request=TestInSerializer,
        responses={
            201: OpenApiResponse(TestOutSerializer, examples=[OpenApiExample("Recorded", value=TEST_OUT_EXAMPLE)]),
            200: OpenApiResponse(
                TestOutSerializer,
                description="Retry with a known client_uuid: the first record",
                examples=[OpenApiExample("The first record", value=TEST_OUT_EXAMPLE)],
            ),
            400: error_doc(
                "Validation error naming the field",
                **{
                    "Sample in the future": {
                        "error": "invalid",
                        "message": "This time is in the future.",
                        "fields": {"sampled_at": ["This time is in the future."]},
                    }
                },
            ),
            403: FORBIDDEN_DOC,
        },
        examples=[
            OpenApiExample(
                "Negative rapid test at the berth",
                value={
                    "id_number": "022081000123",
                    "kind": "rapid",
                    "sampled_at": "2021-08-12T09:05:00+07:00",
                    "result": "negative",
                    "port_call": 1,
                    "client_uuid": "6f1c1c36-8a4e-4c55-9d49-4d0f2c1b8e11",
                },
                request_only=True,
            )
        ],
        summary="Record a test result (idempotent by client_uuid)",
    )
    def post(self, request):
        form = TestInSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        person = find_person(data["id_number"])
        # Sent without its port call, the rules place it (the person's open call, or
        # their station) and refuse anyone whose wharves and stations it is not in.
        port_call = data["port_call"]
        test, created = record_test(
            request.user,
            TestData(
                person=person,
                kind=data["kind"],
                sampled_at=data["sampled_at"],
                result=data["result"],
                port_call=port_call,
                kit_lot=data["kit_lot"],
                client_uuid=data["client_uuid"],
            ),
            now=timezone.now(),
        )
        # As recorded (its person and recorder already loaded), or the first record of a
        # retry (read with them): no further query.
        return Response(TestOutSerializer(test).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
