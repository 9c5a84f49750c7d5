from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.translation import gettext_lazy as _

from crews.models import CrewMember, ScreeningTest

from .choices import PortCallStatus
from .models import Handover, HandoverEvidence, PortCall, Vessel, Wharf
from .services import clearance_for

admin.site.site_header = "PortGuard"
admin.site.site_title = "PortGuard"
admin.site.index_title = _("Administration")


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
