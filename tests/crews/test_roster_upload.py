"""Loading a station's roster from CSV or XLSX: saved whole, or nothing with every bad row."""

from datetime import date, time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from crews.models import Person, RosterEntry, StaffMember
from crews.stations import ShiftSpec, load_roster, load_roster_file, set_shifts
from portguard.domain import InvalidFile, NotAllowed
from tests.crews.helpers import START, csv_file, roster_lines, staff_id, xlsx_file
from tests.helpers import refused

HEADER = "id_number,full_name,date,shift\n"


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English, whatever the default language."""
    with translation.override("en"):
        yield


def refusal(upload, user, station) -> InvalidFile:
    with refused("invalid_file", InvalidFile) as error:
        load_roster_file(user, station, upload)
    assert not RosterEntry.objects.exists()
    return error.value


def test_good_csv_is_saved_whole_with_people_and_staff(station, supervisor):
    upload = csv_file(
        HEADER + "001234567890,Nguyễn Thị Hằng,2021-08-09,S1\n"
        "001234567890,Nguyễn Thị Hằng,2021-08-10,S3\n"
        "031234567,Trần Đức Mạnh,09/08/2021,s2\n"
    )
    assert load_roster_file(supervisor, station, upload) == 3
    hang = Person.objects.get(id_number="001234567890")
    assert hang.full_name == "Nguyễn Thị Hằng" and hang.id_kind == "cccd"
    assert set(StaffMember.objects.filter(station=station).values_list("person__id_number", flat=True)) == {
        "001234567890",
        "031234567",
    }
    entries = RosterEntry.objects.order_by("date", "shift__starts_at")
    assert [(e.staff.person.id_number, e.date, e.shift.code) for e in entries] == [
        ("001234567890", date(2021, 8, 9), "S1"),
        ("031234567", date(2021, 8, 9), "S2"),
        ("001234567890", date(2021, 8, 10), "S3"),
    ]


def test_good_xlsx_with_date_cells_and_text_ids_is_saved(station, supervisor):
    upload = xlsx_file(
        [
            ["id_number", "full_name", "date", "shift", "note"],
            ["001234567890", "Nguyễn Thị Hằng", date(2021, 8, 9), "S1", "trưởng ca"],
            ["031234567", "Trần Đức Mạnh", "2021-08-09", "S2", ""],
        ]
    )
    assert load_roster_file(supervisor, station, upload) == 2
    assert Person.objects.filter(id_number="001234567890", full_name="Nguyễn Thị Hằng").exists()
    assert RosterEntry.objects.filter(date=START).count() == 2


def test_every_bad_row_is_reported_with_its_spreadsheet_row_and_nothing_is_saved(station, supervisor):
    upload = csv_file(
        HEADER + "001234567890,Nguyễn Thị Hằng,2021-08-09,S1\n"  # row 2: good
        "12345,Trần Đức Mạnh,2021-08-09,S1\n"  # row 3: malformed ID
        "\n"  # row 4: blank, skipped but counted
        "031234567,Phạm Văn Quý,2021-02-31,S1\n"  # row 5: no such date
        "031234567,Phạm Văn Quý,2021-08-09,S9\n"  # row 6: unknown shift
        "001234567890,Nguyễn Thị Hằng,2021-08-09,S1\n"  # row 7: same as row 2
        "044444444444,,2021-08-09,S2\n"  # row 8: new person without a name
        "055555555555,Đỗ Quốc Việt,,\n"  # row 9: empty date and shift
    )
    error = refusal(upload, supervisor, station)
    assert error.code == "invalid_file"
    assert [(p["row"], p["column"]) for p in error.rows] == [
        (3, "id_number"),
        (5, "date"),
        (6, "shift"),
        (7, "id_number"),
        (8, "full_name"),
        (9, "date"),
        (9, "shift"),
    ]
    assert error.rows[-1]["message"] == "This cell is empty."
    assert "S1, S2, S3" in error.rows[2]["message"]
    assert "row 2" in error.rows[3]["message"]
    assert not Person.objects.exists() and not StaffMember.objects.exists()


def test_missing_columns_are_named_on_the_header_row(station, supervisor):
    error = refusal(csv_file("id_number,name,date\n001234567890,Hằng,2021-08-09\n"), supervisor, station)
    assert error.rows == [
        {"row": 1, "column": "full_name", "message": "Missing column."},
        {"row": 1, "column": "shift", "message": "Missing column."},
    ]


@pytest.mark.parametrize(
    ("upload", "row"),
    [
        (csv_file(""), 1),
        (csv_file(HEADER), 2),
        (csv_file(HEADER + "001234567890,Hằng,2021-08-09,S1,extra\n"), 2),
    ],
    ids=["empty", "header only", "row longer than header"],
)
def test_empty_or_ragged_csv_is_refused_with_the_row(station, supervisor, upload, row):
    error = refusal(upload, supervisor, station)
    assert [p["row"] for p in error.rows] == [row]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("roster.pdf", b"%PDF-1.4 binary", "CSV or XLSX"),
        ("roster.xls", HEADER.encode(), "CSV or XLSX"),
        ("roster.csv", b"id_number\x00\x01\x02", "CSV or XLSX"),
        ("roster.xlsx", b"PK\x03\x04not really a zip", "XLSX"),
        ("roster.csv", "id_number,full_name\nTrần Thị Lan,café\n".encode("cp1258", errors="replace"), "UTF-8"),
    ],
    ids=["pdf", "old excel", "binary", "damaged xlsx", "not utf-8"],
)
def test_file_that_is_not_a_readable_csv_or_xlsx_is_refused(station, supervisor, name, content, message):
    error = refusal(SimpleUploadedFile(name, content), supervisor, station)
    assert error.code == "invalid_file" and message in error.message


def test_ids_keep_their_leading_zeros_from_csv_and_xlsx(station, supervisor):
    load_roster_file(supervisor, station, csv_file(HEADER + "000000000123,Nguyễn Thị Hằng,2021-08-09,S1\n"))
    load_roster_file(
        supervisor,
        station,
        xlsx_file([["id_number", "full_name", "date", "shift"], ["000000000456", "Trần Đức Mạnh", "2021-08-10", "S1"]]),
    )
    assert set(Person.objects.values_list("id_number", flat=True)) == {"000000000123", "000000000456"}


def test_semicolon_separated_csv_from_a_vietnamese_excel_is_read(station, supervisor):
    upload = csv_file("\ufeffid_number;full_name;date;shift\n001234567890;Nguyễn Thị Hằng;09/08/2021;S1\n")
    assert load_roster_file(supervisor, station, upload) == 1


def test_loading_the_same_days_again_replaces_them_and_leaves_other_days(station, supervisor):
    load_roster(supervisor, station, roster_lines(staff=3, days=3))
    load_roster(supervisor, station, roster_lines(staff=3, days=3))
    assert RosterEntry.objects.count() == 9
    corrected = csv_file(HEADER + f"{staff_id(0)},,2021-08-10,S2\n")
    assert load_roster_file(supervisor, station, corrected) == 1
    assert RosterEntry.objects.filter(date=date(2021, 8, 10)).count() == 1
    assert RosterEntry.objects.filter(date=date(2021, 8, 9)).count() == 3
    assert RosterEntry.objects.filter(date=date(2021, 8, 11)).count() == 3


def test_registered_person_needs_no_name_and_keeps_theirs(station, supervisor):
    load_roster(supervisor, station, roster_lines(staff=1, days=1))
    load_roster_file(supervisor, station, csv_file(HEADER + f"{staff_id(0)},Someone Else,2021-08-12,S1\n"))
    assert Person.objects.get().full_name.startswith("Nguyễn Thị Hằng")


def test_shift_pattern_is_configurable_per_station(station, supervisor):
    set_shifts(
        station, [ShiftSpec("D", "Ca ngày 12h", time(6), time(18)), ShiftSpec("N", "Ca đêm 12h", time(18), time(6))]
    )
    upload = csv_file(
        HEADER + "001234567890,Nguyễn Thị Hằng,2021-08-09,n\n031234567,Trần Đức Mạnh,2021-08-09,Ca ngày 12h\n"
    )
    assert load_roster_file(supervisor, station, upload) == 2
    assert set(RosterEntry.objects.values_list("shift__code", flat=True)) == {"D", "N"}


def test_supervisor_of_another_station_may_not_load_its_roster(station, other_supervisor):
    with refused("forbidden", NotAllowed, field="station"):
        load_roster_file(other_supervisor, station, csv_file(HEADER + "001234567890,Hằng,2021-08-09,S1\n"))
    assert not RosterEntry.objects.exists()


def test_port_authority_reads_rosters_but_may_not_load_them(station, authority):
    with refused("forbidden", NotAllowed, field=None):
        load_roster(authority, station, roster_lines(staff=1, days=1))


def test_inactive_staff_member_is_active_again_when_rostered(station, supervisor):
    load_roster(supervisor, station, roster_lines(staff=1, days=1))
    StaffMember.objects.update(active=False)
    load_roster(supervisor, station, roster_lines(staff=1, days=1))
    assert StaffMember.objects.get().active
