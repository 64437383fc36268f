"""The one retry policy for a write that lost a race.

Every conditional write (an order's status and version, a cart's version, a
stock count) raises ConcurrentUpdate when someone else wrote first; the
caller re-reads, decides again and writes again. Each use case does that
through ``retry_on_conflict``, so the shop has one policy: ``ATTEMPTS``
attempts, with a full-jitter exponential backoff between them (a random
pause between 0 and ``BASE_DELAY * 2**n``, capped at ``MAX_DELAY``), which
spreads writers that collided apart instead of letting them collide again
in step. The pauses are a few milliseconds: a Lambda waits for them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.domain.errors import ConcurrentUpdate

T = TypeVar("T")

ATTEMPTS = 4
BASE_DELAY = 0.01  # seconds, before the second attempt at most
MAX_DELAY = 0.08  # seconds, the longest pause between two attempts


def backoff(retry: int, *, rand: Callable[[], float] = random.random) -> float:
    """The pause before retry number ``retry`` (0 for the first retry):
    anywhere in [0, min(MAX_DELAY, BASE_DELAY * 2**retry))."""
    return rand() * min(MAX_DELAY, BASE_DELAY * 2**retry)


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    message: str,
    retry_on: tuple[type[Exception], ...] = (ConcurrentUpdate,),
    sleep: Callable[[float], None] | None = None,
    **details: Any,
) -> T:
    """Run ``attempt`` (which reads, decides and writes) until it returns,
    at most ``ATTEMPTS`` times while it raises one of ``retry_on``; then
    raise ConcurrentUpdate(``message``, **``details``) from the last error.
    ``sleep`` replaces ``time.sleep`` (tests)."""
    pause = time.sleep if sleep is None else sleep
    last: Exception | None = None
    for n in range(ATTEMPTS):
        if n:
            pause(backoff(n - 1))
        try:
            return attempt()
        except retry_on as exc:
            last = exc
    raise ConcurrentUpdate(message, **details) from last
