"""Live dashboards: one socket per open wharf or province page.

On connect the socket gets a ``snapshot`` of what it may see, then one message per
event, already serialised once by ``realtime.broadcast``.
"""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder

from vessels.services import sees_all_wharves, visible_wharves

from .broadcast import PROVINCE_GROUP, wharf_group
from .snapshot import dashboard_snapshot

# Close codes in the 4000 range are the application's own (RFC 6455 §7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class DashboardConsumer(AsyncWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self._refuse(CLOSE_UNAUTHENTICATED)
        allowed = await database_sync_to_async(self.resolve)(user)
        if allowed is None:
            return await self._refuse(CLOSE_FORBIDDEN)
        self.groups_joined, snapshot = allowed
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps(snapshot, cls=DjangoJSONEncoder, ensure_ascii=False))

    async def _refuse(self, code: int):
        # Accept first so the browser sees the reason code, not a bare failed handshake.
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Dashboards only listen; what a client sends is ignored."""

    async def dashboard_event(self, event):
        await self.send(text_data=event["text"])

    def resolve(self, user):
        """``(groups, snapshot)`` for this user, or None when outside their scope."""
        raise NotImplementedError


class WharfConsumer(DashboardConsumer):
    def resolve(self, user):
        code = self.scope["url_route"]["kwargs"]["code"]
        wharf = visible_wharves(user).filter(code=code).first()
        if wharf is None:
            return None
        return (wharf_group(wharf.code),), dashboard_snapshot(user, wharf)


class ProvinceConsumer(DashboardConsumer):
    def resolve(self, user):
        if not sees_all_wharves(user):
            return None
        return (PROVINCE_GROUP,), dashboard_snapshot(user)
