"""The live dashboards: a wharf's and the province's, first drawn from the same
snapshot their socket sends, then kept live by the page's script."""

from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crews.choices import TestKind, TestResult
from crews.kit_forecast import forecast, forecast_at
from crews.kit_stock import Place, visible_places
from crews.lab_load import labs_over
from portguard.pages import page
from realtime.snapshot import dashboard_snapshot
from vessels.scope import sees_all_wharves, visible_wharves

from .choices import Locality, PortCallStatus

# How the province dashboard groups the open calls of a wharf.
STATUS_BUCKETS: dict[str, tuple[str, ...]] = {
    "cleared": (PortCallStatus.CLEARED, PortCallStatus.HANDOVER_APPROVED),
    "blocked": (PortCallStatus.BLOCKED, PortCallStatus.QUARANTINED, PortCallStatus.HANDOVER_SUSPENDED),
    "awaiting": (PortCallStatus.AWAITING_TESTS,),
}


MY_WHARVES_SOCKET = "/ws/wharves/mine/"


def wharf_tally(summaries: list[dict[str, Any]]) -> dict[str, int]:
    tally = {"open": len(summaries), **{bucket: 0 for bucket in STATUS_BUCKETS}}
    for summary in summaries:
        for bucket, statuses in STATUS_BUCKETS.items():
            if summary["status"] in statuses:
                tally[bucket] += 1
    return tally


