"""Turning DynamoDB's error codes into facts the store can act on."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

#: Cancellation codes that say "try again", not "your condition is false".
RETRYABLE_CANCELLATION_CODES = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


#: Error codes of a request DynamoDB refused for lack of capacity. botocore's
#: standard retry mode has already retried it when we see one.
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_throttling(exc: BaseException) -> bool:
    """DynamoDB refused the request for lack of capacity (after the SDK's retries)."""
    return isinstance(exc, ClientError) and error_code(exc) in THROTTLING_CODES


def is_conditional_check_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]]:
    """Per-item reasons of a cancelled transaction, in request order."""
    if error_code(exc) != "TransactionCanceledException":
        return []
    return list(exc.response.get("CancellationReasons", []))
