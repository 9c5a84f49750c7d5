"""The current state a dashboard starts from, and re-reads after reconnecting."""

from typing import Any

from vessels.models import Wharf
from vessels.services import call_summary, clearance_for, visible_port_calls, visible_wharves


def dashboard_snapshot(user, wharf: Wharf | None = None) -> dict[str, Any]:
    """Open port calls of one wharf, or of every wharf the user sees; constant queries."""
    wharves = [wharf] if wharf is not None else list(visible_wharves(user))
    calls = list(visible_port_calls(user).filter(wharf__in=wharves, departed_at__isnull=True))
    clearances = clearance_for(calls)
    return {
        "type": "snapshot",
        "wharves": [{"code": w.code, "name": w.name, "locality": w.locality} for w in wharves],
        "port_calls": [call_summary(call, clearances[call.pk]) for call in calls],
    }
