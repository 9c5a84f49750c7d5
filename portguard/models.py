from django.conf import settings
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


class Profile(models.Model):
    """What a user chooses for themselves: e-mail alerts, off until they opt in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), related_name="profile", on_delete=models.CASCADE
    )
    email_alerts = models.BooleanField(
        _("e-mail alerts"),
        default=False,
        help_text=_("Send me an e-mail for each positive result at the wharves and stations I cover."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)


class AlertMail(models.Model):
    """The outbox: one e-mail of one positive's alert to one officer, stored in the
    transaction that raised the alert and sent by the clock afterwards, so that sending
    never delays or rolls back the write; a mail server that is down is tried again."""

    alert = models.ForeignKey("vessels.Alert", verbose_name=_("alert"), related_name="mails", on_delete=models.PROTECT)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), related_name="alert_mails", on_delete=models.CASCADE
    )
    to = models.EmailField(_("to"), help_text=_("The recipient's address when the alert was raised."))
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert e-mail")
        verbose_name_plural = _("alert e-mails")
        constraints = [models.UniqueConstraint(fields=["alert", "recipient"], name="alert_mail_once_per_recipient")]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"], name="alert_mail_due")]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.to}"
