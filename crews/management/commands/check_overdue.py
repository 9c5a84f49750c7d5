from collections import defaultdict

from django.core.management.base import BaseCommand
from django.utils import timezone

from crews.models import KcsStation
from realtime.broadcast import send_event_on_commit
from realtime.snapshot import overdue_staff


class Command(BaseCommand):
    help = (
        "Tell the wharf dashboards which KCS staff are overdue for a test (rule R3): one staff.overdue event "
        "per wharf with a KCS station, listing its overdue staff (an empty list clears the dashboard's). "
        "Meant to run every few minutes from cron or a systemd timer, never inside the web process; the "
        "events reach the dashboards served by other processes through Redis (REDIS_URL)."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        stations_at: dict[str, list[KcsStation]] = defaultdict(list)
        for station in KcsStation.objects.select_related("wharf"):
            stations_at[station.wharf.code].append(station)
        total = 0
        for wharf_code, stations in stations_at.items():
            entries = overdue_staff(stations, now)
            send_event_on_commit(wharf_code, "staff.overdue", {"wharf": wharf_code, "overdue_staff": entries})
            total += len(entries)
            if entries or options["verbosity"] >= 2:
                self.stdout.write(f"{wharf_code}: {len(entries)} overdue")
        self.stdout.write(f"{len(stations_at)} wharves told, {total} tests overdue.")
