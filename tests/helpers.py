"""Plain helpers and constants the tests import: the fixtures that use them live in
conftest.py, which pytest loads by itself and no test imports."""

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

from crews.choices import CrewRole
from crews.models import Person
from crews.people import PersonData
from portguard.domain import DomainError
from portguard.models import ApiToken
from portguard.tokens import issue_token
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


_devices = itertools.count(1)


def token_for(user, device: str | None = None) -> str:
    """A new usable API token of ``user``, as ``manage.py issue_token`` gives one: on a
    device of its own unless one is named (a second client must not revoke the first's).
    It is marked used now, as a device's token in service is: the query counts pinned with
    it are a request's, not the write of a token's last use that comes at most once a
    minute (tests/portguard/test_api_tokens.py)."""
    token, secret = issue_token(user, device or f"tests-{next(_devices)}")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.created_at)
    return secret


def client_for(user) -> APIClient:
    """An API client authenticated by a token of the user's."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


ANY_FIELD = object()


@contextmanager
def refused(code: str, kind: type[DomainError] = DomainError, *, field=ANY_FIELD) -> Iterator[pytest.ExceptionInfo]:
    """Expect the domain layer to refuse with this ``code`` (and this ``field``, when given):
    a refusal for another reason, out of scope instead of against a rule say, fails the test.
    A ``NotAllowed`` names the wharf or station it is out of scope of, no field for a role."""
    with pytest.raises(kind) as error:
        yield error
    assert error.value.code == code, f"refused as {error.value.code!r}: {error.value.message}"
    if field is not ANY_FIELD:
        assert error.value.field == field, f"refused on {error.value.field!r}: {error.value.message}"


def run_together(*jobs: Callable[[], object], expected_refusals: Iterable[str] = ()) -> list[Exception]:
    """Start every job at the same moment, each in its own thread and database
    connection, and return what went wrong: every exception, except a domain refusal
    whose code is one the race may give (``expected_refusals``)."""
    barrier = threading.Barrier(len(jobs))
    expected = frozenset(expected_refusals)
    errors: list[Exception] = []

    def wrap(job):
        try:
            barrier.wait()
            job()
        except DomainError as refusal:
            if refusal.code not in expected:
                errors.append(refusal)
        except Exception as exc:  # anything else fails the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
