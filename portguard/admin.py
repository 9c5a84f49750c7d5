"""The users' admin, with an action that lifts login lock-outs (portguard/logins.py)."""

from axes.utils import reset
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


@admin.action(description=_("Lift login lock-outs"), permissions=["change"])
def lift_login_lockouts(modeladmin, request, queryset):
    names = list(queryset.values_list("username", flat=True))
    for name in names:
        reset(username=name)
    modeladmin.message_user(
        request,
        ngettext(
            "Login lock-outs lifted for %(count)d user.", "Login lock-outs lifted for %(count)d users.", len(names)
        )
        % {"count": len(names)},
    )


admin.site.unregister(User)


@admin.register(User)
class PortGuardUserAdmin(UserAdmin):
    actions = [lift_login_lockouts]
