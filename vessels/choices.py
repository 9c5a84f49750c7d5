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
