"""Live dashboards: one socket per open wharf, all-my-wharves or province page.

On connect the socket gets a ``snapshot`` of what it may see, then one message per
event, already serialised once by ``realtime.broadcast``.
"""

import json
import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder

from crews.access_log import record_read
from crews.choices import ReadKind, ReadVia
from vessels.scope import sees_all_wharves, visible_wharves

from .broadcast import PROVINCE_GROUP, wharf_group
from .db import socket_read
from .shared import listening, not_listening, shared_reads
from .snapshot import dashboard_snapshot

logger = logging.getLogger(__name__)

# Close codes in the 4000 range are the application's own (RFC 6455 §7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 1009
# Events may have been lost (the process lost Redis): reconnect for a fresh snapshot.
# Like HTTP's 503; daphne lets an application send only 1000 or a code from 3000 up.
CLOSE_RESYNC = 4503
MAX_CLIENT_FRAME = 4096


class DashboardConsumer(AsyncWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()
    user = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse(CLOSE_UNAUTHENTICATED)
        groups = await socket_read(self.groups_for)(user)
        if groups is None:
            return await self._refuse(CLOSE_FORBIDDEN)
        # Join before reading the snapshot: an event committed in between then arrives
        # after the snapshot (a repeated update is harmless), never falls in the gap.
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        listening(groups)
        await self.accept()
        self.user = user
        await self.send_snapshot()

    async def send_snapshot(self):
        # What a wharf's (or the province's) dashboard shows does not depend on who
        # looks, once they may look: sockets asking together share one read, and later
        # ones too while nothing has changed for its groups (realtime/shared.py).
        text, named = await shared_reads().get(
            self.snapshot_key(), socket_read(lambda: self.snapshot_text(self.user)), self.groups_joined
        )
        if named:
            # Its open alerts name people with their positive results: a read (rule R8),
            # logged for each socket (the text is shared, the reader is not) before it is sent.
            await socket_read(self.log_read)(named)
        await self.send(text_data=text)

    async def dispatch(self, message):
        """Channels' dispatch without its ``aclose_old_connections()`` before each message:
        that hop runs in the one thread of the process's sync views, so every event sent
        to every socket would queue behind the HTTP requests. These handlers use no
        database connection of that thread (their reads close their own: ``realtime.db``)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _refuse(self, code: int):
        # Accept first so the browser sees the reason code, not a bare failed handshake.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        not_listening(self.groups_joined)
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                # Redis down: the subscription went with the connection anyway.
                logger.warning("Could not leave %s on the channel layer", group, exc_info=True)

    async def receive(self, text_data=None, bytes_data=None):
        """Dashboards only listen: small frames are ignored, a flood is cut off."""
        if len(text_data or bytes_data or "") > MAX_CLIENT_FRAME:
            await self.close(code=CLOSE_TOO_BIG)

    async def dashboard_event(self, event):
        await self.send(text_data=event["text"])

    async def dashboard_refresh(self, event):
        """Another process died (``realtime.layers``): an event it committed may never
        have been sent. The dashboard replaces its state with the snapshot sent now."""
        if self.groups_joined:  # not for a socket being refused
            await self.send_snapshot()

    async def dashboard_resync(self, event):
        """This process lost Redis for a while (``realtime.layers``): events may be lost."""
        await self.close(code=CLOSE_RESYNC)

    def groups_for(self, user) -> tuple[str, ...] | None:
        """The groups this user may listen to here, or None when outside their scope."""
        raise NotImplementedError

    def snapshot_text(self, user) -> tuple[str, int]:
        """The snapshot as sent, and how many people's positives its open alerts name."""
        snapshot = self.snapshot_for(user)
        return json.dumps(snapshot, cls=DjangoJSONEncoder, ensure_ascii=False), len(snapshot["alerts"])

    def log_read(self, named: int) -> None:
        record_read(self.user, ReadKind.ALERTS, door=self.scope["path"], via=ReadVia.SOCKET, method="WS", count=named)

    def snapshot_key(self) -> tuple:
        raise NotImplementedError

    def snapshot_for(self, user) -> dict:
        raise NotImplementedError


class WharfConsumer(DashboardConsumer):
    wharf = None

    def groups_for(self, user):
        code = self.scope["url_route"]["kwargs"]["code"]
        self.wharf = visible_wharves(user).filter(code=code).first()
        return None if self.wharf is None else (wharf_group(self.wharf.code),)

    def snapshot_key(self):
        return ("wharf", self.wharf.pk)

    def snapshot_for(self, user):
        return dashboard_snapshot(user, self.wharf, kits=True)


class MyWharvesConsumer(DashboardConsumer):
    """All the wharves an inspector covers: the groups of each, the snapshot of them all.
    Who sees every wharf listens to the province instead; who covers none is refused."""

    wharf_ids: tuple[int, ...] = ()

    def groups_for(self, user):
        if sees_all_wharves(user):
            return None
        wharves = list(visible_wharves(user))
        self.wharf_ids = tuple(w.pk for w in wharves)
        return tuple(wharf_group(w.code) for w in wharves) or None

    def snapshot_key(self):
        # Two inspectors covering the same wharves see the same page.
        return ("wharves", self.wharf_ids)

    def snapshot_for(self, user):
        return dashboard_snapshot(user, kits=True)


class ProvinceConsumer(DashboardConsumer):
    def groups_for(self, user):
        return (PROVINCE_GROUP,) if sees_all_wharves(user) else None

    def snapshot_key(self):
        return ("province",)

    def snapshot_for(self, user):
        return dashboard_snapshot(user, kits=True)
