"""Retention (Decree 13/2023/NĐ-CP): the personal data of people PortGuard no longer
needs is anonymised in place, once a day, by the clock or by cron.

A person is due when nothing ties them to the last ``PORTGUARD_RETENTION_DAYS`` days
(180 by default): every port call they were on has departed (or they were taken off its
manifest) before then, every KCS assignment of theirs has ended before then and no
roster entry of theirs falls in the period, and no test, contact list or health
declaration of theirs is that recent. So nobody on an open call (which a quarantine
keeps open), still on a station's staff, under follow-up as a case or a contact, or
declared on a vessel still expected is touched. A person on no manifest and no staff
at all has no date to go by and is left alone.

Anonymising keeps the row and every foreign key to it, so that what is counted (the
daily report, the port call list, the schedule's history) counts the same: the name
becomes ``Đã ẩn danh #<id>``, the ID number ``ANON-<id>`` (unique, and no real document
looks like it: a new arrival with the same document becomes a new person), the date of
birth and phone are cleared, the folded search column follows, and ``anonymised_at``
says when. The copies of the name and number elsewhere go too: alert texts and their
e-mails, a suspended handover's reason, a refused handover's list of who blocked it, a
quarantine release's reason, a violation's note, the admin's log, and the person's
entries in health declarations. A health declaration whose vessel left (or which never
arrived) before the period is anonymised whole, its declarant too.

Everything is done in one transaction, in a constant number of queries whatever the
number of people; a second run finds nobody due and changes nothing. ``run_daily``
takes a lease for a day first, so that across any number of hosts (clocks, cron lines)
it runs once a day.
"""

import logging
import os
import re
import secrets
import socket
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from portguard.collation import fold_name
from portguard.lease import hold
from portguard.models import AlertMail, Lease
from vessels.models import (
    Alert,
    Contact,
    Declaration,
    DeclaredPerson,
    Handover,
    HandoverRefusal,
    PortCall,
    QuarantineRelease,
    Violation,
)

from .models import CrewMember, Person, RosterEntry, ScreeningTest, StaffMember

logger = logging.getLogger(__name__)

PLACEHOLDER = "Đã ẩn danh"  # "anonymised": the name left in place of a person's
TOKEN = "ANON-"
LEASE = "retention"
# The day's lease runs out a little before a day has passed, so that a daily cron line
# that starts a few seconds early is not turned away.
EVERY = timedelta(hours=23)
# A run that failed is tried again this much later (not at every tick of the clock).
RETRY = timedelta(hours=1)


def placeholder(pk: int) -> str:
    return f"{PLACEHOLDER} #{pk}"


def token(pk: int) -> str:
    return f"{TOKEN}{pk}"


@dataclass
class Counts:
    """What a run anonymised (or, dry, would have)."""

    people: int = 0
    declarations: int = 0
    declared_people: int = 0
    texts: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in asdict(self).items())


def cutoff_of(now: datetime) -> datetime:
    return now - timedelta(days=settings.PORTGUARD_RETENTION_DAYS)


def due_people(now: datetime):
    """The people due for anonymisation at ``now`` (see the module's text). One query."""
    cutoff = cutoff_of(now)
    tz = ZoneInfo(settings.TIME_ZONE)
    cutoff_day = cutoff.astimezone(tz).date()
    person = OuterRef("pk")
    manifests = CrewMember.objects.filter(person=person)
    on_a_recent_call = manifests.filter(
        Q(removed_at__isnull=True, port_call__departed_at__isnull=True)
        | Q(removed_at__isnull=True, port_call__departed_at__gte=cutoff)
        | Q(removed_at__gte=cutoff)
    )
    posts = StaffMember.objects.filter(person=person)
    on_a_staff = posts.filter(Q(left_on__isnull=True, active=True) | Q(left_on__gt=cutoff_day))
    rostered = RosterEntry.objects.filter(staff__person=person, date__gte=cutoff_day)
    tested = ScreeningTest.objects.filter(person=person, sampled_at__gte=cutoff)
    followed = Contact.objects.filter(Q(person=person) | Q(case_person=person), computed_at__gte=cutoff)
    # Declared on a vessel expected within the period (or still to come).
    declared = DeclaredPerson.objects.filter(
        id_kind=OuterRef("id_kind"), id_number=OuterRef("id_number"), declaration__expected_at__gte=cutoff
    )
    return Person.objects.filter(anonymised_at__isnull=True).filter(
        (Exists(manifests) | Exists(posts))
        & ~Exists(on_a_recent_call)
        & ~Exists(on_a_staff)
        & ~Exists(rostered)
        & ~Exists(tested)
        & ~Exists(followed)
        & ~Exists(declared)
    )


