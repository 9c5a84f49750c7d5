"""Forms of the station pages. They parse input only; the rules are in ``crews.stations``
and ``crews.staffing``."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portguard.domain import InvalidFile
from vessels.forms import (
    NOT_TESTED,
    RESULT_CHOICES,
    DomainErrorsMixin,
    LocalDateTimeInput,
    client_key_field,
    label,
    local_now,
)

from .choices import TestKind
from .models import Person, ScreeningTest, Shift, StaffMember
from .staffing import StaffResult
from .stations import RosterLine


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


class WeekForm(forms.Form):
    """The first day of the schedule shown; this week's Monday when not given or not valid."""

    start = forms.DateField(
        label=_("Week from"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, data=None):
        super().__init__(
            data if data and data.get("start") else None, initial={"start": monday_of(timezone.localdate())}
        )

    def start_day(self) -> date:
        if self.is_bound and self.is_valid() and self.cleaned_data["start"]:
            return self.cleaned_data["start"]
        return self.initial["start"]


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file (CSV or XLSX)"),
        help_text=_(
            "Columns id_number, full_name, date, shift; dates such as 2021-08-09 or 09/08/2021. The days in the file "
            "replace the station's roster of those days. A file with any bad row is refused whole."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class StaffMemberForm(DomainErrorsMixin, forms.Form):
    """A staff member added by hand: one roster row, their first shift."""

    id_number = forms.CharField(
        max_length=20,
        label=label(Person, "id_number"),
        help_text=Person._meta.get_field("id_number").help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    full_name = forms.CharField(
        max_length=200,
        required=False,
        label=label(Person, "full_name"),
        help_text=_("Not needed for someone already registered."),
    )
    date = forms.DateField(
        label=_("First day"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    shift = forms.ChoiceField(label=_("First shift"), choices=())

    def __init__(self, *args, shifts, **kwargs):
        super().__init__(*args, prefix="staff", **kwargs)
        self.fields["shift"].choices = [(s.code, str(s)) for s in shifts]

    def roster_line(self) -> RosterLine:
        data = self.cleaned_data
        return RosterLine(
            row=0,
            id_number=data["id_number"],
            full_name=data["full_name"],
            date=data["date"].isoformat(),
            shift=data["shift"],
        )

    def add_file_errors(self, exc: InvalidFile) -> None:
        """A refused roster row's cells, each on its field."""
        for problem in exc.rows:
            self.add_error(problem["column"] if problem["column"] in self.fields else None, problem["message"])


class EndAssignmentForm(forms.Form):
    """The first day a staff member is off the station's staff."""

    left_on = forms.DateField(
        label=label(StaffMember, "left_on"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, member: StaffMember, **kwargs):
        super().__init__(*args, prefix=f"end-{member.person_id}", **kwargs)
        self.member = member
        # The input sits in the staff member's row, inside the results sheet; it belongs
        # to the end form kept apart from it (forms do not nest).
        self.fields["left_on"].widget.attrs["form"] = self.form_id

    @property
    def form_id(self) -> str:
        return f"end-{self.member.person_id}"


class ShiftForm(DomainErrorsMixin, forms.Form):
    """A shift's name and times (local)."""

    name = forms.CharField(max_length=60, required=False, label=label(Shift, "name"))
    starts_at = forms.TimeField(label=label(Shift, "starts_at"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends_at = forms.TimeField(
        label=label(Shift, "ends_at"),
        help_text=Shift._meta.get_field("ends_at").help_text,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def __init__(self, *args, shift: Shift, **kwargs):
        initial = {"name": shift.name, "starts_at": shift.starts_at, "ends_at": shift.ends_at}
        super().__init__(*args, prefix=f"shift-{shift.code}", initial=initial, **kwargs)
        self.shift = shift


STAFF_KINDS = [
    (TestKind.RAPID, _("Rapid test after the shift")),
    (TestKind.RT_PCR_POOLED, _("RT-PCR in the planned pool")),
    (TestKind.RT_PCR, _("Single RT-PCR")),
]


class StationSheetForm(DomainErrorsMixin, forms.Form):
    """The station's results in one submit, as the screening sheet: one ``result_<person
    id>`` per current staff member, each with its own client key ``key_<person id>``,
    so a sheet sent twice stores each result once."""

    kind = forms.ChoiceField(choices=STAFF_KINDS, initial=TestKind.RAPID, label=_("Test"), widget=forms.RadioSelect)
    sampled_at = forms.DateTimeField(label=label(ScreeningTest, "sampled_at"), widget=LocalDateTimeInput)
    kit_lot = forms.CharField(max_length=60, required=False, label=label(ScreeningTest, "kit_lot"))

    def __init__(self, *args, staff: list[StaffMember], **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["sampled_at"].initial = local_now
        for member in staff:
            self.fields[self.result_field(member)] = forms.ChoiceField(
                choices=RESULT_CHOICES,
                required=False,
                initial=NOT_TESTED,
                label=member.person.full_name,
                widget=forms.RadioSelect,
            )
            self.fields[self.key_field(member)] = client_key_field()

    @staticmethod
    def result_field(member: StaffMember) -> str:
        return f"result_{member.person_id}"

    @staticmethod
    def key_field(member: StaffMember) -> str:
        return f"key_{member.person_id}"

    def clean(self):
        data = super().clean()
        on_staff = {str(m.person_id) for m in self.staff}
        gone = [
            name.removeprefix("result_")
            for name, value in self.data.items()
            if name.startswith("result_") and value and name.removeprefix("result_") not in on_staff
        ]
        if gone:
            ids = [int(pk) for pk in gone if pk.isdigit()]
            names = sorted(Person.objects.filter(pk__in=ids).values_list("full_name", flat=True))
            raise forms.ValidationError(
                _("Not on the station's staff any more: %(names)s. Nothing of this sheet was saved.")
                % {"names": ", ".join(names) or _("unknown person")},
                code="off_staff",
            )
        if not any(data.get(self.result_field(m)) for m in self.staff):
            raise forms.ValidationError(_("Choose a result for at least one person."), code="empty")
        return data

    def results(self) -> list[StaffResult]:
        data = self.cleaned_data
        return [
            StaffResult(
                person_id=member.person_id,
                result=data[self.result_field(member)],
                sampled_at=data["sampled_at"],
                client_uuid=data.get(self.key_field(member)),
            )
            for member in self.staff
            if data.get(self.result_field(member))
        ]
