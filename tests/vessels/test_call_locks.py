"""A port call's lock is the call's row alone (PostgreSQL): a writer holding it does not
hold the call's wharf or vessel, so results for two calls at one wharf do not wait for
each other. ``lock_port_calls`` reads the wharf and vessel with the call; without
``FOR UPDATE OF`` PostgreSQL locked their rows too, and every result at a wharf waited
for the one before it."""

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from vessels.models import PortCall, Vessel, Wharf
from vessels.scope import lock_port_calls

pytestmark = pytest.mark.django_db(transaction=True)


def test_holding_a_calls_lock_leaves_its_wharf_and_vessel_free(make_call):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's writers share the database's one lock")
    call = make_call(crew=1)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_port_calls([call.pk])
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=60)
        with transaction.atomic():
            # NOWAIT: a row the holder had locked would refuse at once.
            assert Wharf.objects.select_for_update(nowait=True).get(pk=call.wharf_id)
            assert Vessel.objects.select_for_update(nowait=True).get(pk=call.vessel_id)
        with pytest.raises(DatabaseError), transaction.atomic():
            PortCall.objects.select_for_update(nowait=True).get(pk=call.pk)  # the call's own row is held
    finally:
        release.set()
        holder.join(timeout=60)
