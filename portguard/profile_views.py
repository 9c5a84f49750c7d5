"""The user's own profile: the e-mail address alerts go to, and the opt-in to them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from vessels.mail_alerts import email_alerts_on, set_email_alerts

from .pages import page


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
    return page(request, "portguard/profile.html", {"form": form, "email": request.user.email})
