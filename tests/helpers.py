"""Plain helpers and constants the tests import: the fixtures that use them live in
conftest.py, which pytest loads by itself and no test imports."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crews.choices import CrewRole
from crews.models import Person
from crews.people import PersonData
from vessels.models import PortCall

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ARRIVAL = datetime(2021, 8, 12, 8, 0, tzinfo=VN)


def make_user(username: str, role: str, wharves=()) -> User:
    user = User.objects.create_user(username, password="pw-" + username)
    user.groups.add(Group.objects.get(name=role))
    for wharf in wharves:
        wharf.inspectors.add(user)
    return user


def crew_data(n: int, start: int = 0) -> list[PersonData]:
    """``n`` people: a captain first, then crew members, each with a 12-digit CCCD."""
    names = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Phạm Đức Thắng", "Lê Quang Vũ", "Hoàng Thị Ngọc Ánh"]
    return [
        PersonData(
            id_number=f"022{start + i:09d}",
            full_name=f"{names[(start + i) % len(names)]} {start + i}",
            role=CrewRole.CAPTAIN if i == 0 else CrewRole.CREW,
        )
        for i in range(n)
    ]


def people_of(call: PortCall) -> list[Person]:
    return [m.person for m in call.crew.filter(removed_at__isnull=True).select_related("person").order_by("id")]


def client_for(user) -> APIClient:
    """An API client authenticated by the user's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client
