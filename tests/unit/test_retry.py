"""The one retry policy for writes that lost a race (chalicelib/retry.py)."""

from __future__ import annotations

import pytest

from chalicelib import retry
from chalicelib.domain.errors import ConcurrentUpdate, OrderNotFound


def test_retries_a_lost_race_the_policys_number_of_times_then_gives_up():
    calls, pauses = [], []

    def attempt() -> str:
        calls.append(len(calls))
        raise ConcurrentUpdate("changed meanwhile", order_id="o-1")

    with pytest.raises(ConcurrentUpdate) as gave_up:
        retry.retry_on_conflict(
            attempt, message="the order kept changing", sleep=pauses.append, order_id="o-1"
        )
    assert len(calls) == retry.ATTEMPTS
    assert gave_up.value.message == "the order kept changing"
    assert gave_up.value.details == {"order_id": "o-1"}
    assert isinstance(gave_up.value.__cause__, ConcurrentUpdate)
    # A pause between attempts, none after the last; each within its jittered bound.
    assert len(pauses) == retry.ATTEMPTS - 1
    for n, pause in enumerate(pauses):
        assert 0 <= pause <= min(retry.MAX_DELAY, retry.BASE_DELAY * 2**n)


def test_returns_what_the_first_attempt_that_wins_returns():
    outcomes = iter([ConcurrentUpdate("lost"), ConcurrentUpdate("lost"), "written"])
    pauses: list[float] = []

    def attempt() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retry.retry_on_conflict(attempt, message="x", sleep=pauses.append) == "written"
    assert len(pauses) == 2


def test_other_errors_are_not_retried():
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise OrderNotFound("no such order")

    with pytest.raises(OrderNotFound):
        retry.retry_on_conflict(attempt, message="x", sleep=lambda _: None)
    assert calls == [1]


def test_the_backoff_is_full_jitter_growing_exponentially_up_to_its_cap():
    assert [retry.backoff(n, rand=lambda: 0.0) for n in range(3)] == [0.0, 0.0, 0.0]
    top = [retry.backoff(n, rand=lambda: 1.0) for n in range(8)]
    assert top[:3] == [retry.BASE_DELAY, 2 * retry.BASE_DELAY, 4 * retry.BASE_DELAY]
    assert max(top) == retry.MAX_DELAY and top == sorted(top)
    assert retry.backoff(2, rand=lambda: 0.5) == 2 * retry.BASE_DELAY
