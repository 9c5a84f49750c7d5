"""Crew lists uploaded as CSV or XLSX (IMO FAL Form 5 columns): checked row by row,
then put on the manifest whole through the same ``add_crew_members`` as a page's form."""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crews.manifest import add_crew_members
from crews.people import PersonData
from portguard.domain import DomainError
from portguard.roles import require_perm
from portguard.tabular import Rows, choice, problem, read_upload, refuse, template_xlsx, to_csv
from vessels.models import PortCall
from vessels.scope import require_wharf_in_scope

from .choices import CrewRole, IdKind
from .models import CrewMember, Person, id_kind_of, normalise_id_number
from .stations import parse_day

CREW_COLUMNS = ("full_name", "role", "nationality", "date_of_birth", "id_kind", "id_number")


CREW_REQUIRED = ("full_name", "role", "id_number")


CREW_ALIASES = {
    "name": "full_name",
    "ho_ten": "full_name",
    "ho_va_ten": "full_name",
    "rank": "role",
    "rank_or_rating": "role",
    "chuc_danh": "role",
    "vai_tro": "role",
    "quoc_tich": "nationality",
    "dob": "date_of_birth",
    "ngay_sinh": "date_of_birth",
    "document_kind": "id_kind",
    "id_type": "id_kind",
    "loai_giay_to": "id_kind",
    "document_number": "id_number",
    "so_giay_to": "id_number",
}


ROLE_WORDS = {
    "captain": CrewRole.CAPTAIN,
    "master": CrewRole.CAPTAIN,
    "thuyen truong": CrewRole.CAPTAIN,
    "crew": CrewRole.CREW,
    "crew member": CrewRole.CREW,
    "thuyen vien": CrewRole.CREW,
    "worker": CrewRole.WORKER,
    "nguoi lao dong": CrewRole.WORKER,
}


ID_KIND_WORDS = {
    "cccd": IdKind.CCCD,
    "can cuoc cong dan": IdKind.CCCD,
    "cmnd": IdKind.CMND,
    "chung minh nhan dan": IdKind.CMND,
    "passport": IdKind.PASSPORT,
    "ho chieu": IdKind.PASSPORT,
}


EARLIEST_BIRTH = date(1900, 1, 1)


def crew_guide() -> list[tuple[str, str, str]]:
    yes, no = _("yes"), _("no")
    return [
        ("full_name", yes, _("Full name with diacritics, for example Nguyễn Văn Hùng.")),
        ("role", yes, _("captain, crew or worker (thuyền trưởng, thuyền viên, người lao động).")),
        ("nationality", no, _("For example Việt Nam (the default).")),
        ("date_of_birth", no, _("For example 1981-04-02 or 02/04/1981.")),
        ("id_kind", no, _("cccd, cmnd or passport; told by the number's shape when empty.")),
        ("id_number", yes, _("12-digit CCCD, 9-digit CMND or passport number, with its leading zeros.")),
    ]


def crew_template(fmt: str) -> bytes:
    """The crew list template, as a CSV or XLSX file with the header only."""
    if fmt == "csv":
        return to_csv([], CREW_COLUMNS)
    return template_xlsx(CREW_COLUMNS, "crew", crew_guide(), text_columns={"id_number", "date_of_birth"})


def crew_list_problems(count: int) -> str:
    return ngettext(
        "The crew list has %(count)d problem; nothing was saved.",
        "The crew list has %(count)d problems; nothing was saved.",
        count,
    ) % {"count": count}


@dataclass
class CrewLine:
    row: int
    person: PersonData
    key: tuple[str, str]


