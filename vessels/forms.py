"""Forms of the pages. They parse input only; every rule is checked by the services they feed."""

import uuid
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crews.choices import CrewRole, TestKind, TestResult
from crews.models import CrewMember, Person, ScreeningTest
from crews.people import PersonData, find_person
from crews.results import TestData
from portguard.domain import DomainError
from vessels.areas import AreaData, ViolationData

from .choices import VesselKind, ViolationKind, ViolationTarget
from .models import EpidemicArea, PortCall, Vessel, Violation
from .services import VesselData

NOT_TESTED = ""
RESULT_CHOICES = [
    (NOT_TESTED, _("Not tested now")),
    (TestResult.NEGATIVE, TestResult.NEGATIVE.label),
    (TestResult.POSITIVE, TestResult.POSITIVE.label),
    (TestResult.INVALID, TestResult.INVALID.label),
    (TestResult.PENDING, TestResult.PENDING.label),
]


def label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


class LocalDateTimeInput(forms.DateTimeInput):
    """A phone's date-time picker; the value is read in the current time zone (Asia/Ho_Chi_Minh)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": 60, **(attrs or {})}, format="%Y-%m-%dT%H:%M")


def local_now():
    return timezone.localtime().replace(second=0, microsecond=0)


def client_key_field() -> forms.UUIDField:
    """The key a form's write is sent with, made when the form is rendered (a bound form
    shown again after an error keeps the one it was sent with): sent twice, by a retry
    or a double tap, the write is stored once and answers as the first time."""
    return forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("This form was sent with a malformed key: reload the page and send it again.")},
    )


class ClientKeyForm(forms.Form):
    """A write with nothing to fill in but its client key: a departure, a removal. A
    page holds many (one per person), so their inputs have no ``id``."""

    client_uuid = client_key_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id=False, **kwargs)


class DepartureForm(ClientKeyForm):
    """A departure: when the vessel left, *now* when left empty (an entry kept on the phone
    while offline carries the time it was made)."""

    departed_at = forms.DateTimeField(
        required=False,
        label=_("Left the wharf at"),
        help_text=_("Empty: now."),
        widget=LocalDateTimeInput(attrs={"id": "departed-at", "data-now-if-empty": True}),
    )


class DomainErrorsMixin:
    def add_domain_error(self, exc: DomainError) -> None:
        """Show a service's refusal on the field it names (``crew[0].full_name`` → ``full_name``)."""
        name = exc.field.rsplit(".", 1)[-1] if exc.field else None
        self.add_error(name if name in self.fields else None, exc.message)


