from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crews.people import parse_id_number
from portguard import roles
from portguard.domain import DomainError
from vessels.admin import ReadOnlyAdminMixin, role_members

from .models import CrewMember, HealthDataRead, KcsStation, Lab, Person, RosterEntry, ScreeningTest, Shift, StaffMember
from .stations import ensure_default_shifts


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["full_name", "id_kind", "id_number", "date_of_birth", "phone", "nationality"]

    def clean(self):
        # The same check as every other door: a well-formed number of the kind given.
        cleaned = super().clean()
        if cleaned.get("id_number"):
            try:
                cleaned["id_number"], cleaned["id_kind"] = parse_id_number(
                    cleaned["id_number"], cleaned.get("id_kind", "")
                )
            except DomainError as exc:
                self.add_error("id_number", exc.message)
        return cleaned


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonForm
    list_display = ["full_name", "id_kind", "id_number", "date_of_birth", "phone", "nationality"]
    list_filter = ["id_kind", "nationality"]
    search_fields = ["full_name", "id_number", "phone"]


@admin.register(CrewMember)
class CrewMemberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["person", "role", "port_call", "added_at", "added_by", "removed_at"]
    list_filter = ["role", "port_call__wharf"]
    list_select_related = ["person", "port_call__vessel", "port_call__wharf", "added_by"]
    search_fields = ["person__full_name", "person__id_number", "port_call__vessel__registration"]


@admin.register(ScreeningTest)
class ScreeningTestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["person", "kind", "result", "sampled_at", "result_at", "port_call", "wharf", "recorded_by"]
    list_filter = ["kind", "result", "wharf"]
    list_select_related = ["person", "port_call__vessel", "port_call__wharf", "wharf", "recorded_by"]
    search_fields = ["person__full_name", "person__id_number", "kit_lot", "port_call__vessel__registration"]
    date_hierarchy = "sampled_at"


class ShiftInline(admin.TabularInline):
    model = Shift
    fields = ["code", "name", "starts_at", "ends_at"]
    extra = 0


@admin.register(KcsStation)
class KcsStationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "wharf", "lab"]
    list_filter = ["wharf__locality", "wharf"]
    list_select_related = ["wharf", "lab"]
    search_fields = ["code", "name", "wharf__code", "wharf__name"]
    filter_horizontal = ["supervisors"]
    inlines = [ShiftInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "supervisors":
            kwargs["queryset"] = role_members(roles.SUPERVISOR)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # After the inline: a station saved without shifts gets the default 06–14, 14–22, 22–06.
        ensure_default_shifts(form.instance)


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ["name", "capacity_single", "capacity_pooled"]
    search_fields = ["name"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["person", "station", "active"]
    list_filter = ["active", "station"]
    list_select_related = ["person", "station"]
    search_fields = ["person__full_name", "person__id_number", "station__code"]
    autocomplete_fields = ["person"]


@admin.register(RosterEntry)
class RosterEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rosters are loaded whole, only through ``crews.stations.load_roster`` (the station
    page and the API), so a day's roster is never half edited."""

    list_display = ["date", "shift", "staff_name", "staff_id_number", "station"]
    list_filter = ["staff__station", "shift__code"]
    list_select_related = ["staff__person", "staff__station", "shift"]
    search_fields = ["staff__person__full_name", "staff__person__id_number", "staff__station__code"]
    date_hierarchy = "date"

    @admin.display(description=_("full name"), ordering="staff__person__full_name")
    def staff_name(self, entry):
        return entry.staff.person.full_name

    @admin.display(description=_("document number"))
    def staff_id_number(self, entry):
        return entry.staff.person.id_number

    @admin.display(description=_("station"), ordering="staff__station__code")
    def station(self, entry):
        return entry.staff.station.code


@admin.register(HealthDataRead)
class HealthDataReadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The access log (rule R8): append-only, so read-only here even to a superuser; health
    officers read it on their own page (``/access-log/``)."""

    list_display = ["read_at", "user", "kind", "via", "door", "person", "port_call", "station", "count"]
    list_filter = ["kind", "via"]
    list_select_related = ["user", "person", "port_call__vessel", "port_call__wharf", "station"]
    search_fields = ["user__username", "person__full_name", "person__id_number", "door"]
    date_hierarchy = "read_at"
