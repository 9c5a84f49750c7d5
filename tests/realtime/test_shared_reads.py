"""A crowd of sockets reconnecting at once shares its snapshot reads, and no socket is
given a snapshot read before it asked (an event committed in between would be lost)."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.results import TestData, record_test
from realtime import consumers
from realtime.shared import SharedReads, everything_changed, group_changed, listening, not_listening
from tests.helpers import people_of
from tests.realtime.helpers import connect, receive_json, token_header

pytestmark = pytest.mark.asyncio


class Reads:
    """A read whose every call waits for the test to let it finish, and says which call it was."""

    def __init__(self):
        self.started = 0
        self.release = [asyncio.Event() for _ in range(5)]

    async def __call__(self) -> str:
        number = self.started
        self.started += 1
        await self.release[number].wait()
        return f"read {number}"


async def until(check) -> None:
    """Let the other tasks run until ``check()`` holds."""
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0)


async def settle():
    """Let every task that can run go as far as it can. The subject is what has NOT
    happened then (a read that must wait), so there is no state to wait for; sleep(0)
    only yields to the event loop, no time passes."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_askers_before_a_read_starts_share_it():
    shared, reads = SharedReads(), Reads()
    askers = [asyncio.create_task(shared.get("CP-03", reads)) for _ in range(3)]
    await until(lambda: reads.started == 1)  # the askers joined it before it started: tasks run in turn
    reads.release[0].set()
    assert await asyncio.gather(*askers) == ["read 0"] * 3
    assert reads.started == 1


async def test_an_asker_during_a_read_gets_the_next_one_shared_with_later_askers():
    shared, reads = SharedReads(), Reads()
    first = asyncio.create_task(shared.get("CP-03", reads))
    await until(lambda: reads.started == 1)  # under way: what it reads may predate the next askers
    later = [asyncio.create_task(shared.get("CP-03", reads)) for _ in range(4)]
    await settle()
    assert reads.started == 1, "the next read waits for the one under way"
    reads.release[0].set()
    assert await first == "read 0"
    await until(lambda: reads.started == 2)
    reads.release[1].set()
    assert await asyncio.gather(*later) == ["read 1"] * 4
    assert reads.started == 2


async def test_keys_are_read_apart_and_a_failed_read_fails_only_its_askers():
    shared = SharedReads()

    async def broken():
        raise ConnectionError("database gone")

    async def fine():
        return "ok"

    failing = asyncio.create_task(shared.get("CP-03", broken))
    other = asyncio.create_task(shared.get("HL-01", fine))
    with pytest.raises(ConnectionError):
        await failing
    assert await other == "ok"
    assert await shared.get("CP-03", fine) == "ok"


async def test_an_asker_that_leaves_does_not_cancel_the_read_of_the_others():
    shared, reads = SharedReads(), Reads()
    leaving = asyncio.create_task(shared.get("CP-03", reads))
    staying = asyncio.create_task(shared.get("CP-03", reads))
    await until(lambda: reads.started == 1)
    leaving.cancel()
    reads.release[0].set()
    assert await staying == "read 0"


@pytest.mark.django_db(transaction=True)
async def test_sockets_connecting_together_get_one_snapshot_read(make_call, inspector, monkeypatch):
    call = await database_sync_to_async(make_call)(crew=2)
    header = await database_sync_to_async(token_header)(inspector)

    reads = []
    snapshot_for = consumers.WharfConsumer.snapshot_for

    def counted(self, user):
        reads.append(user.pk)
        return snapshot_for(self, user)

    monkeypatch.setattr(consumers.WharfConsumer, "snapshot_for", counted)
    sockets = [s for s, _connected in await asyncio.gather(*(connect("/ws/wharves/CP-03/", header) for _ in range(8)))]
    snapshots = await asyncio.gather(*(receive_json(s) for s in sockets))
    assert all(s["type"] == "snapshot" and [c["id"] for c in s["port_calls"]] == [call.pk] for s in snapshots)
    assert len({json.dumps(s, sort_keys=True) for s in snapshots}) == 1
    assert 1 <= len(reads) < len(sockets)
    for socket in sockets:
        await socket.disconnect()


async def counting_read(results):
    async def read():
        results.append(f"read {len(results)}")
        return results[-1]

    return read


async def test_a_read_is_kept_for_later_askers_until_a_message_for_its_group_arrives():
    shared, results = SharedReads(), []
    read = await counting_read(results)
    group = "wharf.KEPT-1"
    assert await shared.get("KEPT-1", read, (group,)) == "read 0"
    assert await shared.get("KEPT-1", read, (group,)) == "read 0", "nothing changed: kept"
    group_changed(group)
    assert await shared.get("KEPT-1", read, (group,)) == "read 1"
    group_changed("wharf.OTHER")
    assert await shared.get("KEPT-1", read, (group,)) == "read 1", "another wharf's change is not its"
    everything_changed()  # a refresh or resync of the process's sockets
    assert await shared.get("KEPT-1", read, (group,)) == "read 2"
    assert await shared.get("KEPT-1", read) == "read 3", "asked without its groups: never kept"


async def test_a_group_nobody_here_listened_to_may_have_changed_unseen():
    shared, results = SharedReads(), []
    read = await counting_read(results)
    group = "wharf.KEPT-2"
    listening([group])
    assert await shared.get("KEPT-2", read, (group,)) == "read 0"
    not_listening([group])  # the last socket of this process left: its messages stop coming
    listening([group])
    assert await shared.get("KEPT-2", read, (group,)) == "read 1"
    listening([group])  # a second socket while the first listens: nothing was missed
    assert await shared.get("KEPT-2", read, (group,)) == "read 1"
    not_listening([group, group])


async def test_a_kept_read_grows_old(settings):
    shared, results = SharedReads(), []
    read = await counting_read(results)
    settings.PORTGUARD_SNAPSHOT_KEEP_SECONDS = 0
    assert await shared.get("KEPT-3", read, ("wharf.KEPT-3",)) == "read 0"
    assert await shared.get("KEPT-3", read, ("wharf.KEPT-3",)) == "read 1"


@pytest.mark.django_db(transaction=True)
async def test_sockets_coming_one_after_another_share_a_snapshot_until_the_wharf_changes(
    make_call, inspector, monkeypatch
):
    call = await database_sync_to_async(make_call)(crew=2)
    header = await database_sync_to_async(token_header)(inspector)
    reads = []
    snapshot_for = consumers.WharfConsumer.snapshot_for

    def counted(self, user):
        reads.append(user.pk)
        return snapshot_for(self, user)

    monkeypatch.setattr(consumers.WharfConsumer, "snapshot_for", counted)
    first, _ = await connect("/ws/wharves/CP-03/", header)
    before = await receive_json(first)
    second, _ = await connect("/ws/wharves/CP-03/", header)
    assert await receive_json(second) == before
    assert len(reads) == 1

    person = (await database_sync_to_async(people_of)(call))[0]
    sample = TestData(person, TestKind.RAPID, timezone.now(), TestResult.POSITIVE, port_call=call)
    await database_sync_to_async(record_test)(inspector, sample)
    assert (await receive_json(first))["type"] == "test.recorded"  # the change reached this process
    third, _ = await connect("/ws/wharves/CP-03/", header)
    after = await receive_json(third)
    assert len(reads) == 2
    (summary,) = after["port_calls"]
    assert summary["status"] == "blocked" and [a["test"]["id_number"] for a in after["alerts"]] == [person.id_number]
    for socket in (first, second, third):
        await socket.disconnect()
