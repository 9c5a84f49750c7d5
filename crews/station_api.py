"""The KCS station API (SPEC §6, rule R3): stations, rosters in and out, test schedules."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard import tabular
from portguard.api import FORBIDDEN_DOC, NOT_FOUND_DOC, error_doc
from portguard.domain import InvalidFile

from . import pools, stations
from .labels_pdf import labels_pdf, manifest_pdf
from .models import KcsStation
from .schedule_pdf import schedule_pdf

MAX_DAYS = 62
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    wharf = serializers.CharField(source="wharf.code")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day, YYYY-MM-DD; today by default.")
    days = serializers.IntegerField(required=False, default=7, min_value=1, max_value=MAX_DAYS)


RosterRowOut = inline_serializer(
    "RosterRow",
    {
        "id_number": serializers.CharField(),
        "full_name": serializers.CharField(),
        "date": serializers.DateField(),
        "shift": serializers.CharField(),
    },
    many=True,
)

ScheduleRowOut = inline_serializer(
    "ScheduleRow",
    {
        "id_number": serializers.CharField(),
        "full_name": serializers.CharField(),
        "date": serializers.DateField(),
        "shift": serializers.CharField(
            help_text="The shift after which a rapid test is due; for RT-PCR, the shift worked that day if any."
        ),
        "kind": serializers.CharField(help_text="rapid or rt_pcr"),
        "due_from": serializers.DateTimeField(),
        "due_by": serializers.DateTimeField(),
        "state": serializers.ChoiceField(
            choices=["done", "due", "overdue", "blocked"],
            help_text="blocked: the staff member is off duty after a positive, until a negative RT-PCR after it.",
        ),
        "pool": serializers.CharField(help_text="The lab pool of an RT-PCR sample."),
    },
    many=True,
)

PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); today by default."),
    OpenApiParameter("days", OpenApiTypes.INT, description=f"Number of days, 1 to {MAX_DAYS}; 7 by default."),
]

STATION_EXAMPLE = {"code": "KCS-CP-01", "name": "Trạm KCS Cửa Ông", "wharf": "CP-01"}
ROSTER_EXAMPLE = [
    {"id_number": "022190001234", "full_name": "Nguyễn Thị Hằng", "date": "2021-08-09", "shift": "S1"},
    {"id_number": "022185004321", "full_name": "Trần Đức Mạnh", "date": "2021-08-09", "shift": "S3"},
]
SCHEDULE_EXAMPLE = [
    {
        "id_number": "022190001234",
        "full_name": "Nguyễn Thị Hằng",
        "date": "2021-08-09",
        "shift": "S1",
        "kind": "rapid",
        "due_from": "2021-08-09T14:00:00+07:00",
        "due_by": "2021-08-09T16:00:00+07:00",
        "state": "done",
        "pool": "",
    },
    {
        "id_number": "022190001234",
        "full_name": "Nguyễn Thị Hằng",
        "date": "2021-08-10",
        "shift": "S1",
        "kind": "rt_pcr",
        "due_from": "2021-08-10T00:00:00+07:00",
        "due_by": "2021-08-11T00:00:00+07:00",
        "state": "due",
        "pool": "20210810-1",
    },
]

NOT_IN_SCOPE = NOT_FOUND_DOC

INVALID_FILE = error_doc(
    "Nothing saved: every problem with its row (header = row 1), column and message",
    **{
        "Bad rows": {
            "error": "invalid_file",
            "message": "The roster has 2 problems; nothing was saved.",
            "rows": [
                {"row": 3, "column": "date", "message": "31/02/2021 is not a date such as 2021-08-09 or 09/08/2021."},
                {"row": 5, "column": "shift", "message": "Unknown shift S9: this station's shifts are S1, S2, S3."},
            ],
        }
    },
)


def station_or_404(request, code: str) -> KcsStation:
    return get_object_or_404(stations.visible_stations(request.user), code=code.strip().upper())


def period_of(request) -> tuple:
    form = PeriodSerializer(data=request.query_params)
    form.is_valid(raise_exception=True)
    start = form.validated_data.get("start") or timezone.localdate()
    return start, form.validated_data["days"]


class StationList(APIView):
    @extend_schema(
        responses=OpenApiResponse(
            StationSerializer(many=True), examples=[OpenApiExample("Cẩm Phả", value=[STATION_EXAMPLE])]
        ),
        summary="KCS stations the caller may see",
    )
    def get(self, request):
        return Response(StationSerializer(stations.visible_stations(request.user), many=True).data)


class StationRoster(APIView):
    throttle_uploads = True  # its POST (portguard/throttling.py)

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={
            200: OpenApiResponse(RosterRowOut, examples=[OpenApiExample("Two staff on Monday", value=ROSTER_EXAMPLE)]),
            404: NOT_IN_SCOPE,
        },
        summary="A station's roster for a period",
    )
    def get(self, request, code: str):
        station = station_or_404(request, code)
        start, days = period_of(request)
        return Response(
            [
                {
                    "id_number": entry.staff.person.id_number,
                    "full_name": entry.staff.person.full_name,
                    "date": entry.date.isoformat(),
                    "shift": entry.shift.code,
                }
                for entry in stations.roster_of(station, start, days)
            ]
        )

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={
            201: OpenApiResponse(
                inline_serializer(
                    "RosterLoaded", {"station": serializers.CharField(), "count": serializers.IntegerField()}
                ),
                examples=[OpenApiExample("Loaded", value={"station": "KCS-CP-01", "count": 112})],
            ),
            400: INVALID_FILE,
            403: FORBIDDEN_DOC,
            404: NOT_IN_SCOPE,
        },
        summary="Load a roster from CSV or XLSX (columns id_number, full_name, date, shift)",
        description=(
            "All or nothing. The dates in the file are replaced by its rows; people not yet registered are "
            "created and join the station's staff."
        ),
    )
    def post(self, request, code: str):
        station = station_or_404(request, code)
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidFile(_("Attach the roster as a CSV or XLSX file in the field “file”."), [])
        count = stations.load_roster_file(request.user, station, upload)
        return Response({"station": station.code, "count": count}, status=status.HTTP_201_CREATED)


class StationSchedule(APIView):
    """The test schedule as JSON, or as a CSV, XLSX or PDF file when the route gives ``fmt``."""

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={
            200: OpenApiResponse(
                ScheduleRowOut, examples=[OpenApiExample("A rapid test done, an RT-PCR due", value=SCHEDULE_EXAMPLE)]
            ),
            404: NOT_IN_SCOPE,
        },
        summary="A station's test schedule for a period, with each test's state now (rule R3)",
    )
    def get(self, request, code: str, fmt: str = "json"):
        station = station_or_404(request, code)
        start, days = period_of(request)
        now = timezone.now()
        plan = stations.plan_station(station, start, days, now)
        if fmt == "json":
            # Written by the plan from pieces formatted once each, rather than through the
            # renderer, which would encode every value of thousands of rows one by one.
            return HttpResponse(plan.json(), content_type="application/json")
        if fmt == "pdf":
            body, content_type = schedule_pdf(station, start, days, plan, printed_at=now), "application/pdf"
        elif fmt == "csv":
            body, content_type = tabular.to_csv(plan.rows(), stations.SCHEDULE_COLUMNS), "text/csv; charset=utf-8"
        else:
            body = tabular.to_xlsx(plan.rows(), stations.SCHEDULE_COLUMNS, sheet=station.code)
            content_type = XLSX
        filename = f"schedule-{station.code}-{start.isoformat()}-{days}d.{fmt}"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class StationScheduleFile(StationSchedule):
    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 with BOM"),
            (200, XLSX): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="A4 landscape, to print"),
            404: NOT_IN_SCOPE,
        },
        summary="A station's test schedule as a CSV, XLSX or PDF file",
    )
    def get(self, request, code: str, fmt: str):
        return super().get(request, code, fmt)


class DaySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="The day, YYYY-MM-DD; today by default.")


DAY_PARAMETERS = [OpenApiParameter("date", OpenApiTypes.DATE, description="The day (YYYY-MM-DD); today by default.")]

POOLS_EXAMPLE = {
    "station": "KCS-CP-01",
    "date": "2021-08-10",
    "pools": [
        {
            "pool_id": "KCS-CP-01-20210810-P01-Q",
            "samples": [
                {
                    "sample_id": "KCS-CP-01-20210810-P01-1-5",
                    "position": 1,
                    "id_number": "022190001234",
                    "full_name": "Nguyễn Thị Hằng",
                }
            ],
        }
    ],
}

PoolsOut = inline_serializer(
    "DayPools",
    {
        "station": serializers.CharField(),
        "date": serializers.DateField(),
        "pools": inline_serializer(
            "Pool",
            {
                "pool_id": serializers.CharField(help_text="As printed; the lab uploads it in the column pool_id."),
                "samples": inline_serializer(
                    "PooledSample",
                    {
                        "sample_id": serializers.CharField(),
                        "position": serializers.IntegerField(),
                        "id_number": serializers.CharField(),
                        "full_name": serializers.CharField(),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
    },
)

POOLS_DESCRIPTION = (
    "The day's RT-PCR samples in their labelled pools (rule R7). The first request for a day keeps its pools "
    "as the schedule plans them; later requests add pools for people planned since and never change a pool "
    "already given, so labels printed twice carry the same IDs."
)


def day_of(request):
    form = DaySerializer(data=request.query_params)
    form.is_valid(raise_exception=True)
    return form.validated_data.get("date") or timezone.localdate()


class StationPools(APIView):
    """A day's labelled pools as JSON, or as the manifest's CSV or PDF when the route gives ``fmt``."""

    @extend_schema(
        parameters=DAY_PARAMETERS,
        responses={
            200: OpenApiResponse(PoolsOut, examples=[OpenApiExample("One pool", value=POOLS_EXAMPLE)]),
            404: NOT_IN_SCOPE,
        },
        summary="A station's labelled pools of a day",
        description=POOLS_DESCRIPTION,
    )
    def get(self, request, code: str, fmt: str = "json"):
        station = station_or_404(request, code)
        day = day_of(request)
        now = timezone.now()
        printed = pools.day_pools(request.user, station, day, now)
        if fmt == "json":
            return HttpResponse(printed.json(), content_type="application/json")
        if fmt == "pdf":
            body, content_type = manifest_pdf(printed, printed_at=now), "application/pdf"
        else:
            body, content_type = tabular.to_csv(printed.rows(), pools.MANIFEST_COLUMNS), "text/csv; charset=utf-8"
        return _attachment(body, content_type, f"pools-{station.code}-{day.isoformat()}.{fmt}")


class StationPoolsFile(StationPools):
    @extend_schema(
        parameters=DAY_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 with BOM, a row per sample"),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="A4, for the lab"),
            404: NOT_IN_SCOPE,
        },
        summary="A station's pool manifest of a day as a CSV or PDF file",
        description=POOLS_DESCRIPTION,
    )
    def get(self, request, code: str, fmt: str):
        return super().get(request, code, fmt)


class StationLabels(APIView):
    @extend_schema(
        parameters=DAY_PARAMETERS,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="A4 sheets of 3 × 8 labels of 70 × 37 mm, each with a QR code"
            ),
            404: NOT_IN_SCOPE,
        },
        summary="A station's sample labels of a day, to print",
        description=POOLS_DESCRIPTION,
    )
    def get(self, request, code: str):
        station = station_or_404(request, code)
        day = day_of(request)
        printed = pools.day_pools(request.user, station, day)
        return _attachment(labels_pdf(printed), "application/pdf", f"labels-{station.code}-{day.isoformat()}.pdf")


def _attachment(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
