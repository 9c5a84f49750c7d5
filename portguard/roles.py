"""Roles are Groups with explicit permissions, kept in step on every migrate."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from .domain import NotAllowed

INSPECTOR = "inspector"
SUPERVISOR = "supervisor"
AUTHORITY = "authority"
HEALTH = "health"
ADMIN = "admin"

_READ = [
    "vessels.view_wharf",
    "vessels.view_vessel",
    "vessels.view_portcall",
    "vessels.view_handover",
    "crews.view_person",
    "crews.view_crewmember",
    "crews.view_screeningtest",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    INSPECTOR: _READ
    + [
        "vessels.add_vessel",
        "vessels.add_portcall",
        "vessels.change_portcall",
        "crews.add_person",
        "crews.add_crewmember",
        "crews.change_crewmember",
        "crews.add_screeningtest",
        "vessels.view_alert",
        "vessels.acknowledge_alert",
        "vessels.view_epidemicarea",
        "vessels.view_violation",
        "vessels.add_violation",
        "crews.view_kitdelivery",
        "crews.add_kitdelivery",
        "crews.view_kitadjustment",
        "crews.add_kitadjustment",
    ],
    SUPERVISOR: [
        "vessels.view_wharf",
        "crews.view_person",
        "crews.add_person",
        "crews.view_screeningtest",
        "crews.add_screeningtest",
        "crews.view_kcsstation",
        "crews.view_shift",
        "crews.change_shift",
        "crews.view_staffmember",
        "crews.add_staffmember",
        "crews.change_staffmember",
        "crews.view_rosterentry",
        "crews.add_rosterentry",
        "crews.delete_rosterentry",
        "crews.view_kitdelivery",
        "crews.add_kitdelivery",
        "crews.view_kitadjustment",
        "crews.add_kitadjustment",
    ],
    AUTHORITY: _READ
    + [
        "vessels.view_all_wharves",
        "vessels.approve_handover",
        "vessels.view_alert",
        "vessels.acknowledge_alert",
        "vessels.view_epidemicarea",
        "vessels.view_violation",
        "crews.view_kcsstation",
        "crews.view_shift",
        "crews.view_staffmember",
        "crews.view_rosterentry",
        "crews.view_kitdelivery",
        "crews.view_kitadjustment",
    ],
    HEALTH: _READ
    + [
        "vessels.view_all_wharves",
        "vessels.release_quarantine",
        "vessels.view_quarantinerelease",
        "vessels.view_alert",
        "vessels.acknowledge_alert",
        "vessels.view_contact",
        "vessels.add_contact",
        "vessels.view_epidemicarea",
        "vessels.add_epidemicarea",
        "vessels.change_epidemicarea",
        "vessels.delete_epidemicarea",
        "vessels.view_violation",
        "crews.add_screeningtest",
        "crews.view_healthdataread",
        "crews.view_kcsstation",
        "crews.view_shift",
        "crews.view_staffmember",
        "crews.view_rosterentry",
        "crews.export_person",
        "crews.view_kitdelivery",
        "crews.add_kitdelivery",
        "crews.view_kitadjustment",
        "crews.add_kitadjustment",
    ],
}

ROLE_LABELS = {
    INSPECTOR: _("Wharf inspector"),
    SUPERVISOR: _("TKV supervisor"),
    AUTHORITY: _("Port authority officer"),
    HEALTH: _("Health officer"),
    ADMIN: _("Administrator"),
}

# The administrator keeps users, roles and reference data, and reads the rest but the
# personal health data (rule R8): results, alerts, cases and their contacts, and the
# records that name who cleared or blocked a handover and by which result. Port calls,
# crews, results and handovers are written only by the roles that answer for them,
# through the domain layer.
_ADMIN_EDITS = {
    "auth.user",
    "auth.group",
    "portguard.apitoken",
    "vessels.wharf",
    "vessels.vessel",
    "crews.person",
    "crews.kcsstation",
    "crews.lab",
    "crews.shift",
    "crews.staffmember",
}

HEALTH_DATA = {
    "crews.screeningtest",
    "crews.healthdataread",
    "vessels.handoverrefusal",
    "vessels.alert",
    "vessels.contact",
    "vessels.handover",
    "vessels.handoverevidence",
    "vessels.quarantinerelease",
}


def _admin_may(perm) -> bool:
    app, model = perm.content_type.app_label, perm.content_type.model
    label = f"{app}.{model}"
    # Of the project's own models, only the API tokens (not the leases, profiles or outbox).
    if label in HEALTH_DATA or (app not in ("vessels", "crews", "auth") and label not in _ADMIN_EDITS):
        return False
    if perm.codename == f"view_{model}":
        return True
    return label in _ADMIN_EDITS and perm.codename.split("_", 1)[0] in ("add", "change", "delete")


def sync_roles(**_kwargs) -> None:
    perms = {f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[name] for name in names if name in perms])
    admin, _created = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set([p for p in perms.values() if _admin_may(p)])


def role_of(user) -> str | None:
    names = {g.name for g in user.groups.all()}
    return next((role for role in ROLE_LABELS if role in names), None)


def require_perm(user, perm: str, message: str) -> None:
    """Refuse (``NotAllowed``, 403) a user whose role does not hold ``perm``."""
    if not (user.is_authenticated and user.has_perm(perm)):
        raise NotAllowed(message)


class PermissionBackend(ModelBackend):
    """Django's ``ModelBackend`` reading a user's permissions in one query, not two.

    ``ModelBackend`` reads the user's own permissions and their groups' in two queries
    on the first permission check of each request; every write checks one, so that is a
    query on every write. Here a ``UNION`` of the two reads them at once; the result is
    the same set, kept on the user object for the request as ``ModelBackend`` keeps it
    (its ``_user_perm_cache`` and ``_group_perm_cache`` are not filled), so Django's
    ``ModelBackend`` listed after it reads no more.

    It logs nobody in: ``ModelBackend`` does, so sessions keep naming it and a session
    from before this backend stays logged in, and a wrong password is checked once."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                perms = Permission.objects.values_list(*fields).order_by()
            else:
                own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
                grouped = Permission.objects.filter(group__user=user_obj).values_list(*fields).order_by()
                perms = own.union(grouped)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in perms}
        return user_obj._perm_cache
