"""The installable app: the web app manifest and the service worker, both served from the
site's root so that the worker's scope is the whole site (it caches the shell and, once
visited, the pages an inspector needs at the berth; see templates/portguard/sw.js)."""

import json

from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOUR = "#0b4f8a"
# What the worker caches on install: the stylesheet, the scripts and the icons.
SHELL = [
    "portguard/portguard.css",
    "portguard/portguard.js",
    "portguard/pwa/app.js",
    "portguard/pwa/outbox.js",
    "portguard/pwa/queue.js",
    "portguard/pwa/time.js",
    "portguard/pwa/icon-192.png",
    "portguard/pwa/icon-512.png",
]


@require_safe
@cache_control(max_age=3600)
def manifest(request):
    icons = [
        {"src": static(f"portguard/pwa/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    icons.append({**icons[-1], "purpose": "maskable"})
    data = {
        "name": "PortGuard — Kiểm soát bến",
        "short_name": "PortGuard",
        "description": "Kiểm soát phòng chống dịch COVID-19 tại các bến cảng Quảng Ninh",
        "lang": "vi",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": "#f3f5f8",
        "icons": icons,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_safe
@cache_control(no_cache=True)
def service_worker(request):
    """The worker, from the root so that it may control every page; never cached by HTTP,
    so that a new version is picked up on the next visit."""
    response = render(
        request,
        "portguard/sw.js",
        {
            "shell": json.dumps([static(path) for path in SHELL]),
            "static_prefix": json.dumps(static("")),
            "queue": json.dumps(static("portguard/pwa/queue.js")),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response
