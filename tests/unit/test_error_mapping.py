"""The edge's error mapping for capacity problems: DynamoDB throttling that
outlasted the SDK's retries, and a change that kept colliding, answer 503
with Retry-After; anything else unexpected stays a 500."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.api.errors import json_errors
from chalicelib.domain import errors


def raising(exc: Exception) -> Any:
    @json_errors
    def view() -> None:
        raise exc

    return view()


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "TransactWriteItems")


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_throttling_after_the_sdk_retries_answers_503_with_retry_after(code):
    response = raising(client_error(code))
    assert response.status_code == 503
    assert response.body["error"]["code"] == "temporarily_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def test_a_change_that_could_not_be_made_now_answers_503_with_retry_after():
    response = raising(errors.TemporarilyUnavailable("try again"))
    assert (response.status_code, response.body["error"]["code"]) == (
        503,
        "temporarily_unavailable",
    )
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "exc",
    [client_error("AccessDeniedException"), client_error("ValidationException"), KeyError("x")],
)
def test_other_unexpected_errors_stay_a_500_without_retry_after(exc):
    response = raising(exc)
    assert (response.status_code, response.body["error"]["code"]) == (500, "internal_error")
    assert "Retry-After" not in response.headers


def test_a_conflict_has_no_retry_after():
    response = raising(errors.ConcurrentUpdate("changed meanwhile"))
    assert response.status_code == 409
    assert "Retry-After" not in response.headers


def test_a_subclass_answers_as_its_listed_ancestor():
    # Found by the whole-API state machine: an admin refund the provider
    # refused because nothing is left answered 400 (the table lists only
    # RefundRejected) instead of the documented 409.
    from chalicelib.domain.errors import NothingLeftToRefund, RefundRejected

    nothing_left = raising(NothingLeftToRefund("charge already refunded", provider="stripe"))
    rejected = raising(RefundRejected("refused", provider="stripe"))
    assert nothing_left.status_code == rejected.status_code == 409
    assert nothing_left.body["error"]["code"] == "nothing_left_to_refund"
