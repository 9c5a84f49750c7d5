"""The access log of reads of personal health data (rule R8): append-only, written by
``crews.access_log.record_read`` from every door that shows a person's results or a
contact list, and by no other."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from crews.access_log import record_read
from crews.choices import ReadKind, ReadVia
from crews.models import HealthDataRead
from tests.helpers import people_of


def columns(entry: HealthDataRead) -> tuple:
    return HealthDataRead.objects.filter(pk=entry.pk).values_list().get()


@pytest.fixture
def entry(make_call, health):
    call = make_call(crew=1)
    return record_read(
        health, ReadKind.PERSON, door="person", via=ReadVia.PAGE, person=people_of(call)[0], port_call=call
    )


# --- Append-only -------------------------------------------------------------------------


def test_an_entry_is_never_changed_nor_deleted_through_the_orm(entry, inspector):
    before = columns(entry)
    entry.user = inspector
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    with pytest.raises(ValueError, match="append-only"):
        HealthDataRead.objects.filter(pk=entry.pk).update(user=inspector)
    with pytest.raises(ValueError, match="append-only"):
        HealthDataRead.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ValueError, match="append-only"), transaction.atomic():
        HealthDataRead.objects.bulk_update([entry], ["user"])
    assert columns(entry) == before


def test_the_admin_shows_an_entry_without_a_form_to_change_or_delete_it_even_to_a_superuser(client, entry):
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    change = reverse("admin:crews_healthdataread_change", args=[entry.pk])
    page = client.get(change).content.decode()
    assert entry.person.full_name in page
    assert 'name="_save"' not in page
    assert client.post(change, {"kind": ReadKind.CASES}).status_code == 403
    delete = reverse("admin:crews_healthdataread_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:crews_healthdataread_add")).status_code == 403
    changelist = reverse("admin:crews_healthdataread_changelist")
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert HealthDataRead.objects.filter(pk=entry.pk).exists()
    assert columns(entry)[3] == ReadKind.PERSON
