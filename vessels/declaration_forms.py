"""The public health declaration form (rule R6): a vessel, its ports of call and the
people on board, as rows a captain fills in on a phone. The forms parse input only;
every rule is checked by ``vessels.declarations``."""

import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crews.choices import CrewRole

from .choices import VesselKind
from .declarations import (
    MAX_PEOPLE,
    MAX_PORTS,
    SYMPTOMS,
    DeclarationData,
    DeclarationInvalid,
    DeclaredPersonData,
    PortOfCallData,
)
from .forms import LocalDateTimeInput, local_now
from .models import Declaration, DeclaredPerson, DeclaredPortOfCall, PortCall

FIELD_PATH = re.compile(r"^(ports|people)\[(\d+)\]\.(\w+)$")


def label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


class DeclarationForm(forms.Form):
    registration = forms.CharField(
        max_length=20,
        label=label(Declaration, "registration"),
        help_text=Declaration._meta.get_field("registration").help_text,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    vessel_name = forms.CharField(max_length=200, required=False, label=label(Declaration, "vessel_name"))
    vessel_kind = forms.ChoiceField(
        choices=VesselKind.choices, initial=VesselKind.SELF_PROPELLED_BARGE, label=label(Declaration, "vessel_kind")
    )
    expected_at = forms.DateTimeField(label=label(Declaration, "expected_at"), widget=LocalDateTimeInput)
    declarant_name = forms.CharField(max_length=200, label=label(Declaration, "declarant_name"))
    declarant_phone = forms.CharField(
        max_length=20,
        label=label(Declaration, "declarant_phone"),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )


class ArrivedForm(forms.Form):
    """When the declared vessel arrived, as the inspector registers it."""

    arrived_at = forms.DateTimeField(label=label(PortCall, "arrived_at"), widget=LocalDateTimeInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["arrived_at"].initial = local_now


class PortForm(forms.Form):
    port = forms.CharField(
        max_length=200,
        label=label(DeclaredPortOfCall, "port"),
        help_text=DeclaredPortOfCall._meta.get_field("port").help_text,
    )
    left_on = forms.DateField(
        label=label(DeclaredPortOfCall, "left_on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class PersonForm(forms.Form):
    full_name = forms.CharField(max_length=200, label=label(DeclaredPerson, "full_name"))
    id_number = forms.CharField(
        max_length=20,
        label=_("ID number"),
        help_text=_("12-digit CCCD, 9-digit CMND or passport number."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    role = forms.ChoiceField(choices=CrewRole.choices, initial=CrewRole.CREW, label=label(DeclaredPerson, "role"))
    date_of_birth = forms.DateField(
        required=False, label=label(DeclaredPerson, "date_of_birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    fever = forms.BooleanField(required=False, label=label(DeclaredPerson, "fever"))
    cough = forms.BooleanField(required=False, label=label(DeclaredPerson, "cough"))
    short_of_breath = forms.BooleanField(required=False, label=label(DeclaredPerson, "short_of_breath"))
    sore_throat = forms.BooleanField(required=False, label=label(DeclaredPerson, "sore_throat"))
    lost_taste_or_smell = forms.BooleanField(required=False, label=label(DeclaredPerson, "lost_taste_or_smell"))
    case_contact = forms.BooleanField(
        required=False,
        label=label(DeclaredPerson, "case_contact"),
        help_text=_("With someone who tested positive, in the last 14 days."),
    )
    provinces = forms.CharField(
        max_length=1000,
        required=False,
        label=label(DeclaredPerson, "provinces"),
        help_text=_("In the 14 days before arrival, separated by commas."),
    )

    symptom_names = SYMPTOMS


PortFormSet = forms.formset_factory(
    PortForm, extra=1, max_num=MAX_PORTS, absolute_max=MAX_PORTS, validate_max=True, can_delete=True
)
PersonFormSet = forms.formset_factory(
    PersonForm, extra=1, max_num=MAX_PEOPLE, absolute_max=MAX_PEOPLE, validate_max=True, can_delete=True
)


class DeclarationForms:
    """The three parts of the page, bound together: the vessel, its ports, its people.

    ``add`` (a button's value, ``ports`` or ``people``) asks for one more empty row:
    the page comes back with what was typed and is not checked yet."""

    def __init__(self, data=None, initial: Declaration | None = None):
        self.adding = None
        if data is not None and data.get("add") in ("ports", "people"):
            self.adding = data["add"]
            data = data.copy()
            key = f"{self.adding}-TOTAL_FORMS"
            limit = MAX_PORTS if self.adding == "ports" else MAX_PEOPLE
            try:
                data[key] = str(min(limit, int(data.get(key, "0")) + 1))
            except ValueError:
                data[key] = "1"
        main_initial = ports_initial = people_initial = None
        if initial is not None:
            main_initial = {name: getattr(initial, name) for name in DeclarationForm.base_fields}
            ports_initial = [{"port": p.port, "left_on": p.left_on} for p in initial.ports.all()]
            people_initial = [
                {
                    **{name: getattr(p, name) for name in PersonForm.base_fields if name != "provinces"},
                    "provinces": ", ".join(p.provinces),
                }
                for p in initial.people.all()
            ]
        self.main = DeclarationForm(data, initial=main_initial)
        self.ports = PortFormSet(data, prefix="ports", initial=ports_initial)
        self.people = PersonFormSet(data, prefix="people", initial=people_initial)
        if initial is not None and data is None:
            self.ports.extra = self.people.extra = 0
        self.refused: list[str] = []

    @property
    def checked(self) -> bool:
        """Whether the page shows the problems found (not when it only added a row)."""
        return self.main.is_bound and self.adding is None

    def is_valid(self) -> bool:
        if not self.checked:
            return False
        # Every part is checked, so every problem shows at once.
        return all([self.main.is_valid(), self.ports.is_valid(), self.people.is_valid()])

    def _filled(self, formset) -> list[forms.Form]:
        """The rows given: an extra row left empty has no data, a row marked for removal is dropped."""
        return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def data(self) -> DeclarationData:
        main = self.main.cleaned_data
        self._ports = self._filled(self.ports)
        self._people = self._filled(self.people)
        return DeclarationData(
            registration=main["registration"],
            vessel_name=main["vessel_name"],
            vessel_kind=main["vessel_kind"],
            expected_at=main["expected_at"],
            declarant_name=main["declarant_name"],
            declarant_phone=main["declarant_phone"],
            ports=[PortOfCallData(f.cleaned_data["port"], f.cleaned_data["left_on"]) for f in self._ports],
            people=[
                DeclaredPersonData(
                    full_name=f.cleaned_data["full_name"],
                    id_number=f.cleaned_data["id_number"],
                    role=f.cleaned_data["role"],
                    date_of_birth=f.cleaned_data["date_of_birth"],
                    case_contact=f.cleaned_data["case_contact"],
                    provinces=[p for p in f.cleaned_data["provinces"].split(",") if p.strip()],
                    **{name: f.cleaned_data[name] for name in SYMPTOMS},
                )
                for f in self._people
            ],
        )

    def add_refusal(self, exc: DeclarationInvalid) -> None:
        """Show each of the domain's problems on the field it names."""
        for path, messages in exc.errors.items():
            match = FIELD_PATH.match(path)
            target, name = None, path
            if match:
                rows = self._ports if match.group(1) == "ports" else self._people
                index = int(match.group(2))
                target, name = (rows[index] if index < len(rows) else None), match.group(3)
            elif path in self.main.fields:
                target = self.main
            for message in messages:
                if target is not None and name in target.fields:
                    target.add_error(name, message)
                else:
                    self.refused.append(message)
