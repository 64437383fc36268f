"""The wall clock the services and the notifier read unless given another
(tests pass their own). A module of its own so that reading the time does
not load the whole domain: the notifications function needs only this."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
