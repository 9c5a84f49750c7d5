import os

from django.core.management.base import BaseCommand

from portguard import demo
from portguard.roles import ROLE_LABELS


class Command(BaseCommand):
    help = (
        "Load the demo data (wharves from Cẩm Phả to Đông Triều, vessels, crews, tests, a KCS station at each "
        "wharf with staff, three weeks of roster and their tests, one user per role). "
        "Idempotent: what is already there is left alone. The password of the users it creates comes from "
        f"DEMO_PASSWORD (default {demo.DEFAULT_PASSWORD!r})."
    )

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        report = demo.seed(password=password)
        self.stdout.write(
            f"Wharves: {report.wharves_created} new, vessels: {report.vessels_created} new, "
            f"port calls: {report.port_calls_created} new, {report.port_calls_skipped} already there."
        )
        self.stdout.write(
            f"KCS stations: {report.stations_created} new, {report.stations_rostered} given staff, "
            f"three weeks of roster and tests, {report.stations_skipped} already rostered."
        )
        self.stdout.write(f"Epidemic areas: {report.epidemic_areas_created} new.")
        self.stdout.write("Demo users:")
        width = max(len(entry.user.get_username()) for entry in report.users)
        for entry in report.users:
            role = str(ROLE_LABELS[entry.role])
            secret = password if entry.created else "(existing user: password left as it was)"
            self.stdout.write(f"  {entry.user.get_username():<{width}}  {role:<24}  {secret}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