class ArrivalForm(DomainErrorsMixin, forms.Form):
    wharf = forms.ModelChoiceField(queryset=None, label=label(PortCall, "wharf"), empty_label=None)
    registration = forms.CharField(
        max_length=20,
        label=label(Vessel, "registration"),
        help_text=Vessel._meta.get_field("registration").help_text,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    name = forms.CharField(max_length=200, required=False, label=_("Vessel name"))
    kind = forms.ChoiceField(
        choices=VesselKind.choices, initial=VesselKind.SELF_PROPELLED_BARGE, label=_("Kind of vessel")
    )
    # Opened offline from the phone's copy, the form starts at the phone's now, not at
    # the time the copy was fetched (static/portguard/pwa/outbox.js).
    arrived_at = forms.DateTimeField(
        label=label(PortCall, "arrived_at"), widget=LocalDateTimeInput(attrs={"data-now-when-kept": True})
    )
    origin = forms.CharField(
        max_length=200,
        required=False,
        label=label(PortCall, "origin"),
        help_text=PortCall._meta.get_field("origin").help_text,
    )
    cargo_kind = forms.CharField(max_length=200, required=False, label=label(PortCall, "cargo_kind"))
    cargo_tonnes = forms.DecimalField(
        max_digits=10,
        decimal_places=1,
        min_value=0,
        required=False,
        label=label(PortCall, "cargo_tonnes"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    client_uuid = client_key_field()

    def __init__(self, *args, wharves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wharf"].queryset = wharves
        self.fields["arrived_at"].initial = local_now

    def register_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "wharf": data["wharf"],
            "vessel": VesselData(registration=data["registration"], name=data["name"], kind=data["kind"]),
            "arrived_at": data["arrived_at"],
            "origin": data["origin"],
            "cargo_kind": data["cargo_kind"],
            "cargo_tonnes": data["cargo_tonnes"],
            "client_uuid": data["client_uuid"],
        }


class AddPersonForm(DomainErrorsMixin, forms.Form):
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
    role = forms.ChoiceField(choices=CrewRole.choices, initial=CrewRole.CREW, label=label(CrewMember, "role"))
    date_of_birth = forms.DateField(
        required=False, label=label(Person, "date_of_birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    client_uuid = client_key_field()

    def person_data(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            id_number=data["id_number"],
            full_name=data["full_name"],
            role=data["role"],
            date_of_birth=data["date_of_birth"],
        )


class ScreeningSheetForm(DomainErrorsMixin, forms.Form):
    """Results for the whole manifest in one submit: one ``result_<person id>`` per person,
    each with its own client key ``key_<person id>``, so that a sheet sent twice stores
    each result once, and its own sample time ``sampled_<person id>`` when that person
    was sampled apart from the rest (empty: the sheet's ``sampled_at``)."""

    kind = forms.ChoiceField(
        choices=TestKind.choices,
        initial=TestKind.RAPID,
        label=_("Test kind"),
        widget=forms.RadioSelect,
    )
    # Needed only for the people sampled without a time of their own (see ``clean``).
    sampled_at = forms.DateTimeField(
        required=False, label=label(ScreeningTest, "sampled_at"), widget=LocalDateTimeInput
    )
    kit_lot = forms.CharField(max_length=60, required=False, label=label(ScreeningTest, "kit_lot"))

    def __init__(self, *args, people, **kwargs):
        """``people`` are the ``PersonScreening`` of the call's clearance, in manifest order."""
        super().__init__(*args, **kwargs)
        self.people = list(people)
        self.fields["sampled_at"].initial = local_now
        for screening in self.people:
            self.fields[self.result_field(screening)] = forms.ChoiceField(
                choices=RESULT_CHOICES,
                required=False,
                initial=NOT_TESTED,
                label=screening.member.person.full_name,
                widget=forms.RadioSelect,
            )
            self.fields[self.key_field(screening)] = client_key_field()
            self.fields[self.sampled_field(screening)] = forms.DateTimeField(
                required=False,
                label=_("Own sample time (empty: the sheet's)"),
                widget=LocalDateTimeInput,
            )

    @staticmethod
    def result_field(screening) -> str:
        return f"result_{screening.member.person_id}"

    @staticmethod
    def key_field(screening) -> str:
        return f"key_{screening.member.person_id}"

    @staticmethod
    def sampled_field(screening) -> str:
        return f"sampled_{screening.member.person_id}"

    def clean(self):
        data = super().clean()
        self.refuse_results_off_the_manifest()
        tested = [s for s in self.people if data.get(self.result_field(s))]
        if not tested:
            raise forms.ValidationError(_("Choose a result for at least one person."), code="empty")
        sheet_time_needed = any(not data.get(self.sampled_field(s)) for s in tested)
        if sheet_time_needed and not data.get("sampled_at") and "sampled_at" not in self.errors:
            self.add_error("sampled_at", forms.ValidationError(self.fields["sampled_at"].error_messages["required"]))
        return data

    def refuse_results_off_the_manifest(self) -> None:
        """A result sent for someone no longer on the manifest (removed while the sheet
        waited on a phone with no signal) refuses the sheet, naming them: it is not dropped."""
        on_board = {str(s.member.person_id) for s in self.people}
        missing = [
            name.removeprefix("result_")
            for name, value in self.data.items()
            if name.startswith("result_") and value and name.removeprefix("result_") not in on_board
        ]
        ids = [int(pk) for pk in missing if pk.isdigit()]
        if not missing:
            return
        names = sorted(Person.objects.filter(pk__in=ids).values_list("full_name", flat=True)) if ids else []
        self.add_error(
            None,
            forms.ValidationError(
                _("Not on the manifest any more: %(names)s. Their results were not saved; nothing of this sheet was.")
                % {"names": ", ".join(names) or _("unknown person")},
                code="off_manifest",
            ),
        )

    def sample_time(self, screening) -> datetime:
        """When this person was sampled: their own time, or else the sheet's."""
        return self.cleaned_data.get(self.sampled_field(screening)) or self.cleaned_data["sampled_at"]

    def add_domain_error(self, exc: DomainError) -> None:
        """A refused sample time of one person sampled apart shows on that person's row."""
        entry = exc.entry
        if exc.field == "sampled_at" and entry is not None:
            for screening in self.people:
                own = self.sampled_field(screening)
                if screening.member.person_id == entry.person.pk and self.cleaned_data.get(own):
                    self.add_error(own, exc.message)
                    return
        super().add_domain_error(exc)

    def entries(self, call: PortCall) -> list[TestData]:
        data = self.cleaned_data
        return [
            TestData(
                person=screening.member.person,
                kind=data["kind"],
                sampled_at=self.sample_time(screening),
                result=data[self.result_field(screening)],
                port_call=call,
                kit_lot=data["kit_lot"],
                client_uuid=data.get(self.key_field(screening)),
            )
            for screening in self.people
            if data.get(self.result_field(screening))
        ]


class EpidemicAreaForm(DomainErrorsMixin, forms.Form):
    province = forms.CharField(
        max_length=100,
        label=label(EpidemicArea, "province"),
        help_text=EpidemicArea._meta.get_field("province").help_text,
    )
    district = forms.CharField(
        max_length=100,
        required=False,
        label=label(EpidemicArea, "district"),
        help_text=EpidemicArea._meta.get_field("district").help_text,
    )
    active_from = forms.DateField(
        label=label(EpidemicArea, "active_from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    active_to = forms.DateField(
        required=False,
        label=label(EpidemicArea, "active_to"),
        help_text=EpidemicArea._meta.get_field("active_to").help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["active_from"].initial = lambda: timezone.localdate()

    def area_data(self) -> AreaData:
        return AreaData(**self.cleaned_data)


class EndAreaForm(forms.Form):
    active_to = forms.DateField(label=_("Last day active"), widget=forms.DateInput(attrs={"type": "date"}))


class ViolationForm(DomainErrorsMixin, forms.Form):
    kind = forms.ChoiceField(choices=ViolationKind.choices, label=label(Violation, "kind"))
    against = forms.ChoiceField(
        choices=ViolationTarget.choices,
        initial=ViolationTarget.VESSEL,
        label=label(Violation, "against"),
        widget=forms.RadioSelect,
    )
    id_number = forms.CharField(
        max_length=20,
        required=False,
        label=_("ID number of the person"),
        help_text=_("Only for a violation against a person."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    owner_name = forms.CharField(
        max_length=200,
        required=False,
        label=label(Violation, "owner_name"),
        help_text=_("Only needed when the vessel's owner is not on record."),
    )
    occurred_at = forms.DateTimeField(label=label(Violation, "occurred_at"), widget=LocalDateTimeInput)
    wharf = forms.ModelChoiceField(queryset=None, label=label(Violation, "wharf"), empty_label=None)
    note = forms.CharField(
        max_length=1000, required=False, label=label(Violation, "note"), widget=forms.Textarea(attrs={"rows": 2})
    )
    fine_vnd = forms.IntegerField(
        min_value=0,
        required=False,
        label=label(Violation, "fine_vnd"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1000"}),
    )

    def __init__(self, *args, wharves, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wharf"].queryset = wharves
        self.fields["occurred_at"].initial = local_now

    def violation_data(self, vessel: Vessel) -> ViolationData:
        """The violation to record; raises ``DomainError`` for an unknown ID number."""
        data = self.cleaned_data
        return ViolationData(
            vessel=vessel,
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            wharf=data["wharf"],
            against=data["against"],
            person=find_person(data["id_number"]) if data["id_number"].strip() else None,
            owner_name=data["owner_name"],
            note=data["note"],
            fine_vnd=data["fine_vnd"],
        )
