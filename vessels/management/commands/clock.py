import asyncio
import contextlib
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from vessels.clock import Clock, run


class Command(BaseCommand):
    help = (
        "The clock: every PORTGUARD_CLOCK_TICK_SECONDS, tell the dashboards what changed with time alone (a "
        "negative past its validity, a KCS test becoming overdue). Run it beside the daphne processes, as many "
        "as you like: a lease in the database makes exactly one of them tick, and another takes over within "
        "PORTGUARD_CLOCK_LEASE_SECONDS plus a tick when its process dies. Stops on SIGTERM or SIGINT, giving "
        "the lease up. With the in-memory channel layer (no REDIS_URL) daphne runs the clock itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Tick once and exit.")

    def handle(self, *args, once: bool = False, **options):
        clock = Clock()
        if once:
            held = clock.tick()
            self.stdout.write(f"{clock.holder}: " + ("ticked." if held else "another process holds the clock."))
            return
        self.stdout.write(f"Clock {clock.holder}: ticking every {settings.PORTGUARD_CLOCK_TICK_SECONDS:g} s.")
        asyncio.run(self.run_until_stopped(clock))
        self.stdout.write(f"Clock {clock.holder}: stopped.")

    async def run_until_stopped(self, clock: Clock) -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
        # A signal is a clean stop: run() gives the lease up on its way out.
        with contextlib.suppress(asyncio.CancelledError):
            await run(clock)
