from django.core.management.base import BaseCommand
from django.utils import timezone

from vessels.clock import announce_overdue, overdue_by_wharf


class Command(BaseCommand):
    help = (
        "Tell the wharf dashboards now which KCS staff are overdue for a test (rule R3): one staff.overdue event "
        "per wharf with a KCS station, listing its overdue staff (an empty list clears the dashboard's). The "
        "clock (manage.py clock, or daphne itself with no REDIS_URL) already sends these whenever they change: "
        "no cron line is needed. The events reach dashboards served by other processes through Redis (REDIS_URL)."
    )

    def handle(self, *args, **options):
        total = 0
        by_wharf = overdue_by_wharf(timezone.now())
        for wharf_code, entries in by_wharf.items():
            announce_overdue(wharf_code, entries)
            total += len(entries)
            if entries or options["verbosity"] >= 2:
                self.stdout.write(f"{wharf_code}: {len(entries)} overdue")
        self.stdout.write(f"{len(by_wharf)} wharves told, {total} tests overdue.")
