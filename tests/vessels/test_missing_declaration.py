"""Rules R6 and R5: a port call registered with no health declaration says so on its
page, and the wharf's inspector records the *no health declaration* violation from there
in one step, once; a declared call shows nothing of the kind."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.helpers import ARRIVAL, refused
from tests.vessels.helpers import PORT_CALL_QUERIES, declaration_data
from vessels.choices import ViolationKind
from vessels.declarations import declare, record_missing_declaration, register_from_declaration
from vessels.models import Violation

NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def page_of(client, user, call) -> str:
    client.force_login(user)
    return client.get(reverse("port-call", args=[call.pk])).content.decode()


def test_an_undeclared_call_says_so_and_its_inspector_records_the_violation_once(client, make_call, inspector):
    call = make_call(crew=2)
    page = page_of(client, inspector, call)
    assert "data-undeclared" in page
    assert reverse("port-call-no-declaration", args=[call.pk]) in page

    answer = client.post(reverse("port-call-no-declaration", args=[call.pk]), follow=True)
    assert answer.status_code == 200
    (violation,) = Violation.objects.all()
    assert (violation.kind, violation.vessel, violation.wharf, violation.recorded_by) == (
        ViolationKind.NO_DECLARATION,
        call.vessel,
        call.wharf,
        inspector,
    )
    assert call.wharf.code in violation.note

    # Pressed again: refused with a message, still one violation.
    again = client.post(reverse("port-call-no-declaration", args=[call.pk]), follow=True)
    assert "already recorded" in again.content.decode() or "đã được ghi" in again.content.decode()
    assert Violation.objects.count() == 1
    with refused("already_recorded"):
        record_missing_declaration(inspector, call.pk)


def test_a_call_registered_from_its_declaration_shows_no_missing_declaration(client, cam_pha, inspector):
    with time_machine.travel(ARRIVAL - timedelta(hours=6), tick=False):
        declaration, _code = declare(declaration_data(), wharf=cam_pha)
    call = register_from_declaration(inspector, declaration.pk, arrived_at=ARRIVAL)
    assert "data-undeclared" not in page_of(client, inspector, call)
    with refused("declared"):
        record_missing_declaration(inspector, call.pk)
    assert not Violation.objects.exists()


def test_only_the_wharfs_inspector_records_it(client, make_call, authority, outsider):
    call = make_call(crew=1)
    page = page_of(client, authority, call)
    assert "data-undeclared" in page  # the authority sees the call has no declaration
    assert reverse("port-call-no-declaration", args=[call.pk]) not in page
    assert client.post(reverse("port-call-no-declaration", args=[call.pk])).status_code == 403
    client.force_login(outsider)
    assert client.post(reverse("port-call-no-declaration", args=[call.pk])).status_code == 404
    with refused("forbidden"):
        record_missing_declaration(authority, call.pk)
    assert not Violation.objects.exists()


@pytest.mark.parametrize("crew", [2, 30])
def test_the_port_call_page_costs_no_more_queries_for_the_declaration(
    client, make_call, inspector, crew, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    client.force_login(inspector)
    client.get(reverse("port-call", args=[call.pk]))  # warm the session and permission caches
    with django_assert_max_num_queries(PORT_CALL_QUERIES):
        page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    assert "data-undeclared" in page
