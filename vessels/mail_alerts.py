"""E-mail alerts: an officer who opts in on their profile gets an e-mail for each
positive (a positive result, a confirmed case, a positive pool) in their scope.

The e-mails are written to an outbox (``portguard.models.AlertMail``) in the transaction
that raises the alert, one row per recipient, and sent by the clock afterwards
(``vessels.mail_outbox``): sending never delays the write nor rolls it back, a write
rolled back leaves no e-mail, and a mail server that is down is tried again.

Who gets one: users who opted in, are active and have an e-mail address, and whose
scope covers the alert: with the permission to read alerts, the inspectors of its wharf
and everyone who sees all wharves (the port authority, health officers); for a KCS
staff member's alert, the supervisors of their station too. The address and the text are
those of the moment the alert was raised."""

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from crews.scope import visible_stations
from portguard.models import AlertMail, Profile
from vessels.scope import sees_all_wharves, visible_wharves

from .choices import AlertKind
from .models import Alert

# The e-mails are in Vietnamese and give times in Vietnam's, whoever's request raised them.
MAIL_LANGUAGE = "vi"
MAIL_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MAILED_KINDS = frozenset({AlertKind.POSITIVE, AlertKind.CONFIRMED_CASE, AlertKind.POOL_POSITIVE})


def email_alerts_on(user) -> bool:
    """Whether the user opted in (no profile yet: not)."""
    return Profile.objects.filter(user=user, email_alerts=True).exists()


def set_email_alerts(user, enabled: bool) -> Profile:
    """Opt the user in to e-mail alerts, or out (``update_or_create`` is atomic)."""
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"email_alerts": enabled})
    return profile


class _Reach:
    """What of the alerts one officer's scope covers, read once per batch of alerts."""

    def __init__(self, user, station_ids: set[int]):
        self.reads_alerts = user.has_perm("vessels.view_alert")
        self.everywhere = self.reads_alerts and sees_all_wharves(user)
        self.wharves: set[int] = set()
        if self.reads_alerts and not self.everywhere:
            self.wharves = set(visible_wharves(user).values_list("pk", flat=True))
        self.stations: set[int] = set()
        if station_ids and not sees_all_wharves(user):
            self.stations = set(visible_stations(user).filter(pk__in=station_ids).values_list("pk", flat=True))

    def link(self, alert: Alert) -> str | None:
        """The page of the alert for this officer, or None when it is outside their scope."""
        if self.everywhere or alert.wharf_id in self.wharves:
            return reverse("alerts") + f"#alert-{alert.pk}"
        if alert.station_id is not None and alert.station_id in self.stations:
            return reverse("station", kwargs={"code": alert.station.code})
        return None


def queue_alert_mails(alerts: Sequence[Alert]) -> list[AlertMail]:
    """Store the e-mails of positives' alerts just raised, one per officer who opted in
    and whose scope covers it. Call inside the transaction that raised them (their rows
    go or stay with it); ``alerts`` come with their wharf, person, test and port call's
    vessel or station, as ``raise_alert`` returns them. One query when nobody opted in,
    a few per officer who did."""
    alerts = [a for a in alerts if a.kind in MAILED_KINDS]
    if not alerts:
        return []
    officers = list(
        get_user_model().objects.filter(profile__email_alerts=True, is_active=True).exclude(email="").order_by("pk")
    )
    if not officers:
        return []
    station_ids = {a.station_id for a in alerts if a.station_id is not None}
    mails = []
    with translation.override(MAIL_LANGUAGE):
        facts = {alert.pk: _facts(alert) for alert in alerts}
        for officer in officers:
            reach = _Reach(officer, station_ids)
            for alert in alerts:
                link = reach.link(alert)
                if link is None:
                    continue
                subject, body = _render(officer, facts[alert.pk], link)
                mails.append(
                    AlertMail(
                        alert=alert,
                        recipient=officer,
                        to=officer.email,
                        subject=subject,
                        body=body,
                        created_at=alert.created_at,
                        next_attempt_at=alert.created_at,
                    )
                )
    return AlertMail.objects.bulk_create(mails)


def _local(moment: datetime) -> str:
    return timezone.localtime(moment, MAIL_TIME_ZONE).strftime("%H:%M %d/%m/%Y")


def _facts(alert: Alert) -> dict:
    """What every recipient's e-mail of the alert says."""
    test = alert.test
    members = [alert.person.full_name]
    if alert.kind == AlertKind.POOL_POSITIVE:
        members = list(
            ScreeningTest.objects.filter(
                pool_id=test.pool_id,
                kind=TestKind.RT_PCR_POOLED,
                result=TestResult.POSITIVE,
                sampled_at=test.sampled_at,
                port_call_id=alert.port_call_id,
                station_id=alert.station_id,
                superseded_by__isnull=True,
            )
            .order_by("person__full_name")
            .values_list("person__full_name", flat=True)
        )
    return {
        "alert": alert,
        "kind": alert.get_kind_display(),
        "wharf": alert.wharf,
        "vessel": alert.port_call.vessel if alert.port_call_id else None,
        "station": alert.station if alert.station_id else None,
        "person": alert.person.full_name,
        "members": members,
        "pool_id": test.pool_id,
        "test_kind": test.get_kind_display(),
        "sampled_at": _local(test.sampled_at),
        "raised_at": _local(alert.created_at),
    }


def _render(officer, facts: dict, link: str) -> tuple[str, str]:
    context = {
        **facts,
        "officer": officer.get_full_name() or officer.get_username(),
        "url": settings.PORTGUARD_BASE_URL + link,
        "profile_url": settings.PORTGUARD_BASE_URL + reverse("profile"),
    }
    subject = " ".join(render_to_string("mail/alert_subject.txt", context).split())
    return subject[: AlertMail._meta.get_field("subject").max_length], render_to_string("mail/alert_body.txt", context)
