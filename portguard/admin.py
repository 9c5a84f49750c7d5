"""The users' admin, with an action that lifts login lock-outs (portguard/logins.py), and
the API tokens' list, with an action that revokes them (portguard/tokens.py)."""

from axes.utils import reset
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import ApiToken
from .tokens import revoke


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


@admin.action(description=_("Revoke selected tokens"), permissions=["change"])
def revoke_tokens(modeladmin, request, queryset):
    count = revoke(queryset, by=request.user)
    modeladmin.message_user(
        request, ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count}
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds a token on which device, and since and until when; never its secret
    (which is not stored) nor its digest. Tokens are issued by ``manage.py issue_token``,
    which shows the secret once; here they are only revoked."""

    list_display = ["user", "device", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    list_select_related = ["user", "revoked_by"]
    search_fields = ["user__username", "device"]
    ordering = ["-created_at"]
    fields = ["user", "device", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    actions = [revoke_tokens]

    def has_add_permission(self, request):
        return False
