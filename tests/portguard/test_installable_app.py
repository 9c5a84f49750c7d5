"""The installable app's two doors: the web app manifest (a Vietnamese name, icons, the
whole site as its scope, opened standalone from the home screen) and the service worker,
served from the root so that it may control every page. The browser side (registration,
pages opened offline, the screening sheet's outbox) is tests/browser/test_offline_app.py."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

pytestmark = pytest.mark.django_db


def test_the_manifest_names_the_app_in_vietnamese_with_its_icons(django_assert_max_num_queries):
    with django_assert_max_num_queries(0):
        response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content.decode("utf-8"))
    assert manifest["name"] == "PortGuard — Kiểm soát bến"
    assert manifest["short_name"] == "PortGuard"
    assert manifest["lang"] == "vi"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]


@pytest.mark.parametrize("who", [None, "inspector"])
def test_every_page_links_the_manifest_and_loads_the_app_script(request, who):
    client = Client()
    if who:
        client.force_login(request.getfixturevalue(who))
    html = client.get("/login/" if who is None else "/", follow=True).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    (script,) = re.findall(r"<script type=\"module\"[^>]*data-pwa[^>]*>", html)
    assert 'src="/static/portguard/pwa/app.js"' in script
    assert 'data-worker="/sw.js"' in script
    assert 'data-offline-text="Ngoại tuyến — dữ liệu lúc {time}"' in script


def test_the_service_worker_is_javascript_for_the_whole_site(inspector, django_assert_max_num_queries):
    client = Client()
    client.force_login(inspector)
    with django_assert_max_num_queries(2):
        response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert "/static/portguard/pwa/app.js" in shell and "/static/portguard/portguard.css" in shell
    for url in shell:
        assert finders.find(url.removeprefix("/static/")), url
    # Writes are never answered from the cache: the worker handles GET only.
    assert 'request.method !== "GET"' in body


def test_the_service_worker_and_manifest_need_no_login():
    for url in ("/sw.js", "/manifest.webmanifest"):
        response = Client().get(url)
        assert response.status_code == 200, url
        assert Client().post(url).status_code == 405, url
