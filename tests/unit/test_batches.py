"""The queue consumers' partial batch responses (chalicelib/jobs/batches.py):
which messages are reported failed, what is logged, and when a FIFO batch
is raised whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.jobs import batches
from chalicelib.jobs.batches import BatchFailed, QueueMessage
from tests.unit.stripe_http import log_lines


def record(message_id: str, body: str = "{}", group: str | None = None) -> dict[str, Any]:
    attributes = {"ApproximateReceiveCount": "3"}
    if group is not None:
        attributes["MessageGroupId"] = group
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


class Handler:
    """Fails the messages whose body is listed, records what it handled."""

    def __init__(self, *failing: str, error: type[Exception] = RuntimeError) -> None:
        self.failing = set(failing)
        self.error = error
        self.handled: list[str] = []

    def __call__(self, message: QueueMessage) -> None:
        self.handled.append(message.message_id)
        if message.body in self.failing:
            raise self.error("personal data: erika@example.com")


def failed(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_a_message_reads_as_lambda_hands_it_over() -> None:
    message = QueueMessage(record("m-1", body='{"a": 1}', group="order-1"))

    assert (message.message_id, message.body) == ("m-1", '{"a": 1}')
    assert (message.receive_count, message.group_id) == (3, "order-1")
    assert QueueMessage(record("m-2")).group_id is None


def test_a_standard_batch_reports_only_the_failed_messages_after_handling_all() -> None:
    handle = Handler("bad")

    response = batches.process(batch(record("m-1"), record("m-2", "bad"), record("m-3")), handle)

    assert failed(response) == ["m-2"]
    assert handle.handled == ["m-1", "m-2", "m-3"]


def test_a_standard_batch_of_only_failures_is_reported_not_raised() -> None:
    response = batches.process(batch(record("m-1", "bad"), record("m-2", "bad")), Handler("bad"))

    assert failed(response) == ["m-1", "m-2"]


def test_a_clean_batch_reports_nothing() -> None:
    assert batches.process(batch(record("m-1")), Handler()) == {"batchItemFailures": []}


def test_a_fifo_failure_fails_its_groups_later_messages_unhandled_and_others_go_on() -> None:
    handle = Handler("bad")
    event = batch(
        record("a-1", group="order-a"),
        record("a-2", "bad", group="order-a"),
        record("b-1", group="order-b"),
        record("a-3", group="order-a"),
        record("b-2", group="order-b"),
    )

    response = batches.process_fifo(event, handle)

    assert failed(response) == ["a-2", "a-3"]
    assert handle.handled == ["a-1", "a-2", "b-1", "b-2"]


def test_a_fifo_batch_in_which_every_message_failed_is_raised_whole() -> None:
    event = batch(record("a-1", "bad", group="order-a"), record("a-2", group="order-a"))

    with pytest.raises(BatchFailed):
        batches.process_fifo(event, Handler("bad"))


def test_each_failure_is_logged_with_its_ids_and_error_type_never_body_or_message() -> None:
    event = batch(
        record("m-1", "unreadable", group="order-a"),
        record("m-2", "down", group="order-b"),
        record("m-3", group="order-b"),
        record("m-4", group="order-c"),
    )

    def handle(message: QueueMessage) -> None:
        if message.body == "unreadable":
            json.loads("erika@example.com")
        if message.body == "down":
            raise ConnectionError("erika@example.com")

    with log_lines() as lines:
        batches.process_fifo(event, handle)

    logged = [json.loads(line) for line in lines]
    assert [(e["level"], e["message"], e["message_id"], e["error"]) for e in logged] == [
        ("ERROR", "queue message malformed", "m-1", "JSONDecodeError"),
        ("WARNING", "queue message failed", "m-2", "ConnectionError"),
        ("WARNING", "queue message failed", "m-3", "SkippedAfterFailure"),
    ]
    assert [(e["receive_count"], e["message_group_id"]) for e in logged] == [
        (3, "order-a"),
        (3, "order-b"),
        (3, "order-b"),
    ]
    assert "erika" not in "".join(lines)


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": "m-1"}])
def test_an_event_that_is_no_sqs_batch_is_refused(event: dict[str, Any]) -> None:
    for process in (batches.process, batches.process_fifo):
        with pytest.raises(ValueError, match="not an SQS batch event"):
            process(event, Handler())
