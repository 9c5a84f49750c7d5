"""The demo's health declarations (rule R6): two vessels expected at Cẩm Phả wharves, one
with a declared symptom, on the dashboards of the demo inspector; loaded once."""

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from portguard import demo
from vessels.choices import Locality
from vessels.declarations import expected_arrivals
from vessels.models import Declaration, Wharf


def test_the_demo_has_two_expected_arrivals_at_cam_pha_one_with_a_symptom(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    report = demo.seed(password="pw-demo")
    assert report.declarations_created == 2
    declarations = list(Declaration.objects.select_related("wharf"))
    assert {d.wharf.locality for d in declarations} == {Locality.CAM_PHA}
    rows = expected_arrivals(Wharf.objects.filter(locality=Locality.CAM_PHA))
    assert len(rows) == 2
    flagged = [p for row in rows for p in row.flagged_people]
    assert len(flagged) == 1
    assert flagged[0].symptoms and flagged[0].epidemic_provinces == ["Bắc Giang"]
    # The demo inspector sees both on their wharves' dashboards; a second run adds nothing.
    client = Client()
    client.force_login(User.objects.get(username="inspector"))
    for declaration in declarations:
        body = client.get(reverse("wharf-dashboard", args=[declaration.wharf.code])).content.decode()
        assert f'data-declaration="{declaration.pk}"' in body
    assert demo.seed(password="pw-demo").declarations_created == 0
    assert Declaration.objects.count() == 2
