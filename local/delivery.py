"""Event delivery on the embedded AWS, as Lambda's pollers do it on AWS.

- ``StreamPump`` reads the table's stream and invokes the stream handler with
  a DynamoDB-stream event; a batch that raises is retried from the same
  position (as Lambda does, without bisecting).
- ``QueuePoller`` receives from an SQS queue and invokes the queue's handler
  with an SQS event; messages reported in ``batchItemFailures`` (or all, if
  the handler raises) are left on the queue and come back after
  ``retry_after`` seconds; the queue's redrive policy moves a message to its
  DLQ after ``maxReceiveCount`` receives. Successful messages are deleted.
- ``Scheduler`` invokes a scheduled handler with a scheduled event on a timer.

EventBridge rules -> SQS are done by moto itself (for a custom bus).
Handlers are found by their Chalice name in ``app.handler_map`` and called
in this process, with the same event shapes Lambda sends.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalice.local import LambdaContext

from chalicelib.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


#: One invocation at a time in this process, as in one Lambda instance.
#: Chalice keeps the request being handled on the app object
#: (``app.current_request``) and powertools keeps its logger keys on the one
#: logger: with the API server's threads and the delivery workers running
#: handlers side by side, concurrent requests read each other's headers and
#: bodies (aws/chalice#759; tests/integration/test_local_api_server.py). moto
#: answers one request at a time anyway (local/aws.py), so little is lost.
INVOCATION_LOCK = threading.RLock()


def invoke(handler_map: dict[str, Handler], name: str, event: dict[str, Any]) -> Any:
    with INVOCATION_LOCK:
        return handler_map[name](event, LambdaContext(name, memory_size=512, max_runtime_ms=30_000))


def stream_lambda_records(records: list[dict[str, Any]], stream_arn: str) -> list[dict[str, Any]]:
    """Records from GetRecords as Lambda's DynamoDB event source hands them
    over: with the stream's ARN and region, and the creation time in epoch
    seconds (boto3 parsed it into a datetime)."""
    out = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if created is not None and hasattr(created, "timestamp"):
            dynamodb["ApproximateCreationDateTime"] = created.timestamp()
        out.append(
            {
                **record,
                "dynamodb": dynamodb,
                "eventSourceARN": stream_arn,
                "awsRegion": stream_arn.split(":")[3],
            }
        )
    return out


def sqs_lambda_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Messages from ReceiveMessage as Lambda's SQS event source hands them over."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "dataType": value.get("DataType"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for message in messages
        ]
    }


class Worker(threading.Thread):
    """A daemon thread running ``step`` until stopped; ``step`` returns
    whether it did something (if not, the worker idles ``idle`` seconds)."""

    def __init__(self, name: str, idle: float) -> None:
        super().__init__(name=name, daemon=True)
        self._stopping = threading.Event()
        self._idle = idle

    def step(self) -> bool:
        raise NotImplementedError

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.step()
            except Exception:
                # Keep delivering: a failing handler is the handler's problem,
                # retried as on AWS; the pump itself must not die.
                logger.exception("local delivery step failed", worker=self.name)
                busy = False
            if not busy:
                self._stopping.wait(self._idle)

    def stop(self) -> None:
        self._stopping.set()


class StreamPump(Worker):
    def __init__(
        self,
        clients: Callable[[str], Any],
        table_name: str,
        handler_map: dict[str, Handler],
        handler: str,
        batch_size: int = 100,
        idle: float = 0.2,
    ) -> None:
        super().__init__(f"stream->{handler}", idle)
        self._dynamodb = clients("dynamodb")
        self._streams = clients("dynamodbstreams")
        self._table = table_name
        self._handlers = handler_map
        self._handler = handler
        self._batch_size = batch_size
        self._iterators: dict[str, str] = {}
        self.delivered = 0

    def _open(self) -> None:
        arn = self._dynamodb.describe_table(TableName=self._table)["Table"]["LatestStreamArn"]
        self._arn = arn
        shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def step(self) -> bool:
        if not self._iterators:
            self._open()
        busy = False
        for shard, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)
            records = stream_lambda_records(response.get("Records", []), self._arn)
            if records:
                # Raises on failure: the iterator is not advanced, so the
                # same batch is delivered again on the next step.
                invoke(self._handlers, self._handler, {"Records": records})
                self.delivered += len(records)
                busy = True
            self._iterators[shard] = response["NextShardIterator"]
        return busy


class QueuePoller(Worker):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler_map: dict[str, Handler],
        handler: str,
        batch_size: int = 10,
        retry_after: int = 2,
        idle: float = 0.2,
    ) -> None:
        super().__init__(f"{queue_arn.rsplit(':', 1)[1]}->{handler}", idle)
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._handlers = handler_map
        self._handler = handler
        self._batch_size = batch_size
        self._retry_after = retry_after
        self.delivered = 0
        self.failed = 0

    def step(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        event = sqs_lambda_event(messages, self._arn)
        try:
            response = invoke(self._handlers, self._handler, event) or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:
            logger.exception("queue handler failed, whole batch retried", handler=self._handler)
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                # Back on the queue soon (on AWS: after the visibility timeout).
                self._sqs.change_message_visibility(
                    QueueUrl=self._url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_after,
                )
            else:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        self.delivered += len(messages) - len(failed)
        self.failed += len(failed)
        return True


class Scheduler(Worker):
    """Runs a scheduled handler every ``every_seconds`` (first run after one interval)."""

    def __init__(self, handler_map: dict[str, Handler], handler: str, every_seconds: float) -> None:
        super().__init__(f"schedule->{handler}", idle=every_seconds)
        self._handlers = handler_map
        self._handler = handler
        self._first = True
        self.runs = 0

    def step(self) -> bool:
        if self._first:
            self._first = False
            return False  # like a rule: the first run is one interval after start
        invoke(
            self._handlers,
            self._handler,
            {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "123456789012",
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "eu-central-1",
                "resources": [f"arn:aws:events:eu-central-1:123456789012:rule/{self._handler}"],
                "detail": {},
            },
        )
        self.runs += 1
        return False


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
