from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crews.models import CrewMember, ScreeningTest
from portguard import roles
from vessels.areas import AreaData, add_epidemic_area, change_epidemic_area, delete_epidemic_area
from vessels.models import HandoverRefusal
from vessels.status import clearance_for

from .choices import PortCallStatus
from .models import (
    Alert,
    Contact,
    EpidemicArea,
    Handover,
    HandoverEvidence,
    PortCall,
    QuarantineRelease,
    Vessel,
    Violation,
    Wharf,
)

admin.site.site_header = "PortGuard"
admin.site.site_title = "PortGuard"
admin.site.index_title = _("Administration")


def role_members(role: str):
    """The users of one role, for a list of who acts at a wharf or a station: scope follows
    the role (``vessels.scope``), so the list offers nobody else, the administrator included."""
    return get_user_model().objects.filter(groups__name=role).order_by("username")


class ReadOnlyAdminMixin:
    """Records the rules write: shown in the admin, written only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Wharf)
class WharfAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "locality", "kind", "operator", "route_order"]
    list_filter = ["locality", "kind"]
    search_fields = ["code", "name", "operator"]
    ordering = ["route_order", "code"]
    filter_horizontal = ["inspectors"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "inspectors":
            kwargs["queryset"] = role_members(roles.INSPECTOR)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Vessel)
class VesselAdmin(admin.ModelAdmin):
    list_display = ["registration", "name", "kind", "owner", "capacity_tonnes"]
    list_filter = ["kind"]
    search_fields = ["registration", "name", "owner"]


class CrewInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CrewMember
    fields = ["person", "role", "added_at", "added_by", "removed_at", "removed_by"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "added_by", "removed_by")


class ScreeningTestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ScreeningTest
    fields = ["person", "kind", "sampled_at", "result", "result_at", "kit_lot", "recorded_by", "supersedes"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "recorded_by", "supersedes__person")


class PortCallChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Rule R1 for the whole page at once, in a fixed number of queries.
        clearance = clearance_for(self.result_list)
        for call in self.result_list:
            call.clearance_status = clearance[call.pk].status


@admin.register(PortCall)
class PortCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Arrivals, manifests and departures change whether handover may be approved, so
    they are written only through the services (pages, API, commands)."""

    list_display = ["vessel", "wharf", "arrived_at", "origin", "cargo_kind", "departed_at", "status"]
    list_filter = ["wharf__locality", "wharf", "departed_at"]
    list_select_related = ["vessel", "wharf"]
    search_fields = ["vessel__registration", "vessel__name", "origin"]
    date_hierarchy = "arrived_at"
    inlines = [CrewInline, ScreeningTestInline]

    def get_changelist(self, request, **kwargs):
        return PortCallChangeList

    @admin.display(description=_("status"))
    def status(self, call):
        return PortCallStatus(call.clearance_status).label


class EvidenceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = HandoverEvidence
    fields = ["person", "role", "test"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person", "test__person")


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["port_call", "state", "approved_by", "approved_at", "suspended_at", "suspended_reason"]
    list_filter = ["state", "port_call__wharf"]
    list_select_related = ["port_call__vessel", "port_call__wharf", "approved_by"]
    search_fields = ["port_call__vessel__registration", "port_call__vessel__name"]
    date_hierarchy = "approved_at"
    inlines = [EvidenceInline]


@admin.register(HandoverEvidence)
class HandoverEvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["handover", "person", "role", "test"]
    list_filter = ["role", "handover__port_call__wharf"]
    list_select_related = ["handover__port_call__vessel", "handover__port_call__wharf", "person", "test__person"]
    search_fields = ["person__full_name", "person__id_number", "handover__port_call__vessel__registration"]


@admin.register(QuarantineRelease)
class QuarantineReleaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["port_call", "released_by", "released_at", "reason"]
    list_filter = ["port_call__wharf"]
    list_select_related = ["port_call__vessel", "port_call__wharf", "released_by"]
    search_fields = ["port_call__vessel__registration", "reason"]
    date_hierarchy = "released_at"


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "port_call", "person", "message", "acknowledged_by", "acknowledged_at"]
    list_filter = ["kind", "port_call__wharf", ("acknowledged_at", admin.EmptyFieldListFilter)]
    list_select_related = ["port_call__vessel", "port_call__wharf", "person", "acknowledged_by"]
    search_fields = ["port_call__vessel__registration", "person__full_name", "person__id_number", "message"]
    date_hierarchy = "created_at"


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case_person", "port_call", "level", "person", "reason", "computed_at"]
    list_filter = ["level", "reason_code", "port_call__wharf"]
    list_select_related = ["case_person", "port_call__vessel", "port_call__wharf", "person"]
    search_fields = ["person__full_name", "person__id_number", "case_person__full_name", "case_person__id_number"]


@admin.register(EpidemicArea)
class EpidemicAreaAdmin(admin.ModelAdmin):
    """Saved through the domain layer, so the dashboards hear of every open port call
    whose flag the change turns."""

    list_display = ["province", "district", "active_from", "active_to", "created_by", "created_at"]
    list_filter = ["province", ("active_to", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["province", "district"]
    fields = ["province", "district", "active_from", "active_to"]

    def save_model(self, request, obj, form, change):
        data = AreaData(obj.province, obj.district, obj.active_from, obj.active_to)
        saved = change_epidemic_area(request.user, obj.pk, data) if change else add_epidemic_area(request.user, data)
        obj.pk, obj.created_by, obj.created_at = saved.pk, saved.created_by, saved.created_at

    def delete_model(self, request, obj):
        delete_epidemic_area(request.user, obj.pk)

    def delete_queryset(self, request, queryset):
        for area in queryset:
            delete_epidemic_area(request.user, area.pk)


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Recorded by inspectors at their wharves, through the domain layer."""

    list_display = ["occurred_at", "vessel", "against", "owner_name", "person", "kind", "wharf", "fine_vnd"]
    list_filter = ["kind", "against", "wharf"]
    list_select_related = ["vessel", "person", "wharf"]
    search_fields = ["vessel__registration", "owner_name", "person__full_name", "person__id_number", "note"]
    date_hierarchy = "occurred_at"


@admin.register(HandoverRefusal)
class HandoverRefusalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The trace of each approval that rule R1 refused, with who blocked it and why."""

    list_display = ["port_call", "refused_at", "requested_by"]
    list_filter = ["port_call__wharf"]
    list_select_related = ["port_call__vessel", "port_call__wharf", "requested_by"]
    search_fields = ["port_call__vessel__registration"]
    date_hierarchy = "refused_at"