def live_cards(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot summaries with their status in words, for the server-rendered cards."""
    return [{**s, "status_label": capfirst(PortCallStatus(s["status"]).label)} for s in summaries]


def live_config(socket_path: str) -> dict[str, Any]:
    """What the dashboard's script needs: where to connect and every word it may have to show."""
    return {
        "socket": socket_path,
        "callUrl": reverse("port-call", args=[0]),
        "wharfUrl": reverse("wharf-dashboard", args=["__code__"]),
        "timeZone": timezone.get_current_timezone_name(),
        "statuses": {status.value: capfirst(status.label) for status in PortCallStatus},
        "testKinds": {kind.value: capfirst(kind.label) for kind in TestKind},
        "testResults": {result.value: str(result.label) for result in TestResult},
        "localities": {locality.value: str(locality.label) for locality in Locality},
        "buckets": STATUS_BUCKETS,
        "text": {
            "connecting": _("Connecting…"),
            "live": _("Live"),
            "reconnecting": _("Reconnecting…"),
            "stale": _("The data shown may be out of date."),
            "unauthenticated": _("Your session has expired. Log in again to see live updates."),
            "forbidden": _("You no longer have access to this dashboard."),
            "resynced": _("Reconnected: the current state was reloaded."),
            "arrived": _("%(vessel)s arrived at %(wharf)s."),
            "portCallUpdated": _("%(vessel)s at %(wharf)s: %(status)s, %(negative)s of %(crew)s negative."),
            "testRecorded": _("%(name)s (%(vessel)s): %(kind)s, %(result)s."),
            "alertPositive": _("POSITIVE: %(name)s on %(vessel)s at %(wharf)s."),
            "handoverApproved": _("Cargo handover approved for %(vessel)s by %(user)s."),
            "handoverSuspended": _("Cargo handover suspended for %(vessel)s: %(reason)s"),
            "alertVessel": _("Vessel %(vessel)s at %(wharf)s"),
            "notifyTitle": _("Positive: %(name)s"),
            "alertStation": _("KCS station %(station)s at %(wharf)s"),
            "alertSample": _("%(kind)s sampled at %(time)s"),
            "staffOverdue": _("Overdue KCS test: %(name)s (%(station)s), %(what)s."),
            "overdueRapid": _("rapid test after shift %(shift)s of %(day)s"),
            "kitsShortStation": _(
                "KCS station %(code)s %(name)s is running short of rapid test kits: %(left)s left, "
                "%(need)s needed in the next %(days)s days (runs out on %(date)s)."
            ),
            "kitsShortWharf": _(
                "Wharf %(code)s %(name)s is running short of rapid test kits: %(left)s left, "
                "%(need)s needed in the next %(days)s days (runs out on %(date)s)."
            ),
            "kitsRestockedStation": _("KCS station %(code)s %(name)s has enough rapid test kits again."),
            "kitsRestockedWharf": _("Wharf %(code)s %(name)s has enough rapid test kits again."),
        },
    }


@login_required
def wharf_dashboard(request, code: str):
    wharf = get_object_or_404(visible_wharves(request.user), code=code)
    snapshot = dashboard_snapshot(request.user, wharf, declarations=False)  # the page lists them itself
    # The day the wharf's kits run out (rule R7), for those who see its kits.
    kit_forecast = (
        forecast_at(Place(wharf=wharf), timezone.localdate())
        if request.user.has_perm("crews.view_kitdelivery")
        else None
    )
    return page(
        request,
        "vessels/dashboard_wharf.html",
        {
            "wharf": wharf,
            "kit_forecast": kit_forecast,
            "cards": live_cards(snapshot["port_calls"]),
            "overdue_staff": snapshot["overdue_staff"],
            "live_config": live_config(f"/ws/wharves/{quote(wharf.code)}/"),
        },
    )


@login_required
def my_wharves_dashboard(request):
    """All the wharves an inspector covers on one live page: cards by wharf, alerts for
    any of them. Who sees every wharf has the province overview for that."""
    if sees_all_wharves(request.user):
        return redirect("province-dashboard")
    snapshot = dashboard_snapshot(request.user)
    if not snapshot["wharves"]:
        raise PermissionDenied
    cards_by_wharf: dict[str, list[dict[str, Any]]] = {w["code"]: [] for w in snapshot["wharves"]}
    for card in live_cards(snapshot["port_calls"]):
        cards_by_wharf[card["wharf"]].append(card)
    localities = dict(Locality.choices)
    return page(
        request,
        "vessels/dashboard_mine.html",
        {
            "groups": [
                {
                    **w,
                    "locality_label": localities.get(w["locality"], w["locality"]),
                    "cards": cards_by_wharf[w["code"]],
                }
                for w in snapshot["wharves"]
            ],
            "total": len(snapshot["port_calls"]),
            "live_config": live_config(MY_WHARVES_SOCKET),
        },
    )


@login_required
def province_dashboard(request):
    if not sees_all_wharves(request.user):
        raise PermissionDenied
    snapshot = dashboard_snapshot(request.user)
    calls_by_wharf: dict[str, list[dict[str, Any]]] = {w["code"]: [] for w in snapshot["wharves"]}
    for summary in snapshot["port_calls"]:
        calls_by_wharf.setdefault(summary["wharf"], []).append(summary)
    localities = dict(Locality.choices)
    rows = [
        {
            **w,
            "locality_label": localities.get(w["locality"], w["locality"]),
            "tally": wharf_tally(calls_by_wharf[w["code"]]),
        }
        for w in snapshot["wharves"]
    ]
    # The stations and wharves whose kits run out within the week (rule R7), soonest first.
    forecasts = forecast(visible_places(request.user), timezone.localdate())
    kit_shortages = sorted(
        (f for f in forecasts.values() if f.runs_out_on),
        key=lambda f: (f.runs_out_on, not f.place.is_station, f.place.code),
    )
    return page(
        request,
        "vessels/dashboard_province.html",
        {
            "rows": rows,
            "kit_shortages": kit_shortages,
            # The labs with a day over capacity this week (rule R7).
            "labs_over": labs_over(timezone.localdate()),
            "totals": {
                **wharf_tally(snapshot["port_calls"]),
                "pending": sum(1 for s in snapshot["port_calls"] if s["awaits_approval"]),
            },
            "live_config": live_config("/ws/province/"),
        },
    )
