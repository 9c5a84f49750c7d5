"""A lab's results uploaded as CSV or XLSX, pooled RT-PCR included: every row checked in
a constant number of queries, then recorded whole through ``record_tests``."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crews.results import TestData, record_tests
from portguard.roles import require_perm
from portguard.tabular import Rows, choice, problem, read_upload, refuse, template_xlsx, to_csv
from vessels.models import PortCall
from vessels.scope import sees_all_wharves, visible_wharves

from .choices import TestKind, TestResult
from .kit_stock import KitLotRefused
from .models import CrewMember, KcsStation, Person, ScreeningTest, StaffMember, id_kind_of, normalise_id_number
from .pools import printed_members
from .stations import visible_stations

LAB_COLUMNS = ("id_number", "kind", "sampled_at", "result", "pool_id", "sample_id", "lab", "port_call", "kit_lot")


LAB_REQUIRED = ("id_number", "kind", "sampled_at", "result")


LAB_ALIASES = {
    "so_giay_to": "id_number",
    "loai_xet_nghiem": "kind",
    "test_kind": "kind",
    "sample_time": "sampled_at",
    "thoi_gian_lay_mau": "sampled_at",
    "ket_qua": "result",
    "pool": "pool_id",
    "ma_mau_gop": "pool_id",
    "ma_mau": "sample_id",
    "laboratory": "lab",
    "phong_xet_nghiem": "lab",
}


KIND_WORDS = {
    "rapid": TestKind.RAPID,
    "test nhanh": TestKind.RAPID,
    "rt pcr": TestKind.RT_PCR,
    "pcr": TestKind.RT_PCR,
    "rt pcr pooled": TestKind.RT_PCR_POOLED,
    "pooled rt pcr": TestKind.RT_PCR_POOLED,
    "rt pcr gop": TestKind.RT_PCR_POOLED,
    "pcr gop": TestKind.RT_PCR_POOLED,
}


RESULT_WORDS = {
    "negative": TestResult.NEGATIVE,
    "am tinh": TestResult.NEGATIVE,
    "positive": TestResult.POSITIVE,
    "duong tinh": TestResult.POSITIVE,
    "pending": TestResult.PENDING,
    "cho ket qua": TestResult.PENDING,
    "invalid": TestResult.INVALID,
    "khong hop le": TestResult.INVALID,
}


_LOCAL_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M")


def parse_sample_time(text: str, tz) -> datetime | str:
    """A sample time, or why it is not one. ISO 8601 must carry its offset
    (``2021-08-12T09:05+07:00``); ``12/08/2021 09:05`` and a spreadsheet's date-time
    cell (``2021-08-12 09:05:00``), which never carry one, are local time in ``tz``."""
    text = re.sub(r"\s+", " ", text.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None and timezone.is_aware(moment):
        return moment
    if moment is not None and "T" in text.upper():
        return _("%(value)s has no time zone: write it as 2021-08-12T09:05+07:00 or 12/08/2021 09:05.") % {
            "value": text
        }
    if moment is None:
        for pattern in _LOCAL_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)  # noqa: DTZ007 - made aware just below
                break
            except ValueError:
                continue
    if moment is None or (len(text) <= 10 and moment.hour == moment.minute == 0):
        return _("%(value)s is not a sample time such as 12/08/2021 09:05 or 2021-08-12T09:05+07:00.") % {"value": text}
    return moment.replace(tzinfo=tz)


@dataclass
class LabLine:
    """One good row, resolved: who, which test, and what it is recorded for."""

    row: int
    person: Person
    kind: str
    sampled_at: datetime
    result: str
    pool_id: str
    lab: str
    kit_lot: str
    port_call: PortCall | None = None
    station: KcsStation | None = None


@dataclass
class Retest:
    """A member of a positive pool: recorded pending, to be tested on their own."""

    row: int
    id_number: str
    full_name: str
    pool_id: str
    port_call: int | None


@dataclass
class LabUpload:
    tests: list
    retest: list[Retest]


def results_file_problems(count: int) -> str:
    return ngettext(
        "The results file has %(count)d problem; nothing was saved.",
        "The results file has %(count)d problems; nothing was saved.",
        count,
    ) % {"count": count}


def lab_guide() -> list[tuple[str, str, str]]:
    yes, no = _("yes"), _("no")
    return [
        ("id_number", yes, _("12-digit CCCD, 9-digit CMND or passport number of a registered person.")),
        ("kind", yes, _("rapid, rt_pcr or rt_pcr_pooled.")),
        ("sampled_at", yes, _("12/08/2021 09:05 (Vietnam time) or 2021-08-12T09:05+07:00.")),
        ("result", yes, _("negative, positive, pending or invalid (âm tính, dương tính…).")),
        (
            "pool_id",
            _("for pools"),
            _("The pool of a pooled sample: one row per person, all with the pool's result (at most %(n)d a pool).")
            % {"n": settings.PORTGUARD_POOL_SIZE}
            + " "
            + _("For KCS staff, the pool ID printed on the station's labels and pool manifest."),
        ),
        ("sample_id", no, _("The lab's own sample ID.")),
        ("lab", no, _("The laboratory's name.")),
        ("port_call", no, _("The port call number; by default the open port call the person is on.")),
        ("kit_lot", no, _("The kit lot.")),
    ]


def lab_template(fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv([], LAB_COLUMNS)
    return template_xlsx(LAB_COLUMNS, "results", lab_guide(), text_columns={"id_number", "sampled_at", "pool_id"})


@dataclass
class _Known:
    """What the rows refer to, loaded in a constant number of queries."""

    people: dict[tuple[str, str], Person]
    calls: dict[int, PortCall]
    on_board: dict[int, list[tuple[datetime, int]]]
    manifests: set[tuple[int, int]]
    stations: dict[int, KcsStation]
    recorded: set[tuple[int, str, datetime, str]]
    visible_wharves: set[int] | None
    times: dict[str, datetime | str]
    # The labelled pools the rows name: station and members by pool ID (crews.pools).
    printed: dict[str, tuple[int, set[int]]]


def _load_known(user, rows: Rows) -> _Known:
    numbers = {normalise_id_number(cells["id_number"]) for _row, cells in rows}
    # Only what a result needs of a person: thousands of rows name thousands of people.
    found = Person.objects.filter(id_number__in=numbers).only("id", "id_kind", "id_number", "full_name")
    people = {(p.id_kind, p.id_number): p for p in found}
    person_ids = [p.pk for p in people.values()]
    given_calls = {int(c["port_call"]) for _r, c in rows if c["port_call"].isdigit() and len(c["port_call"]) < 12}
    manifests = set(
        CrewMember.objects.filter(removed_at__isnull=True, person_id__in=person_ids)
        .filter(Q(port_call__departed_at__isnull=True) | Q(port_call_id__in=given_calls))
        .values_list("port_call_id", "person_id")
    )
    calls = {
        c.pk: c
        for c in PortCall.objects.filter(pk__in=given_calls | {call_id for call_id, _p in manifests}).select_related(
            "vessel", "wharf"
        )
    }
    on_board: dict[int, list[tuple[datetime, int]]] = {}
    for call_id, person_id in manifests:
        call = calls[call_id]
        if call.departed_at is None:
            on_board.setdefault(person_id, []).append((call.arrived_at, call_id))
    stations: dict[int, KcsStation] = {}
    for member in (
        StaffMember.objects.filter(person_id__in=person_ids, active=True, station__in=visible_stations(user))
        .select_related("station__wharf")
        .order_by("station__code")
    ):
        stations.setdefault(member.person_id, member.station)
    tz = ZoneInfo(settings.TIME_ZONE)
    times = {text: parse_sample_time(text, tz) for text in {c["sampled_at"] for _r, c in rows}}
    moments = [t for t in times.values() if isinstance(t, datetime)]
    recorded = set()
    if moments and person_ids:
        recorded = set(
            ScreeningTest.objects.filter(
                person_id__in=person_ids,
                sampled_at__gte=min(moments),
                sampled_at__lte=max(moments),
                superseded_by__isnull=True,
            ).values_list("person_id", "kind", "sampled_at", "result")
        )
    wharves = None if sees_all_wharves(user) else set(visible_wharves(user).values_list("pk", flat=True))
    printed = printed_members({cells["pool_id"] for _row, cells in rows if cells["pool_id"]})
    return _Known(people, calls, on_board, manifests, stations, recorded, wharves, times, printed)


def check_lab_rows(rows: Rows, known: _Known, now: datetime) -> tuple[list[LabLine], list[dict]]:
    """Each row resolved to a person and what the result is for, and every problem:
    no queries. Pools are checked whole once every row has been read."""
    problems: list[dict] = []
    lines: list[LabLine] = []
    skew = timedelta(minutes=settings.PORTGUARD_CLOCK_SKEW_MINUTES)
    seen: dict[tuple, int] = {}
    pools: dict[str, list[tuple[int, str, int]]] = {}
    lengths = {"pool_id": 60, "sample_id": 60, "lab": 200, "kit_lot": 60}
    for number, cells in rows:
        bad = len(problems)

        def add(column: str, message: str, number=number) -> None:
            problems.append(problem(number, column, message))

        for column in LAB_REQUIRED:
            if not cells[column]:
                add(column, _("This cell is empty."))
        for column, limit in lengths.items():
            if len(cells[column]) > limit:
                add(column, _("This is longer than %(n)d characters.") % {"n": limit})
        person = None
        id_number = normalise_id_number(cells["id_number"])
        kind_of_id = id_kind_of(id_number) if id_number else None
        if id_number and kind_of_id is None:
            add(
                "id_number",
                _("%(value)s is not a 12-digit CCCD, a 9-digit CMND or a passport number.")
                % {"value": cells["id_number"]},
            )
        elif kind_of_id:
            person = known.people.get((kind_of_id, id_number))
            if person is None:
                add("id_number", _("Nobody with ID number %(n)s is registered.") % {"n": id_number})
        kind = choice(KIND_WORDS, cells["kind"]) if cells["kind"] else None
        if cells["kind"] and kind is None:
            add(
                "kind",
                _("%(value)s is not a kind of test: write rapid, rt_pcr or rt_pcr_pooled.") % {"value": cells["kind"]},
            )
        result = choice(RESULT_WORDS, cells["result"]) if cells["result"] else None
        if cells["result"] and result is None:
            add(
                "result",
                _("%(value)s is not a result: write negative, positive, pending or invalid.")
                % {"value": cells["result"]},
            )
        sampled_at = None
        if cells["sampled_at"]:
            parsed = known.times[cells["sampled_at"]]
            if isinstance(parsed, str):
                add("sampled_at", parsed)
            elif parsed > now + skew:
                add("sampled_at", _("This time is in the future."))
            else:
                sampled_at = parsed
        pool_id = cells["pool_id"]
        if kind == TestKind.RT_PCR_POOLED and not pool_id:
            add("pool_id", _("A pooled sample needs the pool's ID."))
        call, station = None, None
        if person is not None and sampled_at is not None:
            call, station = _destination(person, sampled_at, cells["port_call"], known, add)
        if kind == TestKind.RT_PCR_POOLED and station is not None and pool_id:
            # KCS staff are pooled at their station, on the labels printed there.
            printed = known.printed.get(pool_id)
            if printed is None or printed[0] != station.pk:
                add(
                    "pool_id",
                    _("%(pool)s is not a pool printed for station %(code)s: write the pool ID from the day's labels.")
                    % {"pool": pool_id, "code": station.code},
                )
            elif person.pk not in printed[1]:
                add("pool_id", _("%(name)s is not in pool %(pool)s.") % {"name": person.full_name, "pool": pool_id})
        if len(problems) > bad:
            continue
        key = (person.pk, kind, sampled_at)
        if key in seen:
            add("id_number", _("Same person, kind and sample time as row %(row)d.") % {"row": seen[key]})
            continue
        seen[key] = number
        if kind == TestKind.RT_PCR_POOLED:
            pools.setdefault(pool_id, []).append((number, result, person.pk))
        if (person.pk, kind, sampled_at, result) in known.recorded:
            add("result", _("This result was already recorded."))
            continue
        lines.append(
            LabLine(
                row=number,
                person=person,
                kind=kind,
                sampled_at=sampled_at,
                result=result,
                pool_id=pool_id or cells["sample_id"],
                lab=cells["lab"],
                kit_lot=cells["kit_lot"],
                port_call=call,
                station=station,
            )
        )
    problems += _pool_problems(pools)
    return lines, problems


def _destination(person: Person, sampled_at: datetime, given: str, known: _Known, add):
    """The port call (or, for KCS staff, the station) a result is recorded for."""
    if given:
        call = known.calls.get(int(given)) if given.isdigit() and len(given) < 12 else None
        if call is None or (known.visible_wharves is not None and call.wharf_id not in known.visible_wharves):
            add("port_call", _("Unknown port call %(value)s.") % {"value": given})
        elif (call.pk, person.pk) not in known.manifests:
            add("id_number", _("%(name)s is not on this port call's manifest.") % {"name": person.full_name})
        elif call.departed_at is not None:
            add("port_call", _("The vessel has departed."))
        elif sampled_at < call.arrived_at:
            add("sampled_at", _("The sample was taken before the vessel arrived."))
        else:
            return call, None
        return None, None
    arrivals = sorted((a, c) for a, c in known.on_board.get(person.pk, []) if a <= sampled_at)
    if arrivals:
        call = known.calls[arrivals[-1][1]]
        if known.visible_wharves is None or call.wharf_id in known.visible_wharves:
            return call, None
        add(
            "id_number",
            _("%(name)s is on a port call at wharf %(code)s, which you are not assigned to.")
            % {"name": person.full_name, "code": call.wharf.code},
        )
        return None, None
    station = known.stations.get(person.pk)
    if station is not None:
        return None, station
    add(
        "id_number",
        _("%(name)s was on no open port call at that time and is on the staff of no KCS station you may see.")
        % {"name": person.full_name},
    )
    return None, None


def _pool_problems(pools: dict[str, list[tuple[int, str, int]]]) -> list[dict]:
    problems = []
    limit = settings.PORTGUARD_POOL_SIZE
    for pool_id, members in pools.items():
        first_row, first_result, _person = members[0]
        for index, (row, result, _person) in enumerate(members):
            if index >= limit:
                problems.append(
                    problem(
                        row,
                        "pool_id",
                        _("Pool %(pool)s has %(count)d samples; a pool holds at most %(max)d.")
                        % {"pool": pool_id, "count": len(members), "max": limit},
                    )
                )
            if result != first_result:
                problems.append(
                    problem(
                        row,
                        "result",
                        _("Pool %(pool)s is %(result)s on row %(row)d: every row of a pool has the pool's result.")
                        % {"pool": pool_id, "result": first_result, "row": first_row},
                    )
                )
    return problems


def load_lab_results(user, upload: IO[bytes], now: datetime | None = None) -> LabUpload:
    """Record a lab's results from an uploaded file, all or none, in one ``record_tests``.

    Each row names a registered person; the result is recorded for the port call given,
    or else the open port call the person was on when sampled, or else (KCS staff) their
    station. Pooled RT-PCR rows sharing a ``pool_id`` are one pool, recorded with the
    pool's result for each member: a negative pool clears them, a positive one makes
    each await an individual retest (listed in the answer), blocks their calls and
    raises one alert for the pool, as through any other door. Queries do not grow with
    the number of rows.
    """
    require_perm(user, "crews.add_screeningtest", _("You may not record test results."))
    now = now or timezone.now()
    rows = read_upload(
        upload,
        LAB_REQUIRED,
        LAB_COLUMNS,
        LAB_ALIASES,
        plain_text=("id_number", "pool_id", "sample_id", "lab", "kit_lot"),
    )
    lines, problems = check_lab_rows(rows, _load_known(user, rows), now)
    refuse(problems, LAB_COLUMNS, results_file_problems)
    retest = []
    entries = []
    for line in lines:
        if line.kind == TestKind.RT_PCR_POOLED and line.result == TestResult.POSITIVE:
            retest.append(
                Retest(
                    line.row,
                    line.person.id_number,
                    line.person.full_name,
                    line.pool_id,
                    line.port_call.pk if line.port_call else None,
                )
            )
        entries.append(
            TestData(
                person=line.person,
                kind=line.kind,
                sampled_at=line.sampled_at,
                result=line.result,
                port_call=line.port_call,
                kit_lot=line.kit_lot,
                station=line.station,
                pool_id=line.pool_id,
                lab=line.lab,
            )
        )
    try:
        tests = record_tests(user, entries, now=now)
    except KitLotRefused as exc:
        # Each refused lot on its row, as the file's other problems are (rule R7).
        row_of = {id(entry): line.row for entry, line in zip(entries, lines, strict=True)}
        refuse(
            [problem(row_of[id(entry)], "kit_lot", message) for entry, message in exc.problems],
            LAB_COLUMNS,
            results_file_problems,
        )
        raise
    return LabUpload(tests, retest)
