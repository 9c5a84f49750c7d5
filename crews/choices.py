from django.db import models
from django.utils.translation import gettext_lazy as _


class IdKind(models.TextChoices):
    CCCD = "cccd", _("citizen ID card (CCCD, 12 digits)")
    CMND = "cmnd", _("identity card (CMND, 9 digits)")
    PASSPORT = "passport", _("passport")


class CrewRole(models.TextChoices):
    CAPTAIN = "captain", _("captain")
    CREW = "crew", _("crew member")
    WORKER = "worker", _("worker")


class TestKind(models.TextChoices):
    __test__ = False  # a name pytest would otherwise try to collect

    RAPID = "rapid", _("rapid antigen test")
    RT_PCR = "rt_pcr", _("RT-PCR")
    RT_PCR_POOLED = "rt_pcr_pooled", _("pooled RT-PCR")


class TestResult(models.TextChoices):
    __test__ = False

    PENDING = "pending", _("pending")
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")
    INVALID = "invalid", _("invalid")


class Screening(models.TextChoices):
    """A person's screening state for one port call (rule R1)."""

    UNTESTED = "untested", _("untested")
    PENDING = "pending", _("pending")
    NEGATIVE = "negative", _("negative")
    POSITIVE = "positive", _("positive")
    INVALID = "invalid", _("invalid")
    EXPIRED = "expired", _("expired")
    RETEST = "retest", _("pending individual retest")


RT_PCR_KINDS = frozenset({TestKind.RT_PCR, TestKind.RT_PCR_POOLED})


class ReadKind(models.TextChoices):
    """What a logged read of personal health data showed (rule R8)."""

    PERSON = "person", _("a person's history")
    SCREENING_SHEET = "screening_sheet", _("a port call's screening sheet")
    STATION_SHEET = "station_sheet", _("a KCS station's results sheet")
    CERTIFICATE = "certificate", _("a handover certificate")
    RESULTS_FEED = "results_feed", _("the results feed")
    APPROVALS = "approvals", _("the handovers awaiting approval")
    ALERTS = "alerts", _("alerts")
    CASES = "cases", _("confirmed cases and their contacts")
    CONTACT_LIST = "contact_list", _("a contact list")
    PERSON_EXPORT = "person_export", _("a person's data export")


class ReadVia(models.TextChoices):
    """Through which kind of door a read of personal health data went."""

    PAGE = "page", _("page")
    API = "api", _("API")
    EXPORT = "export", _("file export")
    SOCKET = "socket", _("live dashboard")


class KitKind(models.TextChoices):
    """The kits a station or wharf keeps in stock (rule R7). Each rapid result recorded
    there uses one rapid antigen kit."""

    RAPID = "rapid", _("rapid antigen test kit")


class KitAdjustmentReason(models.TextChoices):
    """Why a place's kit stock was adjusted: kits that left it other than by a test, or
    the difference a count of the shelf found."""

    DAMAGED = "damaged", _("damaged")
    RETURNED = "returned", _("returned")
    COUNTED = "counted", _("counted")


# Adjustments for these reasons take kits out of the stock; a count may go either way.
KIT_REMOVALS = frozenset({KitAdjustmentReason.DAMAGED, KitAdjustmentReason.RETURNED})
