from django.db import models
from django.utils.translation import gettext_lazy as _


class Locality(models.TextChoices):
    """Localities along the coal route, in order from Cẩm Phả to Đông Triều."""

    CAM_PHA = "cam_pha", "Cẩm Phả"
    HA_LONG = "ha_long", "Hạ Long"
    QUANG_YEN = "quang_yen", "Quảng Yên"
    UONG_BI = "uong_bi", "Uông Bí"
    DONG_TRIEU = "dong_trieu", "Đông Triều"


class WharfKind(models.TextChoices):
    PORT = "port", _("port")
    WHARF = "wharf", _("wharf")


class VesselKind(models.TextChoices):
    SELF_PROPELLED_BARGE = "self_propelled_barge", _("self-propelled barge")
    TOWED_BARGE = "towed_barge", _("towed barge")
    TUG = "tug", _("tug")
    PASSENGER = "passenger", _("passenger vessel")
    OTHER = "other", _("other")


class PortCallStatus(models.TextChoices):
    AWAITING_TESTS = "awaiting_tests", _("awaiting tests")
    CLEARED = "cleared", _("cleared")
    BLOCKED = "blocked", _("blocked")
    QUARANTINED = "quarantined", _("quarantined")
    HANDOVER_APPROVED = "handover_approved", _("handover approved")
    HANDOVER_SUSPENDED = "handover_suspended", _("handover suspended")
    DEPARTED = "departed", _("departed")


class HandoverState(models.TextChoices):
    APPROVED = "approved", _("approved")
    SUSPENDED = "suspended", _("suspended")


class AlertKind(models.TextChoices):
    POSITIVE = "positive", _("positive result")
    CONFIRMED_CASE = "confirmed_case", _("confirmed case")
    POOL_POSITIVE = "pool_positive", _("positive pool")
    QUARANTINE = "quarantine", _("quarantine")
    SUSPENSION = "suspension", _("handover suspended")


class ContactLevel(models.TextChoices):
    F1 = "F1", _("F1 (close contact)")
    F2 = "F2", _("F2 (contact of a close contact)")


class ContactReason(models.TextChoices):
    MANIFEST = "manifest", _("on the same manifest")
    KCS_ROSTER = "kcs_roster", _("KCS staff on duty at the wharf")
    SAME_SHIFT = "same_shift", _("KCS staff on the same shift")
    BERTHED_NEARBY = "berthed_nearby", _("on a vessel berthed at the same wharf")


class ViolationKind(models.TextChoices):
    NO_DECLARATION = "no_declaration", _("no health declaration")
    REFUSED_TEST = "refused_test", _("refused testing")
    LEFT_VESSEL = "left_vessel", _("left the vessel")
    RESIDENT_CONTACT = "resident_contact", _("contact with residents")
    OTHER = "other", _("other")


class ViolationTarget(models.TextChoices):
    VESSEL = "vessel", _("the vessel")
    OWNER = "owner", _("its owner")
    PERSON = "person", _("a person on board")
