from django.db import models
from django.utils.translation import gettext_lazy as _


class Lease(models.Model):
    """Who holds a piece of work that must run in one process at a time (the clock),
    and until when. A holder that stops renewing loses it when it expires, and any
    other process may take it then."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    holder = models.CharField(_("holder"), max_length=100, help_text=_("The process that holds it: host and pid."))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
