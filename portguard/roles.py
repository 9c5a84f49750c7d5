"""Roles are Groups with explicit permissions, kept in step on every migrate."""

from django.utils.translation import gettext_lazy as _

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
    ],
    SUPERVISOR: [
        "vessels.view_wharf",
        "crews.view_person",
        "crews.add_person",
        "crews.view_screeningtest",
        "crews.add_screeningtest",
    ],
    AUTHORITY: _READ + ["vessels.view_all_wharves", "vessels.approve_handover"],
    HEALTH: _READ + ["vessels.view_all_wharves", "crews.add_screeningtest"],
}

ROLE_LABELS = {
    INSPECTOR: _("Wharf inspector"),
    SUPERVISOR: _("TKV supervisor"),
    AUTHORITY: _("Port authority officer"),
    HEALTH: _("Health officer"),
    ADMIN: _("Administrator"),
}

# Domain actions the administrator does not get with the rest of the model permissions.
_NOT_FOR_ADMIN = {"vessels.approve_handover"}


def sync_roles(**_kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    perms = {f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[name] for name in names if name in perms])
    admin, _created = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(
        [
            p
            for name, p in perms.items()
            if p.content_type.app_label in ("vessels", "crews", "auth", "authtoken") and name not in _NOT_FOR_ADMIN
        ]
    )


def role_of(user) -> str | None:
    names = {g.name for g in user.groups.all()}
    return next((role for role in ROLE_LABELS if role in names), None)
