"""The local stack's queue poller behaves like Lambda's SQS event source:
reported failures come back, successes are deleted, and a message that keeps
failing lands in the dead-letter queue after the configured receive count."""

from __future__ import annotations

import json
import uuid

import boto3

from local.delivery import QueuePoller, wait_until


def make_queue(sqs, max_receives: int) -> tuple[str, str, str]:
    suffix = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=f"q-{suffix}",
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
            )
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn, dlq


def test_failures_are_retried_then_dead_lettered_and_successes_deleted(aws):
    sqs = boto3.client("sqs")
    url, arn, dlq = make_queue(sqs, max_receives=3)
    for body in ("good", "poison"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[str] = []

    def handler(event, context):
        records = event["Records"]
        assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"] == arn for r in records)
        seen.extend(r["body"] for r in records)
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r["body"] == "poison"
            ]
        }

    poller = QueuePoller(sqs, url, arn, {"consume": handler}, "consume", retry_after=0)
    assert wait_until(
        lambda: (poller.step() or True) and seen.count("poison") >= 3, timeout=10, interval=0.05
    )
    for _ in range(3):
        poller.step()  # the next receive moves the poison message to the DLQ

    assert seen.count("good") == 1  # deleted after its success, never redelivered
    assert seen.count("poison") == 3  # the configured receive count
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


def test_a_handler_that_raises_fails_the_whole_batch(aws):
    sqs = boto3.client("sqs")
    url, arn, _ = make_queue(sqs, max_receives=5)
    sqs.send_message(QueueUrl=url, MessageBody="one")
    calls: list[int] = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("crash between receive and processing")
        return {"batchItemFailures": []}

    poller = QueuePoller(sqs, url, arn, {"consume": handler}, "consume", retry_after=0)
    assert wait_until(
        lambda: (poller.step() or True) and len(calls) >= 2, timeout=10, interval=0.05
    )
    assert (poller.failed, poller.delivered) == (1, 1)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
