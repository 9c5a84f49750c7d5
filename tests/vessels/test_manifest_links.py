"""The port call page links each person on its manifest to their history."""

from django.test import Client
from django.urls import reverse

from tests.helpers import people_of


def test_the_port_call_page_links_each_person_on_the_manifest(make_call, inspector):
    call = make_call(crew=2)
    client = Client()
    client.force_login(inspector)
    body = client.get(reverse("port-call", args=[call.pk])).content.decode()
    for person in people_of(call):
        assert reverse("person", args=[person.pk]) in body
