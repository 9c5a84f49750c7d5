"""The printed test schedule (rule R3) for one station of 500 staff × 28 days, as JSON,
CSV and PDF through the API, each beside a floor measured in the same run: for the JSON
and the CSV, a plain read of the same roster rows dumped as they come; for the PDF, a
bare reportlab table of the same cells. Then the day's sample labels of the same station
(rule R7) beside a bare reportlab page of the same QR codes."""

import csv
import io
import json
import time
from collections import Counter
from datetime import datetime, timedelta

STAFF = 500
SMALL_STAFF = 50  # a second station, to show the query count does not grow with the staff
DAYS = 28
REPEATS = 15  # of each request and its floor; the PDF takes seconds, so fewer of it
PDF_REPEATS = 7


def _supervisor():
    """A wharf, and a supervisor with an API token."""
    from django.contrib.auth.models import Group, User

    from portguard import roles
    from tests.helpers import token_for
    from vessels.choices import Locality, WharfKind
    from vessels.models import Wharf

    wharf = Wharf.objects.create(
        code="UB-07", name="Bến Điền Công", locality=Locality.UONG_BI, kind=WharfKind.WHARF, route_order=40
    )
    user = User.objects.create_user("bench-supervisor")
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    return wharf, user, token_for(user)


def _station(code: str, staff: int, id_prefix: str, wharf, user):
    """A station with ``staff`` people on a rotating roster of DAYS days (one day off a
    week), a past RT-PCR for two in three of them, and the rapid tests of most shifts
    already worked: the period is half past, half to come. Returns it and the period's
    first day."""
    from django.utils import timezone

    from crews.models import Person
    from crews.results import TestData
    from crews.stations import RosterLine, create_station, load_roster, record_staff_tests, station_schedule

    station = create_station(code=code, name=f"Trạm KCS Điền Công {code[-2:]}", wharf=wharf, supervisors=[user])
    now = timezone.now()
    start = timezone.localdate(now) - timedelta(days=DAYS // 2)
    names = ["Nguyễn Thị Hằng", "Trần Đức Mạnh", "Phạm Văn Quý", "Lê Thị Thuỷ", "Đỗ Quốc Việt", "Vũ Ngọc Ánh"]
    lines = []
    for i in range(staff):
        for d in range(DAYS):
            if (d + i) % 7 == 6:
                continue  # a day off a week, on a different weekday for each
            lines.append(
                RosterLine(
                    row=len(lines) + 2,
                    id_number=f"{id_prefix}{i:08d}",
                    full_name=f"{names[i % len(names)]} {i}",
                    date=(start + timedelta(days=d)).isoformat(),
                    shift=f"S{(i + d // 7) % 3 + 1}",  # the shift rotates weekly
                )
            )
    load_roster(user, station, lines)

    people = Person.objects.filter(id_number__startswith=id_prefix).order_by("id_number")
    day_before = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    prior = [
        TestData(
            person=person,
            kind="rt_pcr",
            sampled_at=day_before - timedelta(days=1 + i % 3) + timedelta(hours=9),
            result="negative",
        )
        for i, person in enumerate(people)
        if i % 3 != 2
    ]
    record_staff_tests(user, station, prior, now=now)
    # Most rapid tests of the shifts already over were taken in their window.
    done = [
        TestData(
            person=entry.person,
            kind=entry.planned.kind,
            sampled_at=entry.planned.due_from + timedelta(minutes=20),
            result="negative",
        )
        for index, entry in enumerate(station_schedule(station, start, DAYS, now))
        if entry.planned.kind == "rapid" and entry.planned.due_from + timedelta(minutes=20) < now and index % 5
    ]
    record_staff_tests(user, station, done, now=now)
    return station, start


def _timed(action, floor, repeats: int = REPEATS) -> tuple[list[float], list[float]]:
    """Samples of ``action`` and of its ``floor``, taken in turn so that a change in the
    machine's load weighs on both alike, after one warm-up each (imports, caches, fonts)."""
    samples: tuple[list[float], list[float]] = ([], [])
    action()
    floor()
    for _ in range(repeats):
        for timed, times in ((action, samples[0]), (floor, samples[1])):
            started = time.perf_counter()
            timed()
            times.append(time.perf_counter() - started)
    return samples


def _roster_floor(station, start, as_csv: bool):
    """The plain read: the period's roster rows with their people, unsorted (the model's
    ordering would add a sort the floor need not do), dumped as they come."""
    from crews.models import RosterEntry

    def read() -> bytes:
        rows = [
            {"id_number": id_number, "full_name": name, "date": day.isoformat(), "shift": shift}
            for id_number, name, day, shift in RosterEntry.objects.filter(
                staff__station=station, date__gte=start, date__lt=start + timedelta(days=DAYS)
            )
            .order_by()
            .values_list("staff__person__id_number", "staff__person__full_name", "date", "shift__code")
        ]
        if not as_csv:
            return json.dumps(rows, ensure_ascii=False).encode()
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return text.getvalue().encode("utf-8-sig")

    return read


def _bare_pdf(weeks):
    """A bare reportlab table of the same cells, its header row on every page like the
    schedule's: the DejaVu font and nothing else."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from portguard.pdf import FONT, register_fonts

    register_fonts()
    style = TableStyle([("FONT", (0, 0), (-1, -1), FONT, 7)])

    def build() -> bytes:
        buffer = io.BytesIO()
        SimpleDocTemplate(buffer, pagesize=landscape(A4)).build(
            [Table(week.rows, colWidths=week.widths, style=style, repeatRows=1) for week in weeks]
        )
        return buffer.getvalue()

    return build


def _bare_codes(printed):
    """The same QR codes as the day's label sheet, drawn in the same places with nothing
    else: no text, no font."""
    from reportlab.graphics import renderPDF
    from reportlab.pdfgen import canvas

    from crews import labels_pdf

    codes = [
        code
        for pool in printed.pools
        for code in (
            labels_pdf.pool_code(pool, printed),
            *(labels_pdf.sample_code(sample, pool, printed) for sample in pool.samples),
        )
    ]
    per_page = labels_pdf.COLUMNS * labels_pdf.ROWS

    def build() -> bytes:
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=labels_pdf.A4, pageCompression=1)
        for index, code in enumerate(codes):
            if index and index % per_page == 0:
                pdf.showPage()
            place = index % per_page
            x = (place % labels_pdf.COLUMNS) * labels_pdf.LABEL_WIDTH
            y = labels_pdf.A4[1] - (place // labels_pdf.COLUMNS + 1) * labels_pdf.LABEL_HEIGHT
            renderPDF.draw(labels_pdf.qr_drawing(code), pdf, x, y)
        pdf.showPage()
        pdf.save()
        return buffer.getvalue()

    return build, len(codes)


def run() -> list[dict]:
    from django.db import connection
    from rest_framework.test import APIClient

    from crews import pools, schedule_pdf
    from crews.stations import plan_station
    from tests.bench.live_delivery import latency_row

    wharf, user, token = _supervisor()
    station, start = _station("KCS-BENCH-01", STAFF, "0225", wharf, user)
    small, _start = _station("KCS-BENCH-02", SMALL_STAFF, "0226", wharf, user)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    period = f"?start={start.isoformat()}&days={DAYS}"

    def get(suffix: str, code: str = station.code):
        def call():
            response = client.get(f"/api/v1/stations/{code}/schedule{suffix}{period}")
            assert response.status_code == 200, response.status_code
            return response

        return call

    def queries(call) -> int:
        sent = []
        with connection.execute_wrapper(lambda execute, *args: sent.append(args[0]) or execute(*args)):
            call()
        return len(sent)

    json_get, csv_get, pdf_get = get("/"), get(".csv"), get(".pdf")
    planned = len(json.loads(json_get().content))
    weeks = schedule_pdf.week_cells(plan_station(station, start, DAYS), start, DAYS)
    size = f"{STAFF} staff × {DAYS} days"
    # The busiest RT-PCR day of the week (from Monday, as printed) the period is half through.
    middle = start + timedelta(days=DAYS // 2)
    week = plan_station(station, middle - timedelta(days=middle.weekday()), 7)
    today = Counter(test[1] for test in week.planned if test[3] == "rt_pcr").most_common(1)[0][0]

    def labels_get():
        response = client.get(f"/api/v1/stations/{station.code}/labels.pdf?date={today.isoformat()}")
        assert response.status_code == 200, response.status_code
        return response

    labels_get()  # the day's first print keeps its pools; the row times the prints after it
    bare_codes, codes = _bare_codes(pools.day_pools(user, station, today))
    return [
        latency_row(
            f"schedule JSON, {size} ({planned} planned tests)",
            *_timed(json_get, _roster_floor(station, start, as_csv=False)),
            floor_name=f"plain read of the same {size} roster rows, json.dumps",
        ),
        latency_row(
            f"schedule CSV, {size}",
            *_timed(csv_get, _roster_floor(station, start, as_csv=True)),
            floor_name=f"plain read of the same {size} roster rows, csv module",
        ),
        latency_row(
            f"schedule PDF, {size}",
            *_timed(pdf_get, _bare_pdf(weeks), PDF_REPEATS),
            floor_name="bare reportlab table of the same cells (DejaVu Sans, no styling)",
        ),
        latency_row(
            f"sample labels PDF of a day, {STAFF} staff ({codes} QR codes)",
            *_timed(labels_get, bare_codes, PDF_REPEATS),
            floor_name="bare reportlab pages of the same QR codes in the same places (no text)",
        ),
        {
            "name": f"schedule JSON request, {SMALL_STAFF} staff: queries",
            "value": queries(get("/", small.code)),
            "unit": "",
        },
        {"name": f"schedule JSON request, {STAFF} staff: queries", "value": queries(json_get), "unit": ""},
    ]
