"""Correcting a recorded result (SPEC §2): never an edit, a new record that supersedes
the original, naming who corrected it and why.

Health officers correct any result; whoever recorded a result corrects it within the
same shift (``PORTGUARD_CORRECTION_WINDOW_HOURS`` after it was recorded), as long as
they may still record results there. The port call's state follows at once, through
the same path as any new result, and the alerts the original raised are closed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.results import _settle_calls, _settle_staff
from portguard.domain import DomainError, NotAllowed
from portguard.roles import require_perm
from realtime.broadcast import send_event_on_commit
from vessels.models import Alert
from vessels.scope import lock_port_call, require_wharf_in_scope, sees_all_wharves

from .choices import TestResult
from .models import KcsStation, ScreeningTest
from .scope import require_station_in_scope

REASON_MAX = ScreeningTest._meta.get_field("correction_reason").max_length


def correction_window() -> timedelta:
    """How long after recording a result its recorder may still correct it: a shift."""
    return timedelta(hours=settings.PORTGUARD_CORRECTION_WINDOW_HOURS)


def corrects_anywhere(user) -> bool:
    """Health officers: they record results for the whole province, so they correct any."""
    return sees_all_wharves(user) and user.has_perm("crews.add_screeningtest")


def may_correct(user, test: ScreeningTest, now: datetime, *, records_there: bool) -> bool:
    """Whether ``user`` may correct ``test``, for pages deciding which forms to show;
    ``records_there`` says whether the user may record results where it was taken.
    ``correct_test`` decides for itself."""
    if getattr(test, "superseded_by", None) is not None:
        return False
    if not user.has_perm("crews.add_screeningtest"):
        return False
    if corrects_anywhere(user):
        return True
    return records_there and test.recorded_by_id == user.pk and now <= test.recorded_at + correction_window()


@dataclass
class ResultRow:
    """A recorded result as the pages list it: a superseded one stays, struck through."""

    test: ScreeningTest
    correctable: bool

    @property
    def correction(self) -> ScreeningTest | None:
        """The correction that superseded this result, if any."""
        return getattr(self.test, "superseded_by", None)


def with_corrections(tests: QuerySet[ScreeningTest]) -> QuerySet[ScreeningTest]:
    """``tests`` with what their rows show, in the same one query."""
    return tests.select_related("person", "recorded_by", "supersedes", "superseded_by__recorded_by").order_by(
        "person__full_name", "person_id", "sampled_at", "id"
    )


def results_at_station(station: KcsStation, first_day: date, days: int) -> QuerySet[ScreeningTest]:
    """The results of staff sampled at ``station`` over ``days`` local days, with what
    their rows show."""
    start = datetime.combine(first_day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return with_corrections(station.tests.filter(sampled_at__gte=start, sampled_at__lt=start + timedelta(days=days)))


def result_rows(user, tests: Iterable[ScreeningTest], now: datetime, *, records_there: bool) -> list[ResultRow]:
    """Each result with whether ``user`` may correct it; no query beyond ``tests``."""
    return [ResultRow(test, may_correct(user, test, now, records_there=records_there)) for test in tests]


def correct_test(user, original: ScreeningTest, result: str, reason: str, now: datetime | None = None) -> ScreeningTest:
    """Record a correction of ``original``: a new test of the same sample with the
    right result, by a health officer or by its recorder within the same shift. Under
    the port call's lock; the call's state and the dashboards follow, and every alert
    the original raised is closed with the reason."""
    require_perm(user, "crews.add_screeningtest", _("You may not record test results."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for the correction."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("This reason is too long."), field="reason")
    if result not in TestResult.values:
        raise DomainError(_("Unknown result."), field="result")
    now = now or timezone.now()
    with transaction.atomic():
        call = lock_port_call(original.port_call_id) if original.port_call_id else None
        # A KCS staff result has no call to lock: two corrections of it meet here.
        original = (
            ScreeningTest.objects.select_for_update(of=("self",))
            .select_related("person", "station__wharf", "wharf")
            .get(pk=original.pk)
        )
        _require_corrector(user, original, call, now)
        if result == original.result:
            raise DomainError(_("The correction must give another result."), field="result")
        if ScreeningTest.objects.filter(supersedes=original).exists():
            raise DomainError(_("This result was already corrected."), code="already_corrected")
        try:
            with transaction.atomic():
                test = ScreeningTest.objects.create(
                    person=original.person,
                    port_call=call,
                    wharf=original.wharf,
                    station=original.station,
                    kind=original.kind,
                    sampled_at=original.sampled_at,
                    result=result,
                    result_at=None if result == TestResult.PENDING else now,
                    kit_lot=original.kit_lot,
                    pool_id=original.pool_id,
                    lab=original.lab,
                    recorded_by=user,
                    supersedes=original,
                    correction_reason=reason,
                )
        except IntegrityError:
            raise DomainError(_("This result was already corrected."), code="already_corrected") from None
        _close_alerts_of(original, user, reason, now)
        if call is not None:
            _settle_calls({call.pk: call}, [test], now)
        elif original.station_id is not None:
            _settle_staff({original.station_id: original.station}, [test], now)
    return test


def _require_corrector(user, original: ScreeningTest, call, now: datetime) -> None:
    if corrects_anywhere(user):
        return
    # Still allowed to record results where it was taken: refused as for a new result.
    if call is not None:
        require_wharf_in_scope(user, call.wharf)
    elif original.station_id is not None:
        require_station_in_scope(user, original.station)
    elif original.wharf_id is not None:
        require_wharf_in_scope(user, original.wharf)
    else:
        raise NotAllowed(_("Only a health officer corrects this result."))
    if original.recorded_by_id != user.pk or now > original.recorded_at + correction_window():
        raise NotAllowed(
            _("Only a health officer, or whoever recorded it within %(hours)d hours, corrects this result.")
            % {"hours": settings.PORTGUARD_CORRECTION_WINDOW_HOURS}
        )


def _close_alerts_of(original: ScreeningTest, user, reason: str, now: datetime) -> None:
    """The original's alerts stand on a result that no longer does: each is closed, with
    the correction's reason, and every dashboard showing it is told."""
    for alert in (
        Alert.objects.select_for_update(of=("self",))
        .select_related("wharf")
        .filter(test=original, closed_at__isnull=True)
    ):
        alert.closed_at, alert.closed_by, alert.closed_reason = now, user, reason
        alert.save(update_fields=["closed_at", "closed_by", "closed_reason"])
        send_event_on_commit(
            alert.wharf.code,
            "alert.closed",
            {"alert": alert.pk, "reason": reason, "closed_by": user.get_username(), "closed_at": now},
        )
