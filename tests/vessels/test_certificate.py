"""The clearance certificate of an approved handover: a one-page A4 PDF in Vietnamese,
and the public verification page its QR code opens, which shows a later suspension."""

import io
import re
from datetime import timedelta

import pypdf
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crews.choices import TestKind, TestResult
from tests.helpers import ARRIVAL, people_of
from vessels import certificate
from vessels.models import Handover
from vessels.services import approve_handover

NOW = ARRIVAL + timedelta(hours=3)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def approved(make_call, record, authority):
    """A port call of ``crew`` people, each cleared by a rapid test, handover approved."""

    def make(crew: int = 3):
        authority.first_name, authority.last_name = "Bình", "Đặng Văn"
        authority.save()
        call = make_call(crew=crew)
        for person in people_of(call):
            record(call, person)
        approve_handover(authority, call.pk, now=NOW)
        return call

    return make


def pdf_text(content: bytes) -> tuple[list, str]:
    pages = pypdf.PdfReader(io.BytesIO(content)).pages
    return pages, "\n".join(page.extract_text() for page in pages)


def verify_path(text: str) -> str:
    return re.search(r"http://testserver(/verify/\S+/)", text).group(1)


def test_certificate_is_one_a4_page_in_vietnamese_with_everyone_and_their_test(client, approved, authority):
    call = approved(crew=3)
    client.force_login(authority)
    response = client.get(reverse("port-call-certificate", args=[call.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert len(pages) == 1
    assert (round(float(pages[0].mediabox.width)), round(float(pages[0].mediabox.height))) == (595, 842)
    assert "GIẤY XÁC NHẬN ĐỦ ĐIỀU KIỆN GIAO NHẬN HÀNG HÓA" in text
    for person in people_of(call):
        assert person.full_name in text and person.id_number in text
    assert "Nguyễn Văn Hùng" in text
    assert call.vessel.registration in text and "CP-03" in text and "Bến Mông Dương" in text
    assert "09:00 12/08/2021" in text  # sample time in Asia/Ho_Chi_Minh
    assert "11:00 12/08/2021" in text  # approval time
    assert "Bình" in text
    assert verify_path(text)


def test_qr_code_holds_the_verification_address():
    drawing = certificate.qr_drawing("https://portguard.example/verify/abc/")
    (widget,) = drawing.contents
    assert widget.value == "https://portguard.example/verify/abc/"


def test_verification_page_is_public_and_shows_a_later_suspension(client, approved, authority, record):
    call = approved(crew=2)
    client.force_login(authority)
    _pages, text = pdf_text(client.get(reverse("port-call-certificate", args=[call.pk])).content)
    path = verify_path(text)
    public = Client()
    response = public.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-state="valid"' in page and call.vessel.registration in page
    assert people_of(call)[0].full_name not in page  # no personal data in public

    record(call, people_of(call)[1], result=TestResult.POSITIVE, kind=TestKind.RAPID, sampled_at=NOW)
    page = public.get(path).content.decode()
    assert 'data-state="suspended"' in page
    assert Handover.objects.get().suspended_reason in page
    _pages, text = pdf_text(client.get(reverse("port-call-certificate", args=[call.pk])).content)
    assert "TẠM DỪNG" in text


def test_a_forged_token_is_not_a_certificate(client, approved):
    approved(crew=1)
    token = certificate.certificate_token(Handover.objects.get())
    response = Client().get(reverse("verify-certificate", args=[token[:-2] + "xx"]))
    assert response.status_code == 404 and 'data-state="unknown"' in response.content.decode()


def test_no_certificate_before_approval_or_out_of_scope(client, make_call, approved, inspector, outsider):
    call = make_call(crew=1)
    client.force_login(inspector)
    assert client.get(reverse("port-call-certificate", args=[call.pk])).status_code == 404
    assert (
        reverse("port-call-certificate", args=[call.pk])
        not in client.get(reverse("port-call", args=[call.pk])).content.decode()
    )
    done = approved(crew=1)
    assert (
        reverse("port-call-certificate", args=[done.pk])
        in client.get(reverse("port-call", args=[done.pk])).content.decode()
    )
    client.force_login(outsider)
    assert client.get(reverse("port-call-certificate", args=[done.pk])).status_code == 404


@pytest.mark.parametrize("crew", [3, 45])
def test_certificate_stays_on_one_page_in_constant_queries(
    client, approved, authority, crew, django_assert_max_num_queries
):
    call = approved(crew=crew)
    client.force_login(authority)
    with django_assert_max_num_queries(8):  # + the access log's entry (rule R8)
        response = client.get(reverse("port-call-certificate", args=[call.pk]))
    pages, text = pdf_text(response.content)
    assert len(pages) == 1
    assert people_of(call)[-1].full_name in text
