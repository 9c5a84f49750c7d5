"""The user's own profile: the e-mail address alerts go to, and the opt-in to them; their
devices' API tokens, each of which they may revoke (a lost phone)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from vessels.mail_alerts import email_alerts_on, set_email_alerts

from .models import ApiToken
from .pages import page
from .tokens import revoke


class EmailAlertsForm(forms.Form):
    email_alerts = forms.BooleanField(
        label=gettext_lazy("Send me an e-mail for each positive result at the wharves and stations I cover."),
        required=False,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    if request.method == "POST":
        form = EmailAlertsForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["email_alerts"]
            set_email_alerts(request.user, enabled)
            messages.success(request, _("E-mail alerts are on.") if enabled else _("E-mail alerts are off."))
            return redirect("profile")
    else:
        form = EmailAlertsForm(initial={"email_alerts": email_alerts_on(request.user)})
    tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by("-created_at")
    return page(
        request,
        "portguard/profile.html",
        {"form": form, "email": request.user.email, "tokens": tokens, "now": timezone.now()},
    )


@login_required
@require_POST
def revoke_token(request, pk: int):
    """Revoke one of the user's own tokens; anyone else's is unknown here (404)."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if revoke(ApiToken.objects.filter(pk=token.pk), by=request.user):
        messages.success(
            request,
            _("The token of “%(device)s” is revoked: it no longer opens the API or a live dashboard.")
            % {"device": token.device},
        )
    return redirect("profile")
