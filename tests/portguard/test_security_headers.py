"""The headers `check --deploy` does not cover: Content-Security-Policy without inline
script or style, Referrer-Policy and Permissions-Policy, on pages, the API and the
service worker; and templates with nothing the policy would refuse."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = settings.BASE_DIR / "portguard" / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/login/", "/sw.js", "/manifest.webmanifest", "/api/v1/wharves/"])
def test_every_answer_carries_the_policy_and_the_other_headers(client, db, path):
    response = client.get(path)
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'self'" in policy["connect-src"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_a_signed_in_page_carries_them_too(client, inspector):
    client.force_login(inspector)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]
    assert response["Permissions-Policy"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I), "an inline script"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.I), "an inline style"),
    (re.compile(r"<style", re.I), "a style block"),
]


@pytest.mark.parametrize(
    "template", sorted(p for p in TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_holds_what_the_policy_refuses(template):
    text = template.read_text(encoding="utf-8")
    found = [f"{what}: {m.group(0)!r}" for pattern, what in INLINE for m in pattern.finditer(text)]
    assert found == []
