"""Sending the outbox of e-mail alerts (``vessels.mail_alerts`` fills it).

The clock calls ``send_due_mails`` at every tick, under its lease, so exactly one process
sends. Each e-mail sent is marked with the time; one that fails stays in the outbox with
the error, and is tried again after a backoff that doubles with each attempt (from
``FIRST_RETRY`` up to ``LAST_RETRY``): nothing is dropped. Delivery is at least once: a
process that dies between the mail server's answer and the mark sends that e-mail again.
"""

import logging
import smtplib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F

from portguard.models import AlertMail

logger = logging.getLogger(__name__)

BATCH = 50  # the most e-mails one tick sends; the rest wait for the next
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(minutes=30)
# A refusal of this one e-mail (its address, its content): the next ones may still go.
_ONE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


def retry_delay(attempts: int) -> timedelta:
    """How long an e-mail that failed ``attempts`` times waits before the next try."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 16), LAST_RETRY)


def send_due_mails(now: datetime) -> int:
    """Send the e-mails due at ``now`` over one connection to the mail server; returns
    how many were sent. Stops early when the tick's time is spent, so the clock renews
    its lease in time."""
    due = list(
        AlertMail.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now).order_by("next_attempt_at", "pk")[
            :BATCH
        ]
    )
    if not due:
        return 0
    deadline = time.monotonic() + settings.PORTGUARD_CLOCK_TICK_SECONDS
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        _failed(due, exc, now)
        return 0
    sent = 0
    try:
        for index, mail in enumerate(due):
            if time.monotonic() > deadline:
                break
            message = EmailMessage(mail.subject, mail.body, to=[mail.to], connection=connection)
            try:
                message.send()
            except _ONE_REFUSED as exc:
                _failed([mail], exc, now)
            except Exception as exc:
                # The connection is gone: this e-mail and the rest wait for the server.
                _failed(due[index:], exc, now)
                break
            else:
                AlertMail.objects.filter(pk=mail.pk).update(sent_at=now, attempts=F("attempts") + 1, last_error="")
                sent += 1
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("Could not close the connection to the mail server", exc_info=True)
    logger.info("Alert e-mails: %d sent", sent)
    return sent


def _failed(mails: Sequence[AlertMail], exc: Exception, now: datetime) -> None:
    """Keep the e-mails for another attempt after their backoff, with the error."""
    error = f"{type(exc).__name__}: {exc}"[:1000]
    for mail in mails:
        mail.attempts += 1
        mail.last_error = error
        mail.next_attempt_at = now + retry_delay(mail.attempts)
    AlertMail.objects.bulk_update(mails, ["attempts", "last_error", "next_attempt_at"])
    logger.warning("Alert e-mails: %d not sent, tried again later: %s", len(mails), error)
