"""Forms of the station pages. They parse input only; the rules are in ``crews.stations``."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
