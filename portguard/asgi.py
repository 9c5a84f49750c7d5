import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portguard.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from realtime.auth import TokenOrSessionAuth  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from vessels.clock import run_in_process  # noqa: E402


class WithInProcessClock:
    """Starts the clock (vessels/clock.py) in this process's event loop at its first
    request, when ``PORTGUARD_CLOCK_IN_PROCESS`` says so.

    Time-driven work is otherwise a process of its own (``manage.py clock``, STYLE.md):
    a scheduler inside the web process runs once per worker and dies on reload. The
    in-memory channel layer of the embedded default is the one exception: it carries an
    event only to the sockets of the process that sent it, so a clock in another process
    would announce to nobody. There is one daphne then, and the clock's lease still
    makes it tick once if there were more.
    """

    def __init__(self, app):
        self.app = app
        self.clock: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if settings.PORTGUARD_CLOCK_IN_PROCESS:
            loop = asyncio.get_running_loop()
            # One per event loop: a test may serve this application from several in turn.
            if self.clock is None or self.clock.done() or self.clock.get_loop() is not loop:
                self.clock = loop.create_task(run_in_process())
        return await self.app(scope, receive, send)


application = WithInProcessClock(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": TokenOrSessionAuth(URLRouter(websocket_urlpatterns)),
        }
    )
)
