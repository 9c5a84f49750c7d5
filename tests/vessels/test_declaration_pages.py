"""Rule R6's pages: the public declaration form of a wharf and its receipt (CSRF, size
and rate limits, Vietnamese messages naming each field, nothing stored half, no
enumeration), the wharf's QR poster, and the declaration as inspectors see it with
*register from declaration*."""

import io
import re
from datetime import date, timedelta

import pypdf
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portguard.ratelimit import forget
from tests.helpers import ARRIVAL, people_of
from vessels.areas import AreaData, add_epidemic_area
from vessels.declaration_views import declaration_limit, receipt_limit
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData, declaration_by_receipt, declare
from vessels.models import Declaration, DeclaredPerson, PortCall

NOW = ARRIVAL - timedelta(hours=6)
ADDRESS = "198.51.100.7"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def public(db) -> Client:
    """A captain's phone: not logged in, its own address, its limits fresh."""
    for limit in (declaration_limit(), receipt_limit()):
        forget(limit, ADDRESS)
    return Client(REMOTE_ADDR=ADDRESS)


def form_data(people: int = 2, **overrides) -> dict:
    data = {
        "registration": "qn 4567",
        "vessel_name": "Hoàng Long 18",
        "vessel_kind": "self_propelled_barge",
        "expected_at": "2021-08-12T08:00",
        "declarant_name": "Nguyễn Văn Hùng",
        "declarant_phone": "0912 345 678",
        "ports-TOTAL_FORMS": "1",
        "ports-INITIAL_FORMS": "0",
        "ports-0-port": "Cảng Cái Lân, Quảng Ninh",
        "ports-0-left_on": "2021-08-10",
        "people-TOTAL_FORMS": str(people),
        "people-INITIAL_FORMS": "0",
        "people-0-full_name": "Nguyễn Văn Hùng",
        "people-0-id_number": "022081000123",
        "people-0-role": "captain",
        "people-0-date_of_birth": "1981-04-02",
    }
    if people > 1:
        data.update(
            {
                "people-1-full_name": "Trần Thị Lan",
                "people-1-id_number": "031234567",
                "people-1-role": "worker",
                "people-1-fever": "on",
                "people-1-provinces": "Bắc Giang, Hải Phòng",
            }
        )
    data.update(overrides)
    return data


def declare_by_form(client: Client, wharf: str = "CP-03", **overrides):
    return client.post(reverse("declare", args=[wharf]), form_data(**overrides))


def receipt_of(response) -> str:
    return response.context["receipt"]


