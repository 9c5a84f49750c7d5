from django import forms
from django.contrib import admin

from portguard.domain import DomainError
from vessels.admin import ReadOnlyAdminMixin

from .models import CrewMember, Person, ScreeningTest
from .services import parse_id_number


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
