"""The API's feed of results (``GET /api/v1/tests/``: every change exactly once, by
cursor, ``crews.sync``) and its search of people (``GET /api/v1/people/?q=``)."""

import base64
import binascii
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portguard import keyset
from portguard.api import FORBIDDEN_DOC
from portguard.collation import fold_name
from vessels.list_api import CURSOR_PARAMS, bad_param_doc, check_params, list_doc, page_params, paged
from vessels.search import MIN_LENGTH, people_matching

from .access_log import door_of, record_read
from .api import TestCreate
from .choices import ReadKind
from .sync import Position, read, valid_snapshot

FEED_LIMIT = 500
FEED_MAX_LIMIT = 5000
# A cursor carries two snapshots, each listing the transactions then in progress.
CURSOR_MAX = 20000

TEST_ROW = {
    "id": 42,
    "person": {"id": 51, "id_number": "022081000123", "full_name": "Nguyễn Văn Hùng"},
    "kind": "rapid",
    "sampled_at": "2021-08-12T09:05:00+07:00",
    "result": "positive",
    "result_at": "2021-08-12T09:40:00+07:00",
    "port_call": 12,
    "station": None,
    "wharf": "CP-02",
    "kit_lot": "AG-2108-55",
    "pool_id": "",
    "lab": "",
    "recorded_by": "yte.minh",
    "recorded_at": "2021-08-12T09:40:03+07:00",
    "supersedes": 41,
    "correction_reason": "Nhập nhầm kết quả",
}


def encode_position(position: Position, recorded_after) -> str:
    plain = [
        position.previous,
        position.current,
        position.txid,
        position.id,
        recorded_after.isoformat() if recorded_after else None,
    ]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_position(cursor: str) -> tuple[Position, datetime | None]:
    bad = serializers.ValidationError({"cursor": [_("Not a cursor this list gave.")]})
    try:
        values = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise bad from None
    if not (isinstance(values, list) and len(values) == 5):
        raise bad
    previous, current, txid, pk, since = values
    if not all(isinstance(v, str) and (v == "" or valid_snapshot(v)) for v in (previous, current)):
        raise bad
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in (txid, pk)):
        raise bad
    if since is not None:
        since = parse_datetime(since) if isinstance(since, str) else None
        if since is None or since.tzinfo is None:
            raise bad
    return Position(previous, current, txid, pk), since


class FeedParams(serializers.Serializer):
    updated_after = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False, max_length=CURSOR_MAX)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=FEED_MAX_LIMIT, default=FEED_LIMIT)

    def validate(self, data):
        if "cursor" in data and "updated_after" in data:
            raise serializers.ValidationError(
                {"updated_after": [_("Give updated_after to start, then only the cursor: it remembers it.")]}
            )
        return data


