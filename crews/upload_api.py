"""The upload endpoints of SPEC §6: a port call's crew list and a lab's results, as CSV
or XLSX. A good file answers 201 with a count; a bad one 400 with every bad row."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC, error_doc
from portguard.domain import InvalidFile
from vessels.scope import visible_port_calls

from .crew_lists import load_crew_list
from .lab_results import load_lab_results

FILE_REQUEST = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "format": "binary",
                "description": (
                    "A CSV (UTF-8, or UTF-16 with a byte-order mark) or XLSX file, at most PORTGUARD_UPLOAD_MAX_MB; "
                    "cells starting with = or @, and names or IDs starting with + or -, are refused as formulas"
                ),
            }
        },
        "required": ["file"],
    }
}


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="As in the spreadsheet: the header is row 1.")
    column = serializers.CharField()
    message = serializers.CharField()


class InvalidFileSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="invalid_file")
    message = serializers.CharField()
    rows = ProblemSerializer(many=True)


def invalid_file(example_rows: list[dict], message: str) -> OpenApiResponse:
    return OpenApiResponse(
        InvalidFileSerializer,
        description="Nothing saved: every problem with its row (header = row 1), column and message",
        examples=[
            OpenApiExample("Bad rows", value={"error": "invalid_file", "message": message, "rows": example_rows})
        ],
    )


def uploaded_file(request):
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidFile(_("Attach a CSV or XLSX file in the field “file”."), [])
    return upload


class CrewListUpload(APIView):
    throttle_uploads = True  # portguard/throttling.py
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=FILE_REQUEST,
        responses={
            201: OpenApiResponse(
                inline_serializer(
                    "CrewListLoaded", {"port_call": serializers.IntegerField(), "count": serializers.IntegerField()}
                ),
                examples=[OpenApiExample("Loaded", value={"port_call": 12, "count": 6})],
            ),
            400: invalid_file(
                [
                    {"row": 3, "column": "role", "message": "cook is not a role: write captain, crew or worker."},
                    {"row": 5, "column": "id_number", "message": "022081000123 is already on the manifest."},
                ],
                "The crew list has 2 problems; nothing was saved.",
            ),
            403: FORBIDDEN_DOC,
            404: NOT_FOUND_DOC,
            409: error_doc(
                "The vessel has departed", Departed={"error": "departed", "message": "The vessel has departed."}
            ),
        },
        summary="Load a crew list (IMO FAL Form 5 columns) from CSV or XLSX",
        description=(
            "Columns full_name, role (captain, crew, worker or thuyền trưởng, thuyền viên, người lao động) and "
            "id_number are required; nationality, date_of_birth and id_kind are optional. All or nothing: people "
            "already registered are matched by their document, new ones are created."
        ),
    )
    def post(self, request, pk: int):
        call = get_object_or_404(visible_port_calls(request.user), pk=pk)
        members = load_crew_list(request.user, call.pk, uploaded_file(request))
        return Response({"port_call": call.pk, "count": len(members)}, status=status.HTTP_201_CREATED)


class LabResultsUpload(APIView):
    throttle_uploads = True  # portguard/throttling.py
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=FILE_REQUEST,
        responses={
            201: OpenApiResponse(
                inline_serializer(
                    "LabResultsLoaded",
                    {
                        "count": serializers.IntegerField(),
                        "retest": serializers.ListField(child=serializers.DictField()),
                    },
                ),
                description="Members of a positive pool are recorded pending and listed under retest",
                examples=[
                    OpenApiExample(
                        "A positive pool",
                        value={
                            "count": 7,
                            "retest": [
                                {
                                    "row": 4,
                                    "id_number": "022081000123",
                                    "full_name": "Nguyễn Văn Hùng",
                                    "pool_id": "P-0812-07",
                                    "port_call": 12,
                                }
                            ],
                        },
                    )
                ],
            ),
            400: invalid_file(
                [
                    {"row": 2, "column": "id_number", "message": "Nobody with ID number 022081000999 is registered."},
                    {"row": 8, "column": "pool_id", "message": "Pool P-07 has 6 samples; a pool holds at most 5."},
                ],
                "The results file has 2 problems; nothing was saved.",
            ),
            403: FORBIDDEN_DOC,
        },
        summary="Load a lab's results (pooled RT-PCR included) from CSV or XLSX",
        description=(
            "Columns id_number, kind (rapid, rt_pcr, rt_pcr_pooled), sampled_at (ISO 8601 with offset, or "
            "dd/mm/yyyy HH:MM in Vietnam time) and result are required; pool_id (for pooled samples), sample_id, "
            "lab, port_call and kit_lot are optional. All or nothing, in one transaction. A negative pool makes "
            "each member negative; a positive pool makes each member pending, to be retested alone."
        ),
    )
    def post(self, request):
        loaded = load_lab_results(request.user, uploaded_file(request))
        return Response(
            {"count": len(loaded.tests), "retest": [vars(r) for r in loaded.retest]}, status=status.HTTP_201_CREATED
        )
