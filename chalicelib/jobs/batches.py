"""The queue consumers' batch processors: powertools' partial batch handling,
plus one structured log line for every message reported failed.

powertools itself logs a failed record only at debug level, as text with
the exception's message, which for a malformed message can quote its body
(personal data). Here the line carries the message id, its receive count and
the error's type, never the body or the message of the error.

Cold start: powertools' batch utility imports and builds all of its
pydantic parser models (SQS, DynamoDB, Kinesis, Kafka; ~100 ms, and we use
none) when pydantic is already loaded as it is first imported
(``aws_lambda_powertools/utilities/batch/types.py``). So a consumer module
loads nothing that imports pydantic (chalicelib.bootstrap imports lazily),
and imports this module, and with it the batch utility, before handling its
first message. tests/unit/test_cold_start_imports.py holds both to that.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    FailureResponse,
    SqsFifoPartialProcessor,
)

from chalicelib.observability import logger

#: A message that cannot be read fails on every receive and ends in the DLQ.
_MALFORMED = (ValueError, KeyError, TypeError)  # JSON and pydantic errors are ValueErrors


def log_failed_message(record: Any, exception: Any) -> None:
    error = exception[1]
    fields = {
        "message_id": record.message_id,
        "receive_count": int(record.attributes.approximate_receive_count),
        "message_group_id": record.attributes.message_group_id,
        "error": type(error).__name__,
    }
    if isinstance(error, _MALFORMED):
        logger.error("queue message malformed", **fields)
    else:
        logger.warning("queue message failed", **fields)


class LoggedBatchProcessor(BatchProcessor):
    """Standard queues: failures are reported per message, and logged."""

    def __init__(self) -> None:
        # Report a batch of only failures as such too, rather than raising:
        # the outcome per message is the same, and it is visible in the response.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: Any, exception: Any) -> FailureResponse:
        log_failed_message(record, exception)
        return super().failure_handler(record, exception)


class LoggedFifoProcessor(SqsFifoPartialProcessor):
    """FIFO queues: once a message fails, the later messages of its group
    are reported failed too (unprocessed), so a group never applies out of
    order; other groups go on. Each is logged."""

    def __init__(self) -> None:
        super().__init__(skip_group_on_error=True)

    def failure_handler(self, record: Any, exception: Any) -> FailureResponse:
        log_failed_message(record, exception)
        return super().failure_handler(record, exception)