def test_the_form_of_a_wharf_opens_without_login_and_reads_only_the_wharf(public, cam_pha, make_call):
    call = make_call(crew=2)
    with CaptureQueriesContext(connection) as queries:
        response = public.get(reverse("declare", args=["cp-03"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Bến Mông Dương" in body and "csrfmiddlewaretoken" in body
    assert 'name="viewport"' in body
    assert len(queries) == 1 and "vessels_wharf" in queries[0]["sql"]
    assert call.vessel.registration not in body
    assert public.get(reverse("declare", args=["XX-99"])).status_code == 404


def test_a_declaration_sent_by_the_form_gives_a_receipt_code_that_opens_it(public, cam_pha):
    response = declare_by_form(public)
    assert response.status_code == 200
    code = receipt_of(response)
    assert code in response.content.decode()
    link = response.context["link"]
    assert link.endswith(reverse("declaration-receipt", args=[code]))
    declaration = Declaration.objects.get()
    assert declaration.registration == "QN-4567" and declaration.wharf == cam_pha
    lan = declaration.people.get(id_number="031234567")
    assert lan.fever and lan.provinces == ["Bắc Giang", "Hải Phòng"]
    page = public.get(reverse("declaration-receipt", args=[code.lower().replace("-", "")]))
    assert page.status_code == 200
    assert "Trần Thị Lan" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]


def test_every_bad_field_is_named_in_vietnamese_and_nothing_is_stored(public, cam_pha):
    response = declare_by_form(
        public,
        **{
            "registration": "4567",
            "declarant_phone": "gọi tôi",
            "people-1-id_number": "12345",
            "expected_at": "hôm qua",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Số đăng ký" in body
    assert "Thời gian dự kiến cập bến" in body
    assert "Nhập một ngày/thời gian hợp lệ." in body
    assert not Declaration.objects.exists()
    # The domain's checks name their field too, once the form's types are right.
    response = declare_by_form(public, **{"registration": "4567", "people-1-id_number": "12345"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Số đăng ký: 4567 không phải là số đăng ký hợp lệ (ví dụ QN-4567)." in body
    assert "Người thứ 2, số giấy tờ: 12345 không phải số CCCD 12 chữ số, CMND 9 chữ số hay số hộ chiếu." in body
    assert not Declaration.objects.exists() and not DeclaredPerson.objects.exists()


def test_adding_a_row_keeps_what_was_typed_and_checks_nothing_yet(public, cam_pha, settings):
    settings.PORTGUARD_DECLARATIONS_PER_WINDOW = 1
    for _n in range(3):
        response = public.post(reverse("declare", args=["CP-03"]), form_data(people=1, add="people", registration=""))
        assert response.status_code == 200
    body = response.content.decode()
    assert 'name="people-1-full_name"' in body and "Nguyễn Văn Hùng" in body
    assert 'class="error"' not in body
    assert not Declaration.objects.exists()
    # Adding rows did not use up the address's declarations.
    assert declare_by_form(public).status_code == 200


def test_the_form_needs_its_csrf_token(cam_pha):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="198.51.100.8")
    assert client.post(reverse("declare", args=["CP-03"]), form_data()).status_code == 403
    assert not Declaration.objects.exists()


def test_a_body_above_the_size_limit_is_refused_whole(public, cam_pha, settings):
    settings.PORTGUARD_DECLARATION_MAX_BYTES = 2000
    response = declare_by_form(public, **{"people-0-provinces": "x" * 3000})
    assert response.status_code == 413
    assert not Declaration.objects.exists()


def test_the_form_is_rate_limited_per_address(public, cam_pha, settings):
    settings.PORTGUARD_DECLARATIONS_PER_WINDOW = 2
    assert declare_by_form(public, registration="QN-1001").status_code == 200
    assert declare_by_form(public, registration="QN-1002", **{"people-0-id_number": "1"}).status_code == 400
    response = declare_by_form(public, registration="QN-1003")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS
    assert "Quá nhiều yêu cầu" in response.content.decode()
    assert Declaration.objects.count() == 1
    # Another address is not held back; the window's end frees this one.
    forget(declaration_limit(), "198.51.100.9")
    assert declare_by_form(Client(REMOTE_ADDR="198.51.100.9"), registration="QN-1004").status_code == 200
    with time_machine.travel(NOW + timedelta(seconds=int(response["Retry-After"]) + 1), tick=False):
        assert declare_by_form(public, registration="QN-1005").status_code == 200


def test_unknown_and_wrong_receipt_codes_look_the_same(public, cam_pha):
    code = receipt_of(declare_by_form(public)).replace("-", "")
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    urls = [reverse("declaration-receipt", args=[c]) for c in (wrong, "ABCDEFGHJKLM", "1")]
    answers = [public.get(url) for url in urls]
    assert [a.status_code for a in answers] == [404, 404, 404]
    # The same page, whatever the code (the URL asked for and the masked CSRF token aside).
    bodies = {
        re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", a.content.decode().replace(url, ""))
        for a, url in zip(answers, urls, strict=True)
    }
    assert len(bodies) == 1
    assert "Trần Thị Lan" not in bodies.pop()


def test_receipt_lookups_are_rate_limited_per_address(public, cam_pha, settings):
    code = receipt_of(declare_by_form(public))
    settings.PORTGUARD_RECEIPT_LOOKUPS_PER_WINDOW = 3
    for n in range(3):
        assert public.get(reverse("declaration-receipt", args=[f"AAAAAAAAAAA{n + 2}"])).status_code == 404
    response = public.get(reverse("declaration-receipt", args=[code]))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Trần Thị Lan" not in response.content.decode()


def test_the_declarant_amends_it_with_the_code_until_arrival(public, cam_pha, inspector):
    code = receipt_of(declare_by_form(public))
    url = reverse("declaration-receipt", args=[code])
    form = public.get(url).content.decode()
    assert 'value="Trần Thị Lan"' in form
    amended = form_data(
        people=2,
        **{
            "people-INITIAL_FORMS": "2",
            "people-1-DELETE": "on",
            "people-0-cough": "on",
            "ports-INITIAL_FORMS": "1",
        },
    )
    response = public.post(url, amended)
    assert response.status_code == 302 and response["Location"] == url
    declaration = Declaration.objects.get()
    assert [(p.full_name, p.cough) for p in declaration.people.all()] == [("Nguyễn Văn Hùng", True)]
    assert declaration.amended_at == NOW
    client = Client()
    client.force_login(inspector)
    client.post(reverse("declaration-register", args=[declaration.pk]), {"arrived_at": "2021-08-12T02:00"})
    response = public.post(url, form_data())
    assert response.status_code == 409
    assert "không thể sửa tờ khai nữa" in response.content.decode()
    assert declaration.people.count() == 1


def test_the_poster_carries_the_form_link_for_the_wharf_inspectors(cam_pha, inspector, outsider, supervisor):
    client = Client()
    client.force_login(inspector)
    response = client.get(reverse("declaration-poster", args=["CP-03"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(response.content)).pages
    text = pages[0].extract_text()
    assert len(pages) == 1
    assert "KHAI BÁO Y TẾ TRƯỚC KHI CẬP BẾN" in text
    assert "Bến Mông Dương" in text
    assert "http://testserver/declare/CP-03/" in text
    for user in (outsider, supervisor):
        client.force_login(user)
        assert client.get(reverse("declaration-poster", args=["CP-03"])).status_code == 404


def test_inspectors_see_who_is_flagged_and_register_the_arrival_from_it(public, cam_pha, inspector, outsider):
    declare_by_form(public)
    declaration = Declaration.objects.get()
    client = Client()
    client.force_login(inspector)
    body = client.get(reverse("declaration", args=[declaration.pk])).content.decode()
    assert body.count("data-flagged") == 1
    assert "Sốt" in body
    response = client.post(reverse("declaration-register", args=[declaration.pk]), {"arrived_at": "2021-08-12T02:00"})
    call = PortCall.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("port-call", args=[call.pk])
    assert [p.full_name for p in people_of(call)] == ["Nguyễn Văn Hùng", "Trần Thị Lan"]
    assert Declaration.objects.get().port_call == call
    # The declaration now links to the call, and is not registered twice.
    assert (
        reverse("port-call", args=[call.pk])
        in client.get(reverse("declaration", args=[declaration.pk])).content.decode()
    )
    client.post(reverse("declaration-register", args=[declaration.pk]), {"arrived_at": "2021-08-12T02:00"})
    assert PortCall.objects.count() == 1
    client.force_login(outsider)
    assert client.get(reverse("declaration", args=[declaration.pk])).status_code == 404


def test_a_declaration_page_and_the_receipt_open_the_same_declaration(public, cam_pha):
    code = receipt_of(declare_by_form(public))
    assert declaration_by_receipt(code) == Declaration.objects.get()


def test_the_wharf_dashboard_lists_expected_arrivals_with_who_is_flagged(public, cam_pha, inspector, health):
    add_epidemic_area(health, AreaData("Bắc Giang", "", date(2021, 8, 1)))
    declare_by_form(public)
    client = Client()
    client.force_login(inspector)
    body = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()
    listed = body[body.index("data-declarations-list") : body.index("data-declarations-empty")]
    declaration = Declaration.objects.get()
    assert f'data-declaration="{declaration.pk}"' in listed
    assert "QN-4567" in listed
    assert "Trần Thị Lan: Sốt, đã đến Bắc Giang (vùng có dịch)" in listed
    assert "Nguyễn Văn Hùng" not in listed  # declared nothing to flag
    assert reverse("declaration-poster", args=["CP-03"]) in body
    client.post(reverse("declaration-register", args=[declaration.pk]), {"arrived_at": "2021-08-12T02:00"})
    body = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()
    assert "QN-4567" not in body[body.index("data-declarations-list") : body.index("data-declarations-empty")]


# The wharf dashboard's own queries (tests/vessels/test_dashboard_pages.py), and its
# expected arrivals: the declarations, their people, their ports and the epidemic areas.
DASHBOARD_WITH_DECLARATIONS_QUERIES = 18 + 3


@pytest.mark.parametrize("size", [1, 8])
def test_the_dashboard_with_expected_arrivals_runs_a_fixed_number_of_queries(
    cam_pha, inspector, size, django_assert_max_num_queries
):
    for n in range(size):
        declare(
            DeclarationData(
                registration=f"QN-{5000 + n}",
                expected_at=ARRIVAL,
                declarant_name="Nguyễn Văn Hùng",
                declarant_phone="0912345678",
                ports=[PortOfCallData("Cảng Cái Lân", date(2021, 8, 11))],
                people=[
                    DeclaredPersonData(f"Người {n} {k}", f"0220900{n:03d}{k:02d}", "crew", cough=k == 0)
                    for k in range(5)
                ],
            ),
            wharf=cam_pha,
        )
    client = Client()
    client.force_login(inspector)
    with django_assert_max_num_queries(DASHBOARD_WITH_DECLARATIONS_QUERIES):
        body = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()
    assert body.count("data-flagged-person") == size
