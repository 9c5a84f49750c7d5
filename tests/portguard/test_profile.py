"""The profile page: every signed-in user sees the address e-mail alerts go to and turns
them on or off (a form with its CSRF token, in Vietnamese, on a phone)."""

import re

import pytest
from django.test import Client

from portguard import roles
from portguard.models import Profile
from tests.helpers import make_user
from vessels.models import Wharf

URL = "/profile/"


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def checked(html: str) -> bool:
    (box,) = re.findall(r'<input type="checkbox" name="email_alerts"[^>]*>', html)
    return "checked" in box


@pytest.mark.parametrize("who", ["inspector", "supervisor", "authority", "health"])
def test_every_officer_turns_email_alerts_on_and_off(request, who):
    user = request.getfixturevalue(who)
    user.email = "canbo@quangninh.gov.vn"
    user.save(update_fields=["email"])
    client = signed_in(user, enforce_csrf_checks=True)

    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Hồ sơ của tôi" in html and "Cảnh báo qua e-mail" in html
    assert "E-mail được gửi tới <strong>canbo@quangninh.gov.vn</strong>." in html
    assert not checked(html), "off until the officer opts in"
    token = page.context["csrf_token"]

    assert client.post(URL, {"email_alerts": "on"}).status_code == 403, "no CSRF token, no change"
    assert not Profile.objects.filter(user=user).exists()

    response = client.post(URL, {"email_alerts": "on", "csrfmiddlewaretoken": token}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Đã bật cảnh báo qua e-mail." in response.content.decode()
    assert checked(response.content.decode())
    assert Profile.objects.get(user=user).email_alerts

    response = client.post(URL, {"csrfmiddlewaretoken": token}, follow=True)
    assert "Đã tắt cảnh báo qua e-mail." in response.content.decode()
    assert not checked(response.content.decode())
    assert not Profile.objects.get(user=user).email_alerts


def test_an_account_without_an_address_is_told_so(inspector):
    html = signed_in(inspector).get(URL).content.decode()
    assert "Tài khoản của bạn chưa có địa chỉ e-mail" in html


def test_the_page_is_linked_from_every_page_header(inspector):
    html = signed_in(inspector).get("/").content.decode()
    assert 'href="/profile/"' in html


def test_anonymous_visitors_are_sent_to_log_in():
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("wharves", [1, 12])
def test_the_profile_page_reads_a_fixed_number_of_queries(db, wharves, django_assert_max_num_queries):
    places = [
        Wharf.objects.create(code=f"W-{i:02d}", name=f"Bến {i}", locality="cam_pha", route_order=i)
        for i in range(wharves)
    ]
    user = make_user("lan", roles.INSPECTOR, places)
    for i in range(wharves):
        other = make_user(f"user{i}", roles.INSPECTOR, places)
        Profile.objects.create(user=other, email_alerts=True)
    client = signed_in(user)
    with django_assert_max_num_queries(PROFILE_PAGE_QUERIES):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(PROFILE_SAVE_QUERIES):
        assert client.post(URL, {"email_alerts": "on"}).status_code == 302


PROFILE_PAGE_QUERIES = 7  # + the user's API tokens
PROFILE_SAVE_QUERIES = 8
