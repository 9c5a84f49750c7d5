"""Loading a port call's crew list from CSV or XLSX (IMO FAL Form 5 columns): saved
whole, or nothing with every bad row."""

import io
from datetime import date, timedelta

import pandas as pd
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from crews.choices import CrewRole, IdKind
from crews.crew_lists import CREW_COLUMNS, load_crew_list
from crews.models import CrewMember, Person
from portguard.domain import InvalidFile, NotAllowed
from tests.crews.helpers import csv_file, xlsx_file
from tests.helpers import ARRIVAL, client_for, people_of, refused
from vessels.choices import HandoverState
from vessels.services import approve_handover, record_departure

HEADER = ",".join(CREW_COLUMNS) + "\n"
NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture(autouse=True)
def english_and_frozen_clock():
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def manifest(call) -> dict[str, str]:
    return dict(
        CrewMember.objects.filter(port_call=call, removed_at__isnull=True).values_list("person__id_number", "role")
    )


def refusal(user, call, upload) -> InvalidFile:
    before = (Person.objects.count(), CrewMember.objects.count())
    with refused("invalid_file", InvalidFile) as error:
        load_crew_list(user, call.pk, upload)
    assert (Person.objects.count(), CrewMember.objects.count()) == before
    return error.value


def test_good_csv_puts_everyone_on_the_manifest_matching_known_people_by_document(make_call, inspector):
    call = make_call(crew=1)
    known = Person.objects.create(full_name="Trần Thị Lan", id_kind=IdKind.CMND, id_number="031234567")
    upload = csv_file(
        HEADER + "Nguyễn Văn Hùng,thuyền trưởng,Việt Nam,02/04/1981,cccd,022081000123\n"
        "Lan Trần (tên khác),Thuyền viên,,,,031 234 567\n"
        "Kim Min-jun,worker,Hàn Quốc,1990-01-31,passport,m12345678\n"
    )
    members = load_crew_list(inspector, call.pk, upload)
    assert len(members) == 3
    roles = manifest(call)
    assert roles["022081000123"] == CrewRole.CAPTAIN
    assert roles["031234567"] == CrewRole.CREW
    assert roles["M12345678"] == CrewRole.WORKER
    known.refresh_from_db()
    assert known.full_name == "Trần Thị Lan"  # matched by document, record kept
    hung = Person.objects.get(id_number="022081000123")
    assert (hung.full_name, hung.id_kind, hung.date_of_birth, hung.nationality) == (
        "Nguyễn Văn Hùng",
        IdKind.CCCD,
        date(1981, 4, 2),
        "Việt Nam",
    )
    kim = Person.objects.get(id_number="M12345678")
    assert (kim.id_kind, kim.nationality) == (IdKind.PASSPORT, "Hàn Quốc")


def test_xlsx_with_vietnamese_headers_date_cells_and_leading_zeros_is_read(make_call, inspector):
    call = make_call(crew=0)
    upload = xlsx_file(
        [
            ["Họ và tên", "Chức danh", "Quốc tịch", "Ngày sinh", "Loại giấy tờ", "Số giấy tờ", "Ghi chú"],
            ["Phạm Đức Thắng", "Người lao động", "Việt Nam", date(1985, 7, 9), "CCCD", "001085000777", "bốc xếp"],
        ]
    )
    assert len(load_crew_list(inspector, call.pk, upload)) == 1
    person = Person.objects.get(id_number="001085000777")
    assert (person.full_name, person.date_of_birth) == ("Phạm Đức Thắng", date(1985, 7, 9))
    assert manifest(call) == {"001085000777": CrewRole.WORKER}


