import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portguard.collation import FoldingQuerySet, FoldsNames

from .choices import CrewRole, IdKind, KitAdjustmentReason, KitKind, ReadKind, ReadVia, TestKind, TestResult

ID_PATTERNS = {
    IdKind.CCCD: re.compile(r"^\d{12}$"),
    IdKind.CMND: re.compile(r"^\d{9}$"),
    IdKind.PASSPORT: re.compile(r"^[A-Z][A-Z0-9]{5,8}$"),
}


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def id_kind_of(id_number: str) -> str | None:
    """The document kind an ID number's shape says it is, or None if it fits none."""
    for kind, pattern in ID_PATTERNS.items():
        if pattern.match(id_number):
            return kind
    return None


class Person(FoldsNames, models.Model):
    """One person, reused across port calls and roles (crew, worker, KCS staff)."""

    FOLDED = {"name_folded": "full_name"}

    full_name = models.CharField(_("full name"), max_length=200)
    name_folded = models.CharField(
        _("name without diacritics"),
        max_length=200,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("The full name in lower case without diacritics, kept by every save, for the search."),
    )
    id_kind = models.CharField(_("document kind"), max_length=10, choices=IdKind.choices)
    id_number = models.CharField(
        _("document number"), max_length=20, help_text=_("12-digit CCCD, 9-digit CMND or passport number.")
    )
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    nationality = models.CharField(_("nationality"), max_length=60, blank=True, default="Việt Nam")
    anonymised_at = models.DateTimeField(
        _("anonymised at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the retention period ran out and the name, document number, date of birth and phone were "
            "removed (crews.retention). The records about the person stay, with no name."
        ),
    )

    objects = FoldingQuerySet.as_manager()

    class Meta:
        ordering = ["full_name", "id_number"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        permissions = [("export_person", _("Can export everything held about a person"))]
        constraints = [
            models.UniqueConstraint(fields=["id_kind", "id_number"], name="person_unique_document"),
        ]
        indexes = [models.Index(fields=["id_number"], name="person_id_number")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.id_number})"


