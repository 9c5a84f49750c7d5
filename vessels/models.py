import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portguard.collation import FoldingQuerySet, FoldsNames

from .choices import (
    AlertKind,
    ContactLevel,
    ContactReason,
    HandoverState,
    Locality,
    VesselKind,
    ViolationKind,
    ViolationTarget,
    WharfKind,
)

REGISTRATION_RE = re.compile(r"^[A-Z]{1,3}-\d{3,6}$")


def normalise_registration(value: str) -> str:
    """``qn 4567`` → ``QN-4567``: upper case, no spaces, a dash after the province code."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = re.fullmatch(r"([A-Z]{1,3})-?(\d{3,6})", compact)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    return compact


class Wharf(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True, help_text=_("For example CP-03."))
    name = models.CharField(_("name"), max_length=200)
    locality = models.CharField(_("locality"), max_length=20, choices=Locality.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=WharfKind.choices, default=WharfKind.WHARF)
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    route_order = models.PositiveIntegerField(
        _("route order"), default=0, help_text=_("Position along the route from Cẩm Phả to Đông Triều.")
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspectors"),
        related_name="assigned_wharves",
        blank=True,
        help_text=_("Users who work at this wharf and see its port calls."),
    )
    rapid_kits_since = models.DateTimeField(
        _("keeps rapid kit stock since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When its first rapid kits were recorded delivered: from then its kit stock is kept (rule R7)."),
    )

    class Meta:
        ordering = ["route_order", "code"]
        verbose_name = _("wharf")
        verbose_name_plural = _("wharves")
        permissions = [("view_all_wharves", _("Can see every wharf of the province"))]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Vessel(FoldsNames, models.Model):
    FOLDED = {"name_folded": "name"}

    registration = models.CharField(
        _("registration number"), max_length=20, unique=True, help_text=_("For example QN-4567.")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    name_folded = models.CharField(
        _("name without diacritics"),
        max_length=200,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("The name in lower case without diacritics, kept by every save, for the search."),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=VesselKind.choices, default=VesselKind.OTHER)
    owner = models.CharField(_("owner"), max_length=200, blank=True)
    capacity_tonnes = models.DecimalField(
        _("capacity (tonnes)"), max_digits=10, decimal_places=1, null=True, blank=True
    )

    objects = FoldingQuerySet.as_manager()

    class Meta:
        ordering = ["registration"]
        verbose_name = _("vessel")
        verbose_name_plural = _("vessels")

    def __str__(self) -> str:
        return f"{self.registration} {self.name}".strip()

    def save(self, *args, **kwargs):
        self.registration = normalise_registration(self.registration)
        super().save(*args, **kwargs)


class PortCall(FoldsNames, models.Model):
    """One vessel's stay at one wharf. Its lock serialises every write that can change
    whether cargo handover may be approved (rule R1)."""

    FOLDED = {"origin_folded": "origin"}

    vessel = models.ForeignKey(Vessel, verbose_name=_("vessel"), related_name="port_calls", on_delete=models.PROTECT)
    wharf = models.ForeignKey(Wharf, verbose_name=_("wharf"), related_name="port_calls", on_delete=models.PROTECT)
    arrived_at = models.DateTimeField(_("arrived at"))
    origin = models.CharField(_("origin"), max_length=200, blank=True, help_text=_("Last port or province."))
    origin_folded = models.CharField(
        _("origin without diacritics"),
        max_length=200,
        blank=True,
        editable=False,
        help_text=_("The origin in lower case without diacritics, for filtering by epidemic area."),
    )
    cargo_kind = models.CharField(_("cargo"), max_length=200, blank=True)
    cargo_tonnes = models.DecimalField(_("cargo (tonnes)"), max_digits=10, decimal_places=1, null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    departed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("departure recorded by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        related_name="registered_port_calls",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    version = models.PositiveBigIntegerField(
        _("version"),
        default=0,
        editable=False,
        help_text=_(
            "Raised with every change the dashboards are told of, so that they drop an older one arriving late."
        ),
    )
    client_uuid = models.UUIDField(
        _("client key"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("The key the registering page or app sent: the same registration sent again is stored once."),
    )
    departure_client_uuid = models.UUIDField(
        _("departure client key"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("The key the departure was sent with: sent again, it is recorded once."),
    )

    objects = FoldingQuerySet.as_manager()

    class Meta:
        ordering = ["-arrived_at", "-id"]
        verbose_name = _("port call")
        verbose_name_plural = _("port calls")
        permissions = [("approve_handover", _("Can approve cargo handover"))]
        indexes = [models.Index(fields=["wharf", "departed_at"], name="portcall_wharf_open")]

    def __str__(self) -> str:
        return f"{self.vessel.registration} @ {self.wharf.code} ({self.arrived_at:%Y-%m-%d %H:%M})"


class Handover(models.Model):
    """An approved cargo handover and the evidence it rested on. Suspended, never deleted."""

    port_call = models.ForeignKey(
        PortCall, verbose_name=_("port call"), related_name="handovers", on_delete=models.PROTECT
    )
    state = models.CharField(_("state"), max_length=12, choices=HandoverState.choices, default=HandoverState.APPROVED)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), related_name="+", on_delete=models.PROTECT
    )
    approved_at = models.DateTimeField(_("approved at"))
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_reason = models.CharField(_("reason for suspension"), max_length=300, blank=True)

    class Meta:
        ordering = ["-approved_at", "-id"]
        verbose_name = _("cargo handover")
        verbose_name_plural = _("cargo handovers")

    def __str__(self) -> str:
        return f"{self.port_call} — {self.get_state_display()}"


class HandoverEvidence(models.Model):
    """Which test cleared which person for a handover."""

    handover = models.ForeignKey(
        Handover, verbose_name=_("handover"), related_name="evidence", on_delete=models.PROTECT
    )
    person = models.ForeignKey("crews.Person", verbose_name=_("person"), related_name="+", on_delete=models.PROTECT)
    role = models.CharField(_("role"), max_length=10)
    test = models.ForeignKey(
        "crews.ScreeningTest", verbose_name=_("clearing test"), related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("handover evidence")
        verbose_name_plural = _("handover evidence")
        constraints = [models.UniqueConstraint(fields=["handover", "person"], name="evidence_once_per_person")]

    def __str__(self) -> str:
        return f"{self.person_id} ← {self.test_id}"


# --- Rule R2: the response to a positive -------------------------------------------


class QuarantineRelease(models.Model):
    """A health officer lifts a port call's quarantine. The confirmed cases it covers
    (every one recorded when it was given) no longer quarantine the call; a case
    recorded later does again."""

    port_call = models.ForeignKey(
        PortCall, verbose_name=_("port call"), related_name="quarantine_releases", on_delete=models.PROTECT
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("released by"), related_name="+", on_delete=models.PROTECT
    )
    released_at = models.DateTimeField(_("released at"))
    reason = models.CharField(_("reason"), max_length=500)
    cases = models.ManyToManyField(
        "crews.ScreeningTest",
        verbose_name=_("cases released"),
        related_name="+",
        help_text=_("The positive RT-PCR results the release covers."),
    )

    class Meta:
        ordering = ["-released_at", "-id"]
        verbose_name = _("quarantine release")
        verbose_name_plural = _("quarantine releases")
        permissions = [("release_quarantine", _("Can release a port call from quarantine"))]

    def __str__(self) -> str:
        return f"{self.port_call} — {self.released_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """A positive, a confirmed case, a positive pool, a quarantine or a suspended
    handover, kept until someone acknowledges it. Raised at a wharf, for a port call or
    for a KCS station's staff member (then with no port call)."""

    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    wharf = models.ForeignKey(
        Wharf,
        verbose_name=_("wharf"),
        related_name="alerts",
        on_delete=models.PROTECT,
        help_text=_("Whose dashboards it is raised on."),
    )
    port_call = models.ForeignKey(
        PortCall,
        verbose_name=_("port call"),
        related_name="alerts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    station = models.ForeignKey(
        "crews.KcsStation",
        verbose_name=_("KCS station"),
        related_name="alerts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("For a KCS staff member's result: their station."),
    )
    person = models.ForeignKey(
        "crews.Person",
        verbose_name=_("person"),
        related_name="alerts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    test = models.ForeignKey(
        "crews.ScreeningTest",
        verbose_name=_("test"),
        related_name="alerts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("raised at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, help_text=_("When the result behind it was corrected away.")
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    closed_reason = models.CharField(_("reason for closing"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        permissions = [("acknowledge_alert", _("Can acknowledge an alert"))]
        indexes = [
            models.Index(fields=["port_call", "created_at"], name="alert_call_time"),
            models.Index(fields=["wharf", "acknowledged_at"], name="alert_wharf_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class Contact(models.Model):
    """One person on the contact list of a confirmed case (rule R2). The list is
    computed when the case is confirmed and replaced whole when recomputed."""

    port_call = models.ForeignKey(
        PortCall,
        verbose_name=_("port call of the case"),
        related_name="contacts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Empty for a KCS staff member's case: then the station is given."),
    )
    station = models.ForeignKey(
        "crews.KcsStation",
        verbose_name=_("KCS station of the case"),
        related_name="contacts",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    case_person = models.ForeignKey(
        "crews.Person", verbose_name=_("case (F0)"), related_name="+", on_delete=models.PROTECT
    )
    case_test = models.ForeignKey(
        "crews.ScreeningTest",
        verbose_name=_("confirming test"),
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("The positive individual RT-PCR that confirmed the case."),
    )
    person = models.ForeignKey(
        "crews.Person", verbose_name=_("contact"), related_name="contact_of", on_delete=models.PROTECT
    )
    level = models.CharField(_("level"), max_length=2, choices=ContactLevel.choices)
    reason_code = models.CharField(_("why"), max_length=20, choices=ContactReason.choices)
    reason = models.CharField(_("reason"), max_length=300, help_text=_("Why this person is on the list."))
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("computed by"), related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["port_call", "case_person", "level", "person__full_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["port_call", "case_person", "person"], name="contact_once_per_case"),
            models.UniqueConstraint(
                fields=["station", "case_person", "person"],
                condition=models.Q(port_call__isnull=True),
                name="staff_contact_once_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(port_call__isnull=False) | models.Q(station__isnull=False),
                name="contact_has_a_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.person_id} ← {self.case_person_id}"


# --- Rule R4: epidemic areas -------------------------------------------------------


class EpidemicArea(models.Model):
    """A province, or one district of it, declared an epidemic area (vùng có dịch)."""

    province = models.CharField(_("province"), max_length=100, help_text=_("For example Hải Dương."))
    district = models.CharField(
        _("district"), max_length=100, blank=True, help_text=_("Leave empty when the whole province is affected.")
    )
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True, help_text=_("Empty while still active."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("Who last corrected or ended the area; empty if it was never changed."),
    )
    changed_at = models.DateTimeField(_("last changed at"), null=True, blank=True)

    class Meta:
        ordering = ["province", "district", "-active_from", "id"]
        verbose_name = _("epidemic area")
        verbose_name_plural = _("epidemic areas")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(active_to__isnull=True) | models.Q(active_to__gte=models.F("active_from")),
                name="epidemic_area_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.district}, {self.province}" if self.district else self.province


# --- Rule R5: violations -----------------------------------------------------------


class Violation(models.Model):
    """A violation an inspector recorded against a vessel, its owner or a person on board."""

    vessel = models.ForeignKey(Vessel, verbose_name=_("vessel"), related_name="violations", on_delete=models.PROTECT)
    against = models.CharField(
        _("against"), max_length=10, choices=ViolationTarget.choices, default=ViolationTarget.VESSEL
    )
    owner_name = models.CharField(
        _("owner"), max_length=200, blank=True, help_text=_("The vessel's owner when the violation was recorded.")
    )
    person = models.ForeignKey(
        "crews.Person",
        verbose_name=_("person"),
        related_name="violations",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ViolationKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    wharf = models.ForeignKey(Wharf, verbose_name=_("wharf"), related_name="violations", on_delete=models.PROTECT)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    fine_vnd = models.PositiveBigIntegerField(_("fine (VND)"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), related_name="+", on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        indexes = [
            models.Index(fields=["vessel", "occurred_at"], name="violation_vessel_time"),
            models.Index(fields=["person", "occurred_at"], name="violation_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.vessel.registration}: {self.get_kind_display()} ({self.occurred_at:%Y-%m-%d})"


class HandoverRefusal(models.Model):
    """A request to approve cargo handover that rule R1 refused. The approval's own
    transaction rolls back, so this row is the only trace of it (for the daily report)."""

    port_call = models.ForeignKey(
        PortCall,
        verbose_name=_("port call"),
        related_name="handover_refusals",
        on_delete=models.PROTECT,
    )
    refused_at = models.DateTimeField(_("refused at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), related_name="+", on_delete=models.PROTECT
    )
    blocking = models.JSONField(
        _("who blocked"), default=list, blank=True, help_text=_("Each person not cleared, with the reason.")
    )

    class Meta:
        ordering = ["-refused_at", "-id"]
        verbose_name = _("refused handover")
        verbose_name_plural = _("refused handovers")
        indexes = [models.Index(fields=["refused_at"], name="refusal_time")]

    def __str__(self) -> str:
        return f"{self.port_call_id} — {self.refused_at:%Y-%m-%d %H:%M}"


# --- Rule R6: health declarations before arrival -----------------------------------


class Declaration(models.Model):
    """A captain's or agent's health declaration (khai báo y tế) for a vessel expected
    at a wharf. Whoever holds its receipt code may read and amend it until the vessel
    arrives; only the code's hash is stored."""

    wharf = models.ForeignKey(Wharf, verbose_name=_("wharf"), related_name="declarations", on_delete=models.PROTECT)
    registration = models.CharField(_("registration number"), max_length=20, help_text=_("For example QN-4567."))
    vessel_name = models.CharField(_("vessel name"), max_length=200, blank=True)
    vessel_kind = models.CharField(
        _("kind of vessel"), max_length=30, choices=VesselKind.choices, default=VesselKind.OTHER
    )
    expected_at = models.DateTimeField(_("expected arrival"))
    declarant_name = models.CharField(_("declarant's name"), max_length=200)
    declarant_phone = models.CharField(_("declarant's phone"), max_length=20)
    receipt_hash = models.CharField(
        _("receipt code hash"),
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the receipt code: the code itself is given to the declarant only."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The account that sent it over the API; empty for the public form."),
    )
    created_at = models.DateTimeField(_("declared at"))
    amended_at = models.DateTimeField(_("last amended at"), null=True, blank=True)
    port_call = models.OneToOneField(
        PortCall,
        verbose_name=_("port call"),
        related_name="declaration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The arrival registered from this declaration."),
    )

    class Meta:
        ordering = ["expected_at", "id"]
        verbose_name = _("health declaration")
        verbose_name_plural = _("health declarations")
        indexes = [
            models.Index(fields=["wharf", "port_call", "expected_at"], name="declaration_wharf_expected"),
            models.Index(fields=["registration", "port_call"], name="declaration_vessel_open"),
        ]

    def __str__(self) -> str:
        return f"{self.registration} → {self.wharf.code} ({self.expected_at:%Y-%m-%d %H:%M})"


class DeclaredPortOfCall(models.Model):
    """A port the vessel called at in the 14 days before its expected arrival."""

    declaration = models.ForeignKey(
        Declaration, verbose_name=_("declaration"), related_name="ports", on_delete=models.CASCADE
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    port = models.CharField(_("port of call"), max_length=200, help_text=_("Port and province, e.g. Cảng Cái Lân."))
    left_on = models.DateField(_("left on"))

    class Meta:
        ordering = ["declaration", "position", "id"]
        verbose_name = _("declared port of call")
        verbose_name_plural = _("declared ports of call")

    def __str__(self) -> str:
        return f"{self.port} ({self.left_on:%Y-%m-%d})"


class DeclaredPerson(models.Model):
    """A person on board as declared: the crew list's fields, their symptoms, contact
    with a case and the provinces they visited (R4 flags an epidemic area among them)."""

    declaration = models.ForeignKey(
        Declaration, verbose_name=_("declaration"), related_name="people", on_delete=models.CASCADE
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    full_name = models.CharField(_("full name"), max_length=200)
    id_kind = models.CharField(_("document kind"), max_length=10)
    id_number = models.CharField(_("document number"), max_length=20)
    role = models.CharField(_("role"), max_length=10)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    fever = models.BooleanField(_("fever"), default=False)
    cough = models.BooleanField(_("cough"), default=False)
    short_of_breath = models.BooleanField(_("shortness of breath"), default=False)
    sore_throat = models.BooleanField(_("sore throat"), default=False)
    lost_taste_or_smell = models.BooleanField(_("loss of taste or smell"), default=False)
    case_contact = models.BooleanField(_("contact with a case"), default=False)
    provinces = models.JSONField(
        _("provinces visited"), default=list, blank=True, help_text=_("In the 14 days before arrival.")
    )

    class Meta:
        ordering = ["declaration", "position", "id"]
        verbose_name = _("declared person")
        verbose_name_plural = _("declared people")
        constraints = [
            models.UniqueConstraint(
                fields=["declaration", "id_kind", "id_number"], name="declared_person_once_per_declaration"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.id_number})"
