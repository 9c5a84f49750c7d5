import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import HandoverState, Locality, VesselKind, WharfKind

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

    class Meta:
        ordering = ["route_order", "code"]
        verbose_name = _("wharf")
        verbose_name_plural = _("wharves")
        permissions = [("view_all_wharves", _("Can see every wharf of the province"))]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Vessel(models.Model):
    registration = models.CharField(
        _("registration number"), max_length=20, unique=True, help_text=_("For example QN-4567.")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=VesselKind.choices, default=VesselKind.OTHER)
    owner = models.CharField(_("owner"), max_length=200, blank=True)
    capacity_tonnes = models.DecimalField(
        _("capacity (tonnes)"), max_digits=10, decimal_places=1, null=True, blank=True
    )

    class Meta:
        ordering = ["registration"]
        verbose_name = _("vessel")
        verbose_name_plural = _("vessels")

    def __str__(self) -> str:
        return f"{self.registration} {self.name}".strip()

    def save(self, *args, **kwargs):
        self.registration = normalise_registration(self.registration)
        super().save(*args, **kwargs)


class PortCall(models.Model):
    """One vessel's stay at one wharf. Its lock serialises every write that can change
    whether cargo handover may be approved (rule R1)."""

    vessel = models.ForeignKey(Vessel, verbose_name=_("vessel"), related_name="port_calls", on_delete=models.PROTECT)
    wharf = models.ForeignKey(Wharf, verbose_name=_("wharf"), related_name="port_calls", on_delete=models.PROTECT)
    arrived_at = models.DateTimeField(_("arrived at"))
    origin = models.CharField(_("origin"), max_length=200, blank=True, help_text=_("Last port or province."))
    cargo_kind = models.CharField(_("cargo"), max_length=200, blank=True)
    cargo_tonnes = models.DecimalField(_("cargo (tonnes)"), max_digits=10, decimal_places=1, null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        related_name="registered_port_calls",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

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