def test_every_bad_row_is_reported_and_nothing_is_saved(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    upload = csv_file(
        HEADER + "Nguyễn Văn Hùng,captain,,,,022081000123\n"  # row 2: good
        ",crew,,,,022081000124\n"  # row 3: no name
        "Trần Thị Lan,cook,,,,022081000125\n"  # row 4: unknown role
        "Lê Quang Vũ,crew,,,,12345\n"  # row 5: malformed ID
        "Đỗ Quốc Việt,crew,,31/02/1980,,022081000126\n"  # row 6: no such date
        "Đỗ Văn Nam,crew,,2031-01-01,,022081000127\n"  # row 7: born in the future
        "Hoàng Thị Ánh,crew,,,cmnd,022081000128\n"  # row 8: a CCCD given as CMND
        "Nguyễn Văn Hùng,crew,,,,022081000123\n"  # row 9: same as row 2
        f"Someone,crew,,,,{captain.id_number}\n"  # row 10: already on board
        "Bùi Văn Tú,crew,,,visa,022081000129\n"  # row 11: unknown document kind
    )
    error = refusal(inspector, call, upload)
    assert error.code == "invalid_file"
    assert [(p["row"], p["column"]) for p in error.rows] == [
        (3, "full_name"),
        (4, "role"),
        (5, "id_number"),
        (6, "date_of_birth"),
        (7, "date_of_birth"),
        (8, "id_kind"),
        (9, "id_number"),
        (10, "id_number"),
        (11, "id_kind"),
    ]
    assert "row 2" in error.rows[6]["message"]
    assert "already on the manifest" in error.rows[7]["message"]
    assert "10 problems" not in error.message and "9 problems" in error.message


def test_missing_columns_are_named_on_the_header_row(make_call, inspector):
    call = make_call(crew=0)
    error = refusal(inspector, call, csv_file("full_name,nationality\nNguyễn Văn Hùng,Việt Nam\n"))
    assert error.rows == [
        {"row": 1, "column": "role", "message": "Missing column."},
        {"row": 1, "column": "id_number", "message": "Missing column."},
    ]


def test_a_file_too_large_or_with_too_many_rows_is_refused(make_call, inspector, settings):
    call = make_call(crew=0)
    settings.PORTGUARD_UPLOAD_MAX_ROWS = 2
    rows = "".join(f"Người {i},crew,,,,0220810001{i:02d}\n" for i in range(3))
    error = refusal(inspector, call, csv_file(HEADER + rows))
    assert "more than 2 rows" in error.message
    settings.PORTGUARD_UPLOAD_MAX_MB = 1
    big = csv_file(HEADER + "x" * (1024 * 1024 + 1))
    assert "larger than 1 MB" in refusal(inspector, call, big).message


def test_handover_already_approved_is_suspended_by_newcomers_and_events_follow_commit(
    make_call, record, inspector, authority, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    approve_handover(authority, call.pk)
    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        load_crew_list(inspector, call.pk, csv_file(HEADER + "Trần Thị Lan,crew,,,,031234567\n"))
    assert broadcasts == []  # nothing leaves before commit
    for callback in callbacks:
        callback()
    assert {e["type"] for e in broadcasts} >= {"port_call.updated", "handover.suspended"}
    assert call.handovers.get().state == HandoverState.SUSPENDED
    (update,) = [e for e in broadcasts if e["type"] == "port_call.updated"]
    assert update["port_call"]["counts"]["crew"] == 2


def test_scope_permission_and_departure_are_enforced(make_call, inspector, outsider, health):
    call = make_call(crew=0)
    upload = HEADER + "Trần Thị Lan,crew,,,,031234567\n"
    with refused("forbidden", NotAllowed, field="wharf"):
        load_crew_list(outsider, call.pk, csv_file(upload))
    with refused("forbidden", NotAllowed, field=None):
        load_crew_list(health, call.pk, csv_file(upload))
    record_departure(inspector, call.pk)
    with refused("departed"):
        load_crew_list(inspector, call.pk, csv_file(upload))
    assert not CrewMember.objects.exists()


# --- API -----------------------------------------------------------------------------


def test_api_answers_201_with_the_count(make_call, inspector):
    call = make_call(crew=0)
    upload = csv_file(HEADER + "Nguyễn Văn Hùng,captain,,,,022081000123\nTrần Thị Lan,crew,,,,031234567\n")
    response = client_for(inspector).post(f"/api/v1/port-calls/{call.pk}/crew/", {"file": upload})
    assert response.status_code == 201, response.json()
    assert response.json() == {"port_call": call.pk, "count": 2}


def test_api_answers_400_with_every_bad_row_in_the_spec_shape(make_call, inspector):
    call = make_call(crew=0)
    upload = csv_file(HEADER + "Nguyễn Văn Hùng,cook,,,,022081000123\n,crew,,,,12\n")
    response = client_for(inspector).post(f"/api/v1/port-calls/{call.pk}/crew/", {"file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_file" and body["message"]
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(2, "role"), (3, "full_name"), (3, "id_number")]
    assert all(r["message"] for r in body["rows"])
    assert not CrewMember.objects.exists()


def test_api_without_a_file_or_out_of_scope_or_after_departure(make_call, inspector, outsider):
    call = make_call(crew=0)
    api = client_for(inspector)
    assert api.post(f"/api/v1/port-calls/{call.pk}/crew/", {}).json()["error"] == "invalid_file"
    upload = csv_file(HEADER + "Trần Thị Lan,crew,,,,031234567\n")
    assert client_for(outsider).post(f"/api/v1/port-calls/{call.pk}/crew/", {"file": upload}).status_code == 404
    record_departure(inspector, call.pk)
    upload.seek(0)
    assert api.post(f"/api/v1/port-calls/{call.pk}/crew/", {"file": upload}).status_code == 409


@pytest.mark.parametrize("size", [5, 60])
def test_upload_queries_do_not_grow_with_the_list(make_call, inspector, size, django_assert_max_num_queries):
    call = make_call(crew=1)
    rows = "".join(f"Người số {i},crew,Việt Nam,01/01/1990,,0220900{i:05d}\n" for i in range(size))
    api = client_for(inspector)
    # 22: the scope is checked once more under the call's lock, as every manifest write does.
    with django_assert_max_num_queries(22):
        response = api.post(f"/api/v1/port-calls/{call.pk}/crew/", {"file": csv_file(HEADER + rows)})
    assert response.status_code == 201
    assert len(manifest(call)) == size + 1


# --- Page and template ---------------------------------------------------------------


def test_page_offers_the_upload_and_shows_every_bad_row(client, make_call, inspector):
    call = make_call(crew=0)
    client.force_login(inspector)
    page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    assert reverse("port-call-crew-upload", args=[call.pk]) in page
    assert reverse("crew-template-xlsx") in page
    bad = csv_file(HEADER + "Nguyễn Văn Hùng,cook,,,,022081000123\n")
    response = client.post(reverse("port-call-crew-upload", args=[call.pk]), {"file": bad})
    assert response.status_code == 400
    assert 'data-row="2"' in response.content.decode() and "cook" in response.content.decode()
    good = csv_file(HEADER + "Nguyễn Văn Hùng,captain,,,,022081000123\n")
    response = client.post(reverse("port-call-crew-upload", args=[call.pk]), {"file": good})
    assert response.status_code == 302
    assert manifest(call) == {"022081000123": CrewRole.CAPTAIN}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_files_have_the_columns_and_load_once_filled(client, make_call, inspector, fmt):
    client.force_login(inspector)
    response = client.get(reverse(f"crew-template-{fmt}"))
    assert response.status_code == 200 and f"crew-list.{fmt}" in response["Content-Disposition"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    reader = pd.read_csv if fmt == "csv" else pd.read_excel
    frame = reader(io.BytesIO(body), dtype=str)
    assert tuple(frame.columns) == CREW_COLUMNS and frame.empty
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(body))
        sheet = book.worksheets[0]
        sheet.append(["Nguyễn Văn Hùng", "thuyền trưởng", "Việt Nam", "02/04/1981", "", "022081000123"])
        filled = io.BytesIO()
        book.save(filled)
        call = make_call(crew=0)
        load_crew_list(inspector, call.pk, SimpleUploadedFile("crew.xlsx", filled.getvalue()))
        assert manifest(call) == {"022081000123": CrewRole.CAPTAIN}
