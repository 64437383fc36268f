"""The queue consumers' partial batch responses: each message of an SQS
batch handled on its own, the failed ones reported by id
(``{"batchItemFailures": [...]}``; the event source mappings enable
ReportBatchItemFailures), and one structured log line for each of them.

The log line carries the message id, its receive count, its group and the
error's type, never the body or the error's message: a malformed message's
body, quoted by an error, can hold personal data.

Our own rather than powertools' batch utility, which does the same in more
general form: importing any part of it loads asyncio and every event data
class powertools has (Kinesis, Kafka, DynamoDB streams...), over 100 million
instructions of each consumer's cold start for two loops (docs/performance.md).
The semantics are powertools' ``BatchProcessor`` (a standard queue: every
failure reported, even of the whole batch) and
``SqsFifoPartialProcessor(skip_group_on_error=True)`` (a FIFO queue: see
``process_fifo``); tests/unit/test_batches.py holds them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.observability import logger

#: A message that cannot be read fails on every receive and ends in the DLQ.
_MALFORMED = (ValueError, KeyError, TypeError)  # JSON and pydantic errors are ValueErrors


class QueueMessage:
    """One SQS record as Lambda hands it over, with what the consumers read."""

    __slots__ = ("_record",)

    def __init__(self, record: dict[str, Any]) -> None:
        self._record = record

    @property
    def body(self) -> str:
        return str(self._record["body"])

    @property
    def message_id(self) -> str:
        return str(self._record["messageId"])

    @property
    def receive_count(self) -> int:
        return int(self._record.get("attributes", {}).get("ApproximateReceiveCount", 0))

    @property
    def group_id(self) -> str | None:
        group: str | None = self._record.get("attributes", {}).get("MessageGroupId")
        return group


class BatchFailed(Exception):
    """Every message of a FIFO batch failed: raised, so the invocation
    counts as an error and Lambda retries the batch whole (the same outcome
    as reporting each message)."""


class SkippedAfterFailure(Exception):
    """An earlier message of the same group failed in this batch."""


def records_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    records = event.get("Records")
    if not records or not isinstance(records, list):
        raise ValueError("not an SQS batch event: no Records")
    return records


def process(event: dict[str, Any], handle: Callable[[QueueMessage], object]) -> dict[str, Any]:
    """A standard queue's batch: every message handled, each failure reported
    (a batch of only failures too: the outcome per message is the same, and
    it is visible in the response)."""
    failed = []
    for record in records_of(event):
        message = QueueMessage(record)
        try:
            handle(message)
        except Exception as error:  # any failure: that message is retried alone
            log_failed_message(message, error)
            failed.append({"itemIdentifier": message.message_id})
    return {"batchItemFailures": failed}


def process_fifo(event: dict[str, Any], handle: Callable[[QueueMessage], object]) -> dict[str, Any]:
    """A FIFO queue's batch: once a message fails, the later messages of its
    group are reported failed too, unprocessed, so a group never applies out
    of order; other groups go on. A batch in which every message failed
    raises ``BatchFailed``."""
    records = records_of(event)
    failed = []
    failed_groups: set[str] = set()
    for record in records:
        message = QueueMessage(record)
        try:
            if message.group_id is not None and message.group_id in failed_groups:
                raise SkippedAfterFailure(message.group_id)
            handle(message)
        except Exception as error:  # any failure: retried with its group
            log_failed_message(message, error)
            failed.append({"itemIdentifier": message.message_id})
            if message.group_id is not None:
                failed_groups.add(message.group_id)
    if len(failed) == len(records):
        raise BatchFailed(f"all {len(records)} messages of the batch failed")
    return {"batchItemFailures": failed}


def log_failed_message(message: QueueMessage, error: BaseException) -> None:
    fields: dict[str, Any] = {
        "message_id": message.message_id,
        "receive_count": message.receive_count,
        "message_group_id": message.group_id,
        "error": type(error).__name__,
    }
    if isinstance(error, _MALFORMED):
        logger.error("queue message malformed", **fields)
    else:
        logger.warning("queue message failed", **fields)