class CrewMember(models.Model):
    """A person on one port call's manifest. Removal is recorded, never deleted."""

    port_call = models.ForeignKey(
        "vessels.PortCall", verbose_name=_("port call"), related_name="crew", on_delete=models.PROTECT
    )
    person = models.ForeignKey(Person, verbose_name=_("person"), related_name="manifests", on_delete=models.PROTECT)
    role = models.CharField(_("role"), max_length=10, choices=CrewRole.choices, default=CrewRole.CREW)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), related_name="+", on_delete=models.PROTECT
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    client_uuid = models.UUIDField(
        _("client key"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("The key the adding page or app sent: the same addition sent again is stored once."),
    )
    removal_client_uuid = models.UUIDField(
        _("removal client key"),
        null=True,
        blank=True,
        unique=True,
        help_text=_("The key the removal was sent with: sent again, it is recorded once."),
    )

    class Meta:
        ordering = ["port_call", "role", "id"]
        verbose_name = _("crew member")
        verbose_name_plural = _("crew manifest")
        constraints = [
            models.UniqueConstraint(
                fields=["port_call", "person"],
                condition=Q(removed_at__isnull=True),
                name="crew_once_per_call",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.full_name} — {self.get_role_display()}"


NEVER_EDITED = "A recorded test is never edited; record a correction that supersedes it."


class TransactionId(models.Func):
    """The id of the transaction writing the row, assigned by the database: on
    PostgreSQL ``txid_current()`` (64 bits, never wraps), which tells which rows a reader
    may hand out knowing no earlier one can still commit (``crews.sync``). SQLite runs
    one write transaction at a time, so its ids already follow the commits: 0 there."""

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return "txid_current()", []


class ScreeningTestQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # ``save`` refuses an edit; so must the one-query path past it (``bulk_update`` too).
        raise ValueError(NEVER_EDITED)


class ScreeningTest(models.Model):
    """One test sample and its result. Never edited: a correction is a new record that
    supersedes this one, with a reason."""

    person = models.ForeignKey(Person, verbose_name=_("person"), related_name="tests", on_delete=models.PROTECT)
    port_call = models.ForeignKey(
        "vessels.PortCall",
        verbose_name=_("port call"),
        related_name="tests",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("The port call this test was taken for, if any."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TestKind.choices)
    sampled_at = models.DateTimeField(_("sampled at"))
    result = models.CharField(_("result"), max_length=10, choices=TestResult.choices)
    result_at = models.DateTimeField(_("result at"), null=True, blank=True)
    wharf = models.ForeignKey(
        "vessels.Wharf",
        verbose_name=_("taken at wharf"),
        related_name="tests",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    station = models.ForeignKey(
        "crews.KcsStation",
        verbose_name=_("taken at KCS station"),
        related_name="tests",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("For KCS staff tests (rule R3): the station where the sample was taken."),
    )
    kit_lot = models.CharField(_("kit lot"), max_length=60, blank=True)
    pool_id = models.CharField(
        _("sample or pool ID"),
        max_length=60,
        blank=True,
        help_text=_("The lab's sample ID; for a pooled RT-PCR, the pool shared by every sample in it."),
    )
    lab = models.CharField(_("laboratory"), max_length=200, blank=True, help_text=_("The lab that gave the result."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), related_name="+", on_delete=models.PROTECT
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    client_uuid = models.UUIDField(
        _("client key"), null=True, blank=True, unique=True, help_text=_("Lets a client retry safely.")
    )
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        related_name="superseded_by",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    correction_reason = models.CharField(_("reason for correction"), max_length=300, blank=True)
    change_txid = models.BigIntegerField(
        _("written by transaction"),
        db_default=TransactionId(),
        editable=False,
        help_text=_("Set by the database: the order in which other systems receive the results."),
    )

    objects = ScreeningTestQuerySet.as_manager()

    class Meta:
        ordering = ["sampled_at", "id"]
        verbose_name = _("test")
        verbose_name_plural = _("tests")
        indexes = [
            models.Index(fields=["port_call", "person", "sampled_at"], name="test_call_person_time"),
            models.Index(fields=["change_txid", "id"], name="test_change_order"),
        ]

    def __str__(self) -> str:
        return f"{self.person.full_name}: {self.get_kind_display()} {self.get_result_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(NEVER_EDITED)
        super().save(*args, **kwargs)


class Lab(models.Model):
    """A laboratory that runs the RT-PCR samples of the stations assigned to it (rule R7).
    A day whose planned samples exceed either capacity is flagged (crews.lab_capacity)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    capacity_single = models.PositiveIntegerField(
        _("single samples a day"), help_text=_("How many single RT-PCR samples (crew) the lab can run a day.")
    )
    capacity_pooled = models.PositiveIntegerField(
        _("pools a day"), help_text=_("How many pools of KCS staff samples the lab can run a day.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("lab")
        verbose_name_plural = _("labs")

    def __str__(self) -> str:
        return self.name


class KcsStation(models.Model):
    """A TKV inspection (KCS) station on duty at a wharf (rule R3)."""

    code = models.CharField(_("code"), max_length=20, unique=True, help_text=_("For example KCS-CP-03."))
    name = models.CharField(_("name"), max_length=200)
    wharf = models.ForeignKey(
        "vessels.Wharf",
        verbose_name=_("wharf"),
        related_name="stations",
        on_delete=models.PROTECT,
        help_text=_("The wharf the station is on duty at."),
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisors"),
        related_name="supervised_stations",
        blank=True,
        help_text=_("TKV supervisors who manage this station's staff, rosters and tests."),
    )
    lab = models.ForeignKey(
        Lab,
        verbose_name=_("lab"),
        related_name="stations",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("The lab that runs the station's RT-PCR samples."),
    )
    rapid_kits_since = models.DateTimeField(
        _("keeps rapid kit stock since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When its first rapid kits were recorded delivered: from then its kit stock is kept (rule R7)."),
    )

    class Meta:
        ordering = ["wharf__route_order", "code"]
        verbose_name = _("KCS station")
        verbose_name_plural = _("KCS stations")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Shift(models.Model):
    """One shift of a station's daily pattern. A shift that ends at or before its start
    time ends the next day (the night shift, 22:00–06:00)."""

    station = models.ForeignKey(
        KcsStation,
        verbose_name=_("station"),
        related_name="shifts",
        # The pattern belongs to its station; roster entries protect the shifts in use.
        on_delete=models.CASCADE,
    )
    code = models.CharField(_("code"), max_length=10, help_text=_("As written in roster files, for example S1."))
    name = models.CharField(_("name"), max_length=60)
    starts_at = models.TimeField(_("starts at"), help_text=_("Local time (Asia/Ho_Chi_Minh)."))
    ends_at = models.TimeField(
        _("ends at"), help_text=_("Local time. At or before the start time means the shift ends the next day.")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        related_name="+",
        on_delete=models.PROTECT,
        # Shifts set when their station was created, or before changes were recorded.
        null=True,
        blank=True,
        help_text=_("Who last changed the shift's name or times."),
    )
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        ordering = ["station", "starts_at", "code"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [models.UniqueConstraint(fields=["station", "code"], name="shift_code_once_per_station")]

    def __str__(self) -> str:
        return f"{self.code} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.ends_at <= self.starts_at


class StaffMember(models.Model):
    """A person on the staff of a KCS station."""

    station = models.ForeignKey(KcsStation, verbose_name=_("station"), related_name="staff", on_delete=models.PROTECT)
    person = models.ForeignKey(Person, verbose_name=_("person"), related_name="kcs_posts", on_delete=models.PROTECT)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Cleared when the person leaves the station; the history stays.")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        related_name="+",
        on_delete=models.PROTECT,
        # Staff added before who added them was recorded name nobody.
        null=True,
        blank=True,
        help_text=_("Who added the person to the station's staff (by hand or with a roster)."),
    )
    added_at = models.DateTimeField(_("added at"), null=True, blank=True)
    left_on = models.DateField(
        _("assignment ended from"),
        null=True,
        blank=True,
        help_text=_(
            "The first day the person is no longer on the station's staff: the schedule plans nothing for them "
            "from that day. Their earlier roster and tests stay."
        ),
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignment ended by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    ended_at = models.DateTimeField(_("assignment ended at"), null=True, blank=True)

    class Meta:
        ordering = ["station", "person__full_name", "id"]
        verbose_name = _("KCS staff member")
        verbose_name_plural = _("KCS staff")
        constraints = [models.UniqueConstraint(fields=["station", "person"], name="staff_once_per_station")]

    def __str__(self) -> str:
        return f"{self.person.full_name} @ {self.station.code}"


class RosterEntry(models.Model):
    """Who works which shift on which day. Kept as evidence: it names the staff on duty
    when a vessel was berthed (contacts of a confirmed case, rule R2)."""

    staff = models.ForeignKey(
        StaffMember, verbose_name=_("staff member"), related_name="roster", on_delete=models.PROTECT
    )
    date = models.DateField(_("date"), help_text=_("The day the shift starts."))
    shift = models.ForeignKey(Shift, verbose_name=_("shift"), related_name="roster_entries", on_delete=models.PROTECT)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        related_name="+",
        on_delete=models.PROTECT,
        # Entries loaded before loaders were recorded name nobody.
        null=True,
        blank=True,
        help_text=_("Who loaded the roster this entry came with."),
    )

    class Meta:
        ordering = ["date", "shift__starts_at", "staff"]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")
        constraints = [models.UniqueConstraint(fields=["staff", "date", "shift"], name="roster_entry_once")]
        indexes = [models.Index(fields=["date", "shift"], name="roster_date_shift")]

    def __str__(self) -> str:
        return f"{self.date} {self.shift.code}: {self.staff_id}"


class PooledSample(models.Model):
    """One staff member's RT-PCR sample in a labelled pool (rule R7), as first printed.

    Stored rather than derived from the schedule: the plan of a day moves with the
    roster, and the labels stuck on the tubes and the manifest sent to the lab must not.
    Printing again adds pools for people planned since, and changes no printed pool.
    """

    station = models.ForeignKey(
        KcsStation, verbose_name=_("KCS station"), related_name="pooled_samples", on_delete=models.PROTECT
    )
    date = models.DateField(_("date"), help_text=_("The day the sample is taken."))
    pool = models.PositiveSmallIntegerField(_("pool"), help_text=_("The pool's number at the station that day."))
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("The sample's place in its pool."))
    person = models.ForeignKey(
        Person, verbose_name=_("person"), related_name="pooled_samples", on_delete=models.PROTECT
    )
    printed_at = models.DateTimeField(_("first printed at"))
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first printed by"), related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["station", "date", "pool", "position"]
        verbose_name = _("pooled sample")
        verbose_name_plural = _("pooled samples")
        constraints = [
            models.UniqueConstraint(fields=["station", "date", "person"], name="pooled_sample_once_a_day"),
            models.UniqueConstraint(fields=["station", "date", "pool", "position"], name="pooled_sample_place"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.pool}.{self.position}: {self.person_id}"


NEVER_CHANGED = "The access log is append-only: an entry is never changed or deleted."


class HealthDataReadQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError(NEVER_CHANGED)

    def delete(self):
        raise ValueError(NEVER_CHANGED)


class HealthDataRead(models.Model):
    """One read of personal health data (rule R8): who read which person's results, port
    call's sheet or contact list, when, and through which page, endpoint, export or live
    dashboard. Append-only: written by ``crews.access_log.record_read``, never changed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("read by"), related_name="+", on_delete=models.PROTECT
    )
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)
    kind = models.CharField(_("what was read"), max_length=20, choices=ReadKind.choices)
    via = models.CharField(_("through"), max_length=10, choices=ReadVia.choices)
    door = models.CharField(
        _("page or endpoint"), max_length=120, help_text=_("The URL name (or socket route) that answered.")
    )
    method = models.CharField(_("method"), max_length=10)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), related_name="+", on_delete=models.PROTECT, null=True, blank=True
    )
    port_call = models.ForeignKey(
        "vessels.PortCall",
        verbose_name=_("port call"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    station = models.ForeignKey(
        "crews.KcsStation",
        verbose_name=_("KCS station"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    count = models.PositiveIntegerField(
        _("people shown"), null=True, blank=True, help_text=_("For a list: how many people it named.")
    )

    objects = HealthDataReadQuerySet.as_manager()

    class Meta:
        ordering = ["-read_at", "-id"]
        verbose_name = _("health data read")
        verbose_name_plural = _("health data reads")
        indexes = [
            models.Index(fields=["read_at", "id"], name="read_time"),
            models.Index(fields=["user", "read_at"], name="read_user_time"),
            models.Index(fields=["person", "read_at"], name="read_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.read_at:%Y-%m-%d %H:%M} {self.user_id} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(NEVER_CHANGED)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(NEVER_CHANGED)


KIT_NEVER_EDITED = "A kit delivery or adjustment is never edited; record an adjustment that corrects it."


class KitRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError(KIT_NEVER_EDITED)


class KitRecord(models.Model):
    """What a kit delivery and an adjustment share: the place (a KCS station or a
    wharf, exactly one), the kind and lot, who recorded it and its client key. Never
    edited: the stock is derived from these rows (``crews.kit_stock``), so a mistake is
    corrected by a new adjustment, which keeps the trace."""

    station = models.ForeignKey(
        KcsStation,
        verbose_name=_("KCS station"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    wharf = models.ForeignKey(
        "vessels.Wharf",
        verbose_name=_("wharf"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kit kind"), max_length=16, choices=KitKind.choices, default=KitKind.RAPID)
    lot = models.CharField(_("lot"), max_length=60, help_text=_("The lot number printed on the kits' box."))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    client_uuid = models.UUIDField(
        _("client key"), null=True, blank=True, unique=True, help_text=_("Lets a client retry safely.")
    )

    objects = KitRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(KIT_NEVER_EDITED)
        super().save(*args, **kwargs)


def _one_place(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(station__isnull=False, wharf__isnull=True) | Q(station__isnull=True, wharf__isnull=False),
        name=name,
    )


class KitDelivery(KitRecord):
    """Kits received at a station or wharf (rule R7)."""

    expires_on = models.DateField(
        _("expires on"), help_text=_("The last day the lot may be used, as printed on the box.")
    )
    quantity = models.PositiveIntegerField(_("quantity"), help_text=_("How many kits (tests), not boxes."))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), related_name="+", on_delete=models.PROTECT
    )
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("kit delivery")
        verbose_name_plural = _("kit deliveries")
        constraints = [
            _one_place("kit_delivery_one_place"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="kit_delivery_some_kits"),
        ]
        indexes = [
            models.Index(fields=["station", "kind", "lot"], name="kit_delivery_station_lot"),
            models.Index(fields=["wharf", "kind", "lot"], name="kit_delivery_wharf_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.lot}: {self.quantity}"


class KitAdjustment(KitRecord):
    """A change to a place's stock of one lot other than a delivery or a test: kits
    damaged or returned (taken out), or the difference a count found (either way)."""

    quantity = models.IntegerField(
        _("change"), help_text=_("Kits added to the stock (positive) or taken out of it (negative).")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=KitAdjustmentReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("kit adjustment")
        verbose_name_plural = _("kit adjustments")
        constraints = [
            _one_place("kit_adjustment_one_place"),
            models.CheckConstraint(condition=~Q(quantity=0), name="kit_adjustment_changes_something"),
        ]

    def __str__(self) -> str:
        return f"{self.lot}: {self.quantity:+d} ({self.get_reason_display()})"
