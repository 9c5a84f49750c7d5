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


class ApiToken(models.Model):
    """A device's key to the API and the sockets (portguard/tokens.py). Only a digest of
    the secret is kept: the token is shown once, when it is issued. A user has at most one
    live token per device; issuing another for the same device revokes this one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), related_name="api_tokens", on_delete=models.CASCADE
    )
    device = models.CharField(
        _("device"), max_length=100, help_text=_("Which phone, computer or system holds it, as its owner names it.")
    )
    prefix = models.CharField(
        _("prefix"), max_length=12, help_text=_("The token's first characters, to recognise it: not a secret.")
    )
    digest = models.CharField(_("digest"), max_length=64, unique=True, help_text=_("SHA-256 of the token."))
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(
        _("last used at"), null=True, blank=True, help_text=_("To the minute: not written at every request.")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        related_name="+",
        null=True,
        blank=True,
        # Who revoked another's token stays named (deactivate them rather than delete);
        # RESTRICT, not PROTECT, so that a user who revoked only their own can be deleted.
        on_delete=models.RESTRICT,
    )

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "device"], condition=models.Q(revoked_at__isnull=True), name="one_live_token_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.device} · {self.prefix}…"