def old_declarations(now: datetime):
    """Declarations past the period: their vessel left before it, or never arrived and
    was expected before it. Not yet anonymised."""
    cutoff = cutoff_of(now)
    return Declaration.objects.filter(
        Q(port_call__departed_at__lt=cutoff) | Q(port_call__isnull=True, expected_at__lt=cutoff)
    ).exclude(declarant_name=PLACEHOLDER)


class _Scrubber:
    """Replaces the names and ID numbers of the people being anonymised in free texts:
    each text only by the people it can name (its person, the crew of its port call,
    the staff of its station), whole words only."""

    def __init__(self, people: dict[int, tuple[str, str]]):
        self.people = people  # pk -> (full name, id number)
        self.by_call: dict[int, set[int]] = defaultdict(set)
        self.by_station: dict[int, set[int]] = defaultdict(set)
        self.changed = 0
        self._patterns: dict[frozenset[int], tuple[re.Pattern | None, dict[str, str]]] = {}

    def _pattern(self, pks: set[int]) -> tuple[re.Pattern | None, dict[str, str]]:
        key = frozenset(pks)
        if key not in self._patterns:
            self._patterns[key] = self._compile(key)
        return self._patterns[key]

    def _compile(self, pks: frozenset[int]) -> tuple[re.Pattern | None, dict[str, str]]:
        replacements: dict[str, str] = {}
        for pk in pks:
            if pk in self.people:
                name, number = self.people[pk]
                for text, new in ((name, placeholder(pk)), (number, token(pk))):
                    if text.strip():
                        replacements[text] = new
        if not replacements:
            return None, {}
        alternatives = "|".join(re.escape(text) for text in sorted(replacements, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), replacements

    def scrub(self, text: str, pks) -> str:
        pattern, replacements = self._pattern(pks)
        if pattern is None or not text:
            return text
        return pattern.sub(lambda match: replacements[match.group(0)], text)

    def near(self, *, person=None, port_call=None, station=None) -> set[int]:
        pks = set()
        if person is not None:
            pks.add(person)
        if port_call is not None:
            pks |= self.by_call.get(port_call, set())
        if station is not None:
            pks |= self.by_station.get(station, set())
        return pks

    def rows(self, queryset, fields: list[str], near) -> None:
        """Scrub ``fields`` of every row of ``queryset``; save the changed ones with ``bulk_update``."""
        changed = []
        for row in queryset:
            pks = near(row)
            before = [getattr(row, f) for f in fields]
            for f in fields:
                setattr(row, f, self.scrub(getattr(row, f), pks))
            if [getattr(row, f) for f in fields] != before:
                changed.append(row)
        if changed:
            queryset.model.objects.bulk_update(changed, fields)
        self.changed += len(changed)


def anonymise(now: datetime | None = None, *, dry_run: bool = False) -> Counts:
    """Anonymise everyone due at ``now`` and the declarations past the period, in one
    transaction. ``dry_run``: do it all, count it, and roll it back."""
    now = now or timezone.now()
    with transaction.atomic():
        counts = _anonymise(now)
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and (counts.people or counts.declarations):
        logger.info("Retention: anonymised %s", counts)
    return counts


def _anonymise(now: datetime) -> Counts:
    counts = Counts()
    due = due_people(now)
    if connection.features.has_select_for_update_of:
        # Rows locked before marking: a manifest or staff row referring to one of them,
        # being written meanwhile, waits for this transaction (its foreign key's lock).
        list(due.select_for_update(of=("self",)).values_list("pk", flat=True))
    # Mark first: from here on ``marked`` names this run's people in every query.
    counts.people = Person.objects.filter(pk__in=due.values("pk")).update(anonymised_at=now)
    marked = Person.objects.filter(anonymised_at=now).exclude(id_number__startswith=TOKEN)
    scrubber = _Scrubber(
        {pk: (name, number) for pk, name, number in marked.values_list("pk", "full_name", "id_number")}
    )
    if counts.people:
        _scrub_copies(scrubber, marked)
        counts.declared_people = DeclaredPerson.objects.filter(
            Exists(marked.filter(id_kind=OuterRef("id_kind"), id_number=OuterRef("id_number")))
        ).update(
            full_name=PLACEHOLDER, id_number=Concat(Value(TOKEN + "D"), Cast("pk", CharField())), date_of_birth=None
        )
        number = Cast("pk", CharField())
        marked.update(
            full_name=Concat(Value(PLACEHOLDER + " #"), number),
            name_folded=Concat(Value(fold_name(PLACEHOLDER) + " #"), number),
            id_number=Concat(Value(TOKEN), number),
            date_of_birth=None,
            phone="",
        )
    ids = list(old_declarations(now).values_list("pk", flat=True))
    counts.declarations = len(ids)
    if ids:
        counts.declared_people += (
            DeclaredPerson.objects.filter(declaration_id__in=ids)
            .exclude(id_number__startswith=TOKEN)
            .update(
                full_name=PLACEHOLDER,
                id_number=Concat(Value(TOKEN + "D"), Cast("pk", CharField())),
                date_of_birth=None,
            )
        )
        Declaration.objects.filter(pk__in=ids).update(declarant_name=PLACEHOLDER, declarant_phone="")
    counts.texts = scrubber.changed
    return counts


def _scrub_copies(scrubber: _Scrubber, marked) -> None:
    """The copies of the marked people's names and numbers in other records' texts."""
    for call, pk in CrewMember.objects.filter(person__in=marked).values_list("port_call_id", "person_id"):
        scrubber.by_call[call].add(pk)
    for station, pk in StaffMember.objects.filter(person__in=marked).values_list("station_id", "person_id"):
        scrubber.by_station[station].add(pk)
    calls = PortCall.objects.filter(crew__person__in=marked).values("pk")
    stations = StaffMember.objects.filter(person__in=marked).values("station_id")
    near_alert = Q(person__in=marked) | Q(port_call__in=calls) | Q(station__in=stations)
    scrubber.rows(
        Alert.objects.filter(near_alert).only("message", "person", "port_call", "station"),
        ["message"],
        lambda a: scrubber.near(person=a.person_id, port_call=a.port_call_id, station=a.station_id),
    )
    scrubber.rows(
        AlertMail.objects.filter(alert__in=Alert.objects.filter(near_alert)).select_related("alert"),
        ["subject", "body"],
        lambda m: scrubber.near(person=m.alert.person_id, port_call=m.alert.port_call_id, station=m.alert.station_id),
    )
    scrubber.rows(
        Handover.objects.filter(port_call__in=calls).exclude(suspended_reason="").only("suspended_reason", "port_call"),
        ["suspended_reason"],
        lambda h: scrubber.near(port_call=h.port_call_id),
    )
    scrubber.rows(
        QuarantineRelease.objects.filter(port_call__in=calls).only("reason", "port_call"),
        ["reason"],
        lambda r: scrubber.near(port_call=r.port_call_id),
    )
    scrubber.rows(
        Violation.objects.filter(person__in=marked).exclude(note="").only("note", "person"),
        ["note"],
        lambda v: scrubber.near(person=v.person_id),
    )
    _scrub_refusals(scrubber, calls)
    _scrub_admin_log(scrubber)


def _scrub_refusals(scrubber: _Scrubber, calls) -> None:
    """A refused handover keeps who blocked it (name, ID number, why) as JSON."""
    changed = []
    for refusal in HandoverRefusal.objects.filter(port_call__in=calls).only("blocking", "port_call"):
        pks = scrubber.near(port_call=refusal.port_call_id)
        blocking = [
            {key: scrubber.scrub(value, pks) if isinstance(value, str) else value for key, value in entry.items()}
            if isinstance(entry, dict)
            else entry
            for entry in refusal.blocking
        ]
        if blocking != refusal.blocking:
            refusal.blocking = blocking
            changed.append(refusal)
    HandoverRefusal.objects.bulk_update(changed, ["blocking"])
    scrubber.changed += len(changed)


def _scrub_admin_log(scrubber: _Scrubber) -> None:
    """The admin's history names a person it changed (``str(person)``: name and number)."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Person)).only(
        "object_id", "object_repr"
    )
    changed = []
    for entry in entries:
        pk = int(entry.object_id) if entry.object_id and entry.object_id.isdigit() else None
        if pk in scrubber.people:
            entry.object_repr = scrubber.scrub(entry.object_repr, {pk})
            changed.append(entry)
    LogEntry.objects.bulk_update(changed, ["object_repr"])
    scrubber.changed += len(changed)


# --- Once a day, across hosts --------------------------------------------------------


def holder_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def run_daily(now: datetime | None = None) -> Counts | None:
    """Anonymise, unless another process (a clock, a cron line on another host) did
    within the last day or is doing it now: then None. The lease taken for the day is
    not given back when the run ends: its expiry is when the next one is due; a run
    that fails gives it back for an hour, and tries again then."""
    holder = holder_id()
    if not hold(LEASE, holder, EVERY.total_seconds()):
        return None
    try:
        return anonymise(now)
    except Exception:
        hold(LEASE, holder, RETRY.total_seconds())
        raise


def last_run() -> Lease | None:
    """The day's lease as it stands: who ran last, and when the next run is due."""
    return Lease.objects.filter(name=LEASE).first()
