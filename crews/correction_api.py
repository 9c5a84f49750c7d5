"""``POST /api/v1/tests/{id}/corrections/``: correct a recorded result (SPEC §2)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard.api import NOT_FOUND_DOC, error_doc

from .api import TEST_OUT_EXAMPLE, TestOutSerializer
from .choices import TestResult
from .corrections import REASON_MAX, correct_test
from .models import ScreeningTest
from .scope import visible_tests


class CorrectionInSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=TestResult.choices)
    reason = serializers.CharField(max_length=REASON_MAX)


class CorrectionOutSerializer(TestOutSerializer):
    supersedes = serializers.IntegerField(source="supersedes_id")

    class Meta(TestOutSerializer.Meta):
        fields = [*TestOutSerializer.Meta.fields, "supersedes", "correction_reason"]


CORRECTION_OUT_EXAMPLE = {
    **TEST_OUT_EXAMPLE,
    "id": 42,
    "client_uuid": None,
    "recorded_by": "yte.hoa",
    "recorded_at": "2021-08-12T10:02:00+07:00",
    "result_at": "2021-08-12T10:02:00+07:00",
    "supersedes": 41,
    "correction_reason": "Nhập nhầm kết quả: kit đọc âm tính.",
}


class TestCorrectionCreate(APIView):
    @extend_schema(
        request=CorrectionInSerializer,
        responses={
            201: OpenApiResponse(
                CorrectionOutSerializer,
                description="The correction: a new record that supersedes the original",
                examples=[OpenApiExample("Corrected", value=CORRECTION_OUT_EXAMPLE)],
            ),
            400: error_doc(
                "Validation error naming the field",
                **{
                    "No reason": {
                        "error": "validation_error",
                        "message": "reason: This field is required.",
                        "fields": {"reason": ["This field is required."]},
                    }
                },
            ),
            403: error_doc(
                "Only health officers, or whoever recorded the result within the same shift, correct it",
                **{
                    "Forbidden": {
                        "error": "forbidden",
                        "message": (
                            "Only a health officer, or whoever recorded it within 8 hours, corrects this result."
                        ),
                    }
                },
            ),
            404: NOT_FOUND_DOC,
            409: error_doc(
                "The result was already corrected: correct the correction",
                **{
                    "Already corrected": {
                        "error": "already_corrected",
                        "message": "This result was already corrected.",
                    }
                },
            ),
        },
        examples=[
            OpenApiExample(
                "A positive rapid test entered by mistake",
                value={"result": "negative", "reason": "Nhập nhầm kết quả: kit đọc âm tính."},
                request_only=True,
            )
        ],
        summary="Correct a recorded result (a new record that supersedes it, with a reason)",
    )
    def post(self, request, pk: int):
        original = get_object_or_404(visible_tests(request.user), pk=pk)
        form = CorrectionInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        test = correct_test(request.user, original, data["result"], data["reason"], now=timezone.now())
        test = ScreeningTest.objects.select_related("person", "recorded_by").get(pk=test.pk)
        return Response(CorrectionOutSerializer(test).data, status=status.HTTP_201_CREATED)