def check_crew_rows(rows: Rows, on_manifest: set[tuple[str, str]], today: date) -> tuple[list[CrewLine], list[dict]]:
    """Each row as a person to put on the manifest, and every problem found; no queries.

    ``on_manifest`` holds the ``(id_kind, id_number)`` of the people already on it."""
    problems: list[dict] = []
    lines: list[CrewLine] = []
    first_row: dict[tuple[str, str], int] = {}
    max_name = Person._meta.get_field("full_name").max_length
    max_nationality = Person._meta.get_field("nationality").max_length
    for number, cells in rows:
        bad = len(problems)

        def add(column: str, message: str, number=number) -> None:
            problems.append(problem(number, column, message))

        for column in CREW_REQUIRED:
            if not cells[column]:
                add(column, _("This cell is empty."))
        if len(cells["full_name"]) > max_name:
            add("full_name", _("This name is too long."))
        role = choice(ROLE_WORDS, cells["role"]) if cells["role"] else None
        if cells["role"] and role is None:
            add("role", _("%(value)s is not a role: write captain, crew or worker.") % {"value": cells["role"]})
        given_kind = choice(ID_KIND_WORDS, cells["id_kind"]) if cells["id_kind"] else ""
        if given_kind is None:
            add(
                "id_kind",
                _("%(value)s is not a document kind: write cccd, cmnd or passport.") % {"value": cells["id_kind"]},
            )
        id_number = normalise_id_number(cells["id_number"])
        kind = id_kind_of(id_number) if id_number else None
        if id_number and kind is None:
            add(
                "id_number",
                _("%(value)s is not a 12-digit CCCD, a 9-digit CMND or a passport number.")
                % {"value": cells["id_number"]},
            )
        elif kind and given_kind and given_kind != kind:
            add("id_kind", _("This number does not fit the document kind given."))
        born = None
        if cells["date_of_birth"]:
            born = parse_day(cells["date_of_birth"])
            if born is None:
                add(
                    "date_of_birth",
                    _("%(value)s is not a date such as 1981-04-02 or 02/04/1981.") % {"value": cells["date_of_birth"]},
                )
            elif not EARLIEST_BIRTH <= born <= today:
                add("date_of_birth", _("This date of birth is not possible."))
        if len(cells["nationality"]) > max_nationality:
            add("nationality", _("This nationality is too long."))
        key = (kind, id_number) if kind else None
        if key is not None and key in first_row:
            add("id_number", _("The same person as row %(row)d.") % {"row": first_row[key]})
        elif key is not None:
            first_row[key] = number
            if key in on_manifest:
                add("id_number", _("%(n)s is already on the manifest.") % {"n": id_number})
        if len(problems) == bad:
            person = PersonData(
                id_number=id_number,
                id_kind=kind,
                full_name=cells["full_name"],
                date_of_birth=born,
                role=role,
                nationality=cells["nationality"],
            )
            lines.append(CrewLine(number, person, key))
    return lines, problems


def load_crew_list(user, port_call_id: int, upload: IO[bytes], now: datetime | None = None) -> list[CrewMember]:
    """Put everyone on an uploaded crew list on the port call's manifest, or no one.

    People already registered are matched by their document and keep their record;
    new ones are created. Someone already on the manifest makes a bad row. As with
    ``add_crew_member``, the newcomers block handover until tested, and a handover
    already approved is suspended, since it did not cover them.
    """
    require_perm(user, "crews.add_crewmember", _("You may not change crew manifests."))
    call = PortCall.objects.select_related("wharf", "vessel").filter(pk=port_call_id).first()
    if call is None:
        raise DomainError(_("Unknown port call."), field="port_call", code="not_found")
    require_wharf_in_scope(user, call.wharf)
    if call.departed_at is not None:
        raise DomainError(_("The vessel has departed."), code="departed")
    now = now or timezone.now()
    rows = read_upload(
        upload, CREW_REQUIRED, CREW_COLUMNS, CREW_ALIASES, plain_text=("full_name", "nationality", "id_number")
    )
    lines, problems = check_crew_rows(rows, _manifest_keys(call), timezone.localtime(now).date())
    refuse(problems, CREW_COLUMNS, crew_list_problems)
    try:
        return add_crew_members(user, call.pk, [line.person for line in lines], now=now)
    except DomainError as error:
        # Someone was added by hand between the file's check and the call's lock.
        row = re.fullmatch(r"crew\[(\d+)\]\.id_number", error.field or "")
        if error.code != "on_manifest" or row is None:
            raise
        line = lines[int(row.group(1))]
        already = _("%(n)s is already on the manifest.") % {"n": line.key[1]}
        refuse([problem(line.row, "id_number", already)], CREW_COLUMNS, crew_list_problems)
        raise


def _manifest_keys(call: PortCall) -> set[tuple[str, str]]:
    return set(
        CrewMember.objects.filter(port_call=call, removed_at__isnull=True).values_list(
            "person__id_kind", "person__id_number"
        )
    )