class LocalTimes:
    """ISO 8601 in the local time zone, for a page of a thousand rows: converting each
    time through the zone costs more than all the rest of a row, so the zone's offset is
    found once per minute of UTC time (offsets change on whole minutes)."""

    def __init__(self, zone):
        self.zone = zone
        self.offsets: dict[datetime, tuple[timedelta, dt_timezone]] = {}

    def __call__(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        minute = value.replace(second=0, microsecond=0)
        found = self.offsets.get(minute)
        if found is None:
            offset = value.astimezone(self.zone).utcoffset()
            found = self.offsets[minute] = (offset, dt_timezone(offset))
        return (value + found[0]).replace(tzinfo=found[1]).isoformat()


def test_row(row: dict, local: LocalTimes) -> dict:
    return {
        "id": row["id"],
        "person": {
            "id": row["person_id"],
            "id_number": row["person__id_number"],
            "full_name": row["person__full_name"],
        },
        "kind": row["kind"],
        "sampled_at": local(row["sampled_at"]),
        "result": row["result"],
        "result_at": local(row["result_at"]),
        "port_call": row["port_call_id"],
        "station": row["station__code"],
        "wharf": row["port_call__wharf__code"] or row["wharf__code"],
        "kit_lot": row["kit_lot"],
        "pool_id": row["pool_id"],
        "lab": row["lab"],
        "recorded_by": row["recorded_by__username"],
        "recorded_at": local(row["recorded_at"]),
        "supersedes": row["supersedes_id"],
        "correction_reason": row["correction_reason"],
    }


class Tests(TestCreate):
    """``GET`` follows the feed of results; ``POST`` records one (``TestCreate``)."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "updated_after",
                str,
                description="Start the sync with the results recorded after this time (ISO 8601); "
                "then follow `next` alone",
                examples=[OpenApiExample("Since a morning", value="2021-08-12T06:00:00+07:00")],
            ),
            OpenApiParameter("cursor", str, description="The `next` of the previous answer; none to start"),
            OpenApiParameter("limit", int, description=f"Rows a page (default {FEED_LIMIT}, at most {FEED_MAX_LIMIT})"),
        ],
        responses={
            200: OpenApiResponse(
                inline_serializer(
                    "TestFeedPage",
                    {
                        "results": serializers.ListField(child=serializers.DictField()),
                        "next": serializers.CharField(help_text="Where to continue: always given; keep it"),
                        "more": serializers.BooleanField(help_text="More rows wait now; false: poll `next` later"),
                    },
                ),
                examples=[
                    OpenApiExample(
                        "A correction arriving as its own row",
                        value={"results": [TEST_ROW], "next": "WzczNDQxLDQyLG51bGxd", "more": False},
                    )
                ],
            ),
            400: bad_param_doc("cursor", "Not a cursor this list gave."),
            403: FORBIDDEN_DOC,
        },
        operation_id="tests_list",
        summary="Every result recorded in the caller's scope, corrections included, each once, in commit order",
        description=(
            "A result is never edited: a correction is a new row whose `supersedes` names the one it replaces. "
            "Follow `next` until `more` is false, keep the last `next`, and start from it next time: every row "
            "is handed out exactly once, whatever was written meanwhile."
        ),
    )
    def get(self, request):
        if not request.user.has_perm("crews.view_screeningtest"):
            raise PermissionDenied
        check_params(request, {"updated_after", "cursor", "limit"})
        params = FeedParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data
        position, since = Position(), wanted.get("updated_after")
        if "cursor" in wanted:
            position, since = decode_position(wanted["cursor"])
        page = read(request.user, position, wanted["limit"], since)
        record_read(request.user, ReadKind.RESULTS_FEED, **door_of(request), count=len(page.rows))
        local = LocalTimes(timezone.get_current_timezone())
        return Response(
            {
                "results": [test_row(row, local) for row in page.rows],
                "next": encode_position(page.next, since),
                "more": page.more,
            }
        )


PERSON_ROW = {
    "id": 51,
    "id_number": "022081000123",
    "id_kind": "cccd",
    "full_name": "Nguyễn Văn Hùng",
    "date_of_birth": "1981-04-02",
}


class PeopleParams(keyset.PageParams):
    q = serializers.CharField(max_length=100, help_text="A name, with or without diacritics, or an ID number")

    def validate_q(self, value):
        if len(fold_name(value)) < MIN_LENGTH:
            raise serializers.ValidationError(_("Give at least %(n)d characters.") % {"n": MIN_LENGTH})
        return value


class PeopleSearch(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description="A name (diacritics optional) or an ID number",
                examples=[OpenApiExample("Without diacritics", value="nguyen van hung")],
            ),
            *CURSOR_PARAMS,
        ],
        responses={
            200: list_doc("PersonPage", PERSON_ROW, {}),
            400: bad_param_doc("q", "Give at least 2 characters."),
            403: FORBIDDEN_DOC,
        },
        operation_id="people_list",
        summary="People whose history the caller may read, by name or ID number, as the header's search finds them",
    )
    def get(self, request):
        if not request.user.has_perm("crews.view_screeningtest"):
            raise PermissionDenied
        check_params(request, {"q", "cursor", "limit"})
        params = PeopleParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        paging = page_params(request)
        page, next_cursor = keyset.page_of(
            people_matching(request.user, params.validated_data["q"]),
            ("name_folded", "id"),
            (str, int),
            paging.get("cursor"),
            paging["limit"],
        )
        return Response(
            paged(
                [
                    {
                        "id": p.pk,
                        "id_number": p.id_number,
                        "id_kind": p.id_kind,
                        "full_name": p.full_name,
                        "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None,
                    }
                    for p in page
                ],
                next_cursor,
            )
        )
