"""The local stack's clock, which the dev page can move forward.

Periods of days (the withdrawal period, the refund deadline) cannot be
waited for in a test, so the stack gives every use case this clock instead
of the wall clock (``install``): the real time plus an offset that only
grows (``POST /dev/clock``). Local only: the deployed functions use
chalicelib/clock.py.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import utc_now


class ShiftedClock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return utc_now() + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta


CLOCK = ShiftedClock()


class _ShiftedContext:
    """``bootstrap.context`` with the shifted clock; cached like it, and
    cleared with it (``bootstrap.reset``)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._built: Any = None

    def __call__(self) -> Any:
        if self._built is None:
            self._built = dataclasses.replace(self._real(), clock=CLOCK)
        return self._built

    def cache_clear(self) -> None:
        self._built = None
        self._real.cache_clear()


def install() -> None:
    """Give every use case of this process the shifted clock: the API's
    views (app.py looks ``bootstrap.context`` up on every call), the
    schedules and the queue handlers."""
    from chalicelib import bootstrap

    if not isinstance(bootstrap.context, _ShiftedContext):
        bootstrap.context = _ShiftedContext(bootstrap.context)  # type: ignore[assignment]
