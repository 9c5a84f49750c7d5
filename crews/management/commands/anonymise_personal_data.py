from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crews.retention import anonymise, last_run, run_daily


def moment(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now must be an ISO 8601 date and time, not {value!r}") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = (
        "Anonymise the personal data of people past the retention period (PORTGUARD_RETENTION_DAYS): their last "
        "port call departed and their last KCS assignment ended before it, and nothing else of theirs is that "
        "recent. Names, document numbers, dates of birth and phones are replaced in place; every record about "
        "them stays, so the reports count the same. The clock runs this once a day; from cron, run it on as many "
        "hosts as you like: a lease in the database makes it run once a day, and the others say they skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be anonymised; change nothing.")
        parser.add_argument("--now", type=moment, help="Judge the period from this moment (ISO 8601), not now.")

    def handle(self, *args, dry_run: bool = False, now: datetime | None = None, **options):
        days = settings.PORTGUARD_RETENTION_DAYS
        if dry_run:
            counts = anonymise(now, dry_run=True)
            self.stdout.write(f"Dry run, nothing changed. Past {days} days: {counts}.")
            return
        counts = run_daily(now)
        if counts is None:
            lease = last_run()
            when = timezone.localtime(lease.expires_at).isoformat(timespec="seconds") if lease else "?"
            self.stdout.write(
                f"Skipped: already run or running (by {lease.holder if lease else '?'}); due again {when}."
            )
            return
        self.stdout.write(f"Anonymised past {days} days: {counts}.")
