"""Faults injected into the real code paths on moto: SES failing,
DynamoDB throttling transactions, poison queue messages, the outbox crashing
between the stream and EventBridge, and everything delivered twice. After
each, nothing is lost (every email sent exactly once, or its event parked
in a dead-letter queue) and nothing is duplicated.

Faults are answers of botocore's ``before-send`` event on the app's own
cached clients (chalicelib/bootstrap.py ``aws_client``): a failed attempt
never reaches moto, the SDK parses the error and applies its retry policy exactly
as it would on AWS, and the adapters above it run unchanged. The SDK's
backoff is set to zero so the retries cost no wall-clock time. A partial
PutEvents (FailedEntryCount) and a crash right after a call succeeded are
botocore's ``before-parameter-build`` and ``after-call`` events.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from chalicelib import bootstrap
from chalicelib.jobs.batches import BatchFailed
from chalicelib.payments import fake
from local.delivery import sqs_lambda_event
from tests.conftest import STRIPE_SECRETS, new_key, order_body, table_snapshot
from tests.pipeline import MAX_RECEIVES, Pipeline


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def error_answer(
    status: int, code: str, message: str = "injected fault", **extra: Any
) -> Callable[[Any], AWSResponse]:
    """An AWS error answer as botocore reads it for the JSON protocols
    (DynamoDB, EventBridge) and REST-JSON (SES v2) alike."""

    def answer(request: Any) -> AWSResponse:
        body = json.dumps({"__type": code, "message": message, **extra}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, _Raw(body))

    return answer


def throttled_transaction(request: Any) -> AWSResponse:
    """TransactWriteItems cancelled with ThrottlingError on its first item,
    one reason per item as DynamoDB sends them."""
    items = json.loads(request.body)["TransactItems"]
    reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the capacity"}] + [
        {"Code": "None"} for _ in items[1:]
    ]
    return error_answer(400, "TransactionCanceledException", CancellationReasons=reasons)(request)


class Faults:
    """Fails chosen operations of the app's cached clients, counting every
    attempt the SDK makes (retries included) and every fault injected."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._remaining: dict[str, int | None] = {}

    def fail(
        self,
        service: str,
        operation: str,
        answer: Callable[[Any], AWSResponse],
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """After ``after`` attempts went through, the next ``times`` attempts
        (None: every one until ``heal``) get ``answer``."""
        client = bootstrap.aws_client(service)
        event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        self._remaining[operation] = times

        def hook(request: Any, **_: Any) -> AWSResponse | None:
            self.attempts[operation] += 1
            if self.attempts[operation] <= after:
                return None
            remaining = self._remaining.get(operation, 0)
            if remaining is not None and remaining <= 0:
                return None  # on to moto
            if remaining is not None:
                self._remaining[operation] = remaining - 1
            self.injected[operation] += 1
            error = answer(request)
            # botocore hands before-send to every handler, moto's too, and
            # keeps the first answer: point the request away from moto so
            # that it does not also carry it out. (Each attempt of the SDK
            # builds a new request, so a retry reaches moto again.)
            request.url = "https://fault-injected.invalid/"
            return error

        client.meta.events.register_first(event, hook, unique_id=f"fault-{operation}")

    def heal(self, operation: str) -> None:
        self._remaining[operation] = 0

    def refuse_last_entries(self, refused: int) -> None:
        """The next PutEvents puts all but its last ``refused`` entries on the
        bus and reports those as failed (FailedEntryCount), as EventBridge
        does when some entries of a call fail."""
        client = bootstrap.aws_client("events")
        pending = [refused]

        def drop(params: dict[str, Any], **_: Any) -> None:
            if pending[0]:
                params["Entries"] = params["Entries"][:-refused]

        def report(parsed: dict[str, Any], **_: Any) -> None:
            if pending[0]:
                pending[0] = 0
                self.injected["PutEvents"] += refused
                parsed["FailedEntryCount"] = refused
                parsed["Entries"] += [
                    {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
                ] * refused

        client.meta.events.register("before-parameter-build.eventbridge.PutEvents", drop)
        client.meta.events.register("after-call.eventbridge.PutEvents", report)

    def crash_after(self, service: str, operation: str) -> None:
        """The Lambda dies right after the next ``operation`` succeeded."""
        client = bootstrap.aws_client(service)
        pending = [True]

        def crash(**_: Any) -> None:
            if pending[0]:
                pending[0] = False
                self.injected[operation] += 1
                raise Crash(f"crashed after {operation}")

        name = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"after-call.{name}.{operation}", crash)


class Crash(Exception):
    """The function was killed (timeout, out of memory) mid-invocation."""


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return Faults()


def sdk_attempts(service: str) -> int:
    """Attempts per call, the first included, of the app's client."""
    return int(bootstrap.aws_client(service).meta.config.retries["total_max_attempts"])


def place_orders(api: Any, count: int, methods: list[str] | None = None) -> list[dict[str, Any]]:
    """``count`` orders of customer0@example.com, customer1@..., in English."""
    api.add_product("tea", available=100, price=1190, tax_rate="7")
    placed = []
    for i in range(count):
        body = order_body(
            [("tea", 1)],
            locale="en",
            customer={"email": f"customer{i}@example.com", "name": "Erika Mustermann"},
            payment_method=(methods or ["card"] * count)[i],
        )
        r = api.place(body)
        assert r.status_code == 201, r.json
        placed.append(r.json)
    return placed


def expected_placement_mails(orders: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Per order: the customer's confirmation and the merchant's notice."""
    expected: Counter[tuple[str, str]] = Counter()
    for i, order in enumerate(orders):
        expected[(f"customer{i}@example.com", order["number"])] += 1
        expected[("merchant@example.com", order["number"])] += 1
    return expected


def sent(pipeline: Pipeline, orders: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(recipient, order number) of every mail moto's SES accepted."""
    numbers = [o["number"] for o in orders]
    counted: Counter[tuple[str, str]] = Counter()
    for mail in pipeline.mails():
        (number,) = [n for n in numbers if n in mail.subject]
        counted[(mail.to, number)] += 1
    return counted


# --- 1. SES fails for the first N sends ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "n", "surfaces"),
    [
        # Throttling within one send: the SDK's own retries absorb it.
        (429, "TooManyRequestsException", 3, False),
        # Longer than the SDK retries: the consumer reports messages failed.
        (429, "TooManyRequestsException", 12, True),
        (500, "InternalFailure", 12, True),
        # Not retried by the SDK: every failure surfaces to the queue.
        (400, "MessageRejected", 3, True),
    ],
)
def test_ses_failing_for_the_first_sends_still_mails_each_email_exactly_once(
    api, pipeline, faults, status, code, n, surfaces
):
    orders = place_orders(api, 3)
    faults.fail("sesv2", "SendEmail", error_answer(status, code), times=n)

    delivery = pipeline.run_until_quiet()

    expected = expected_placement_mails(orders)
    assert sent(pipeline, orders) == expected  # each exactly once, none missing
    assert faults.injected["SendEmail"] == n
    # Every failed attempt was retried and every email sent once.
    assert faults.attempts["SendEmail"] == n + sum(expected.values())
    assert (delivery.failures > 0) is surfaces
    assert delivery.receives == len(orders) + delivery.failures
    assert pipeline.dead_letters() == []


def test_ses_failing_past_the_receive_count_parks_the_event_in_the_dead_letter_queue(
    api, pipeline, faults
):
    (order,) = place_orders(api, 1)
    faults.fail("sesv2", "SendEmail", error_answer(429, "TooManyRequestsException"))

    delivery = pipeline.run_until_quiet()

    assert pipeline.mails() == []
    assert delivery.receives == delivery.failures == MAX_RECEIVES
    # Every receive tried the first email with all the SDK's attempts.
    assert faults.attempts["SendEmail"] == MAX_RECEIVES * sdk_attempts("sesv2")
    (dead,) = pipeline.dead_letters()
    body = json.loads(dead["Body"])
    assert (body["detail-type"], body["detail"]["order"]["id"]) == ("OrderPlaced", order["id"])
    # Nothing is lost for good: redriven once SES is back, it sends each email once.
    faults.heal("SendEmail")
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=dead["Body"])
    pipeline.run_until_quiet()
    assert sent(pipeline, [order]) == expected_placement_mails([order])


# --- 2. DynamoDB throttling the checkout and payment transactions ----------------------------

THROUGHPUT_EXCEEDED = error_answer(400, "ProvisionedThroughputExceededException")
THROTTLED = error_answer(400, "ThrottlingException")


def orders_in(table: str) -> list[dict[str, Any]]:
    return [i for i in table_snapshot(table) if i.get("entity", {}).get("S") == "order"]


@pytest.mark.parametrize(
    ("answer", "k"),
    [
        # Retried by the SDK (standard mode) within the one call.
        (THROUGHPUT_EXCEEDED, 3),
        (THROTTLED, 3),
        # A cancelled transaction is not retried by the SDK; checkout retries it.
        (throttled_transaction, 3),
    ],
    ids=["throughput-exceeded", "throttling", "cancelled-throttling-error"],
)
def test_a_checkout_throttled_a_few_times_places_the_order_once(api, table, faults, answer, k):
    api.add_product("tea", available=10)
    faults.fail("dynamodb", "TransactWriteItems", answer, times=k)

    r = api.place(order_body([("tea", 2)]))

    assert r.status_code == 201, r.json
    assert faults.attempts["TransactWriteItems"] == k + 1
    assert [o["id"]["S"] for o in orders_in(table)] == [r.json["id"]]
    stock = api.stock("tea")
    assert (stock["available"], stock["reserved"]) == (8, 2)


@pytest.mark.parametrize(
    "answer",
    [THROUGHPUT_EXCEEDED, THROTTLED, throttled_transaction],
    ids=["throughput-exceeded", "throttling", "cancelled-throttling-error"],
)
def test_a_checkout_throttled_throughout_answers_503_changes_nothing_and_can_be_retried(
    api, table, faults, answer
):
    api.add_product("tea", available=10)
    before = table_snapshot(table)
    key, body = new_key(), order_body([("tea", 2)])
    faults.fail("dynamodb", "TransactWriteItems", answer)

    r = api.place(body, key)

    assert r.status_code == 503, r.json
    assert r.json["error"]["code"] == "temporarily_unavailable"
    assert int(r.headers["Retry-After"]) > 0
    assert table_snapshot(table) == before
    # Bounded: the SDK's attempts, or the checkout's own retries of a
    # cancelled transaction (never the two multiplied).
    assert 1 < faults.attempts["TransactWriteItems"] <= sdk_attempts("dynamodb")

    faults.heal("TransactWriteItems")
    first, again = api.place(body, key), api.place(body, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert first.json["token"] == again.json["token"]
    assert [o["id"]["S"] for o in orders_in(table)] == [first.json["id"]]
    stock = api.stock("tea")
    assert (stock["available"], stock["reserved"]) == (8, 2)


class PaymentEvents:
    """A payment-events FIFO queue driven by hand, as Lambda's event source
    does: receive, invoke ``apply_payment_events``, delete what succeeded."""

    def __init__(self, lambdas: Any, url: str, dlq_url: str | None = None) -> None:
        self.sqs = boto3.client("sqs")
        self.lambdas, self.url, self.dlq_url = lambdas, url, dlq_url
        self.arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.failures: Counter[str] = Counter()  # per message id

    @classmethod
    def configured(cls, lambdas: Any) -> PaymentEvents:
        """The queue the payment webhooks send to (tests/conftest.py)."""
        name = bootstrap.get_settings().payment_events_queue_name
        return cls(lambdas, boto3.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def receive(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])

    def consume(self, messages: list[dict[str, Any]]) -> list[str]:
        """Returns the ids reported failed; deletes the others."""
        event = sqs_lambda_event(messages, self.arn)
        try:
            payload = self.lambdas.invoke("apply_payment_events", event).payload
            failed = [f["itemIdentifier"] for f in payload["batchItemFailures"]]
        except BatchFailed:
            # Raised when every message failed; Lambda then retries the
            # whole batch, as if each had been reported.
            failed = [m["MessageId"] for m in messages]
        self.failures.update(failed)
        for message in messages:
            if message["MessageId"] in failed:
                # Back at once, as after its visibility timeout. (Receiving
                # with visibility 0 instead would let moto hand out a later
                # message of a group before the earlier failed one.)
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return failed

    def run_until_quiet(self, max_rounds: int = 30) -> int:
        """Receive and consume until the queue is empty; returns the receives."""
        receives = 0
        for _ in range(max_rounds):
            messages = self.receive()
            if not messages:
                return receives
            receives += len(messages)
            self.consume(messages)
        raise AssertionError(f"not quiet after {max_rounds} rounds")

    def dead_letters(self) -> list[dict[str, Any]]:
        assert self.dlq_url is not None
        return self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])


@pytest.mark.parametrize(
    "answer", [THROUGHPUT_EXCEEDED, throttled_transaction], ids=["sdk", "cancelled"]
)
def test_a_throttled_payment_event_is_retried_and_pays_the_order_once(
    api, pipeline, faults, answer
):
    api.add_product("tea", available=10)
    placed = api.place(order_body([("tea", 1)], locale="en")).json
    order = bootstrap.context().orders.get(placed["id"]).order
    body, headers = fake.signed_request(bootstrap.fake_stripe().pay(order), STRIPE_SECRETS[0])
    r = api.call("POST", "/webhooks/payments/stripe", headers=headers, raw=body)
    assert r.status_code == 200, r.json
    faults.fail("dynamodb", "TransactWriteItems", answer)

    queue = PaymentEvents.configured(pipeline.lambdas)
    (message,) = queue.receive()
    assert queue.consume([message]) == [message["MessageId"]]
    assert bootstrap.context().orders.get(order.id).order.status.value == "pending_payment"

    faults.heal("TransactWriteItems")
    (again,) = queue.receive()
    assert again["MessageId"] == message["MessageId"]
    assert queue.consume([again]) == []
    assert queue.receive() == []
    record = bootstrap.context().orders.get(order.id)
    assert record.order.status.value == "paid"
    assert [e.event for e in record.history] == ["OrderPlaced", "OrderPaid"]
    pipeline.run_until_quiet()
    paid_mails = [m for m in pipeline.mails() if "Payment received" in m.subject]
    assert len(paid_mails) == 1


# --- 3. Poison messages ------------------------------------------------------------------------

NOT_JSON = "{not json"
WRONG_SHAPE = json.dumps({"detail-type": "OrderPlaced", "detail": {"order": "not an order"}})


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The service's log lines (JSON, as powertools writes them) during the test."""
    from chalicelib.observability import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def assert_no_personal_data(lines: list[dict[str, Any]], *bodies: str) -> None:
    text = json.dumps(lines)
    assert "@example.com" not in text
    assert "Mustermann" not in text
    for body in bodies:
        assert body not in text


def test_poison_messages_on_the_notifications_queue_are_dead_lettered_the_rest_mailed_once(
    api, pipeline, logged
):
    orders = place_orders(api, 2)
    pipeline.deliver_stream()
    for body in (NOT_JSON, WRONG_SHAPE):
        pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=body)

    event = pipeline.receive()  # one batch: two good events, two poison messages
    assert len(event["Records"]) == 4
    poison = {r["messageId"] for r in event["Records"] if r["body"] in (NOT_JSON, WRONG_SHAPE)}
    assert set(pipeline.consume(event)) == poison
    assert sent(pipeline, orders) == expected_placement_mails(orders)

    rest = pipeline.run_until_quiet()

    assert rest.receives == rest.failures == (MAX_RECEIVES - 1) * len(poison)
    assert sorted(m["Body"] for m in pipeline.dead_letters()) == sorted([NOT_JSON, WRONG_SHAPE])
    assert sent(pipeline, orders) == expected_placement_mails(orders)
    malformed = [line for line in logged() if line["message"] == "queue message malformed"]
    assert Counter(line["message_id"] for line in malformed) == {i: MAX_RECEIVES for i in poison}
    assert {line["level"] for line in malformed} == {"ERROR"}
    assert {line["error"] for line in malformed} == {"JSONDecodeError", "ValidationError"}
    assert_no_personal_data(logged(), NOT_JSON, "not an order")


@pytest.fixture
def payment_queue(pipeline: Pipeline) -> PaymentEvents:
    """A payment-events FIFO queue with its DLQ, as infrastructure/definitions.py has it."""
    from infrastructure.definitions import QUEUES

    spec = next(q for q in QUEUES if q.name == "payment-events")
    sqs, suffix = boto3.client("sqs"), uuid.uuid4().hex[:8]
    fifo = {"FifoQueue": "true"}
    dlq = sqs.create_queue(QueueName=f"pay-dlq-{suffix}.fifo", Attributes=fifo)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
    url = sqs.create_queue(
        QueueName=f"pay-{suffix}.fifo",
        Attributes={**fifo, "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return PaymentEvents(pipeline.lambdas, url, dlq)


def paid_through_the_webhook(api: Any, count: int) -> list[tuple[str, str]]:
    """Orders paid at the fake provider; their callbacks queued. Returns
    (order id, queued message body) per order."""
    api.add_product("tea", available=10)
    ids = []
    for _ in range(count):
        placed = api.place(order_body([("tea", 1)], locale="en")).json
        order = bootstrap.context().orders.get(placed["id"]).order
        body, headers = fake.signed_request(bootstrap.fake_stripe().pay(order), STRIPE_SECRETS[0])
        r = api.call("POST", "/webhooks/payments/stripe", headers=headers, raw=body)
        assert r.status_code == 200, r.json
        ids.append(order.id)
    queued = PaymentEvents.configured(None).receive()
    bodies = {m["Attributes"]["MessageGroupId"]: m["Body"] for m in queued}
    return [(order_id, bodies[order_id]) for order_id in ids]


def history_of(order_id: str) -> list[str]:
    return [e.event for e in bootstrap.context().orders.get(order_id).history]


def test_poison_messages_on_the_payment_fifo_queue_block_only_their_own_group(
    api, payment_queue, logged
):
    (a, a_body), (b, b_body), (p, p_body) = paid_through_the_webhook(api, 3)
    wrong_shape = json.dumps({"kind": "succeeded", "order_id": p})
    queued = [  # (group, body) in queue order; the wrong-shaped one ahead of p's event
        (a, a_body),
        ("poison-group", NOT_JSON),
        (p, wrong_shape),
        (b, b_body),
        (p, p_body),
    ]
    for group, body in queued:
        payment_queue.sqs.send_message(
            QueueUrl=payment_queue.url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=uuid.uuid4().hex,
        )

    batch = payment_queue.receive()
    assert [m["Body"] for m in batch] == [body for _, body in queued]
    ids = {m["Body"]: m["MessageId"] for m in batch}
    failed = payment_queue.consume(batch)
    # Other groups proceed; p's own event waits behind the poison in its group.
    assert set(failed) == {ids[NOT_JSON], ids[wrong_shape], ids[p_body]}
    assert history_of(a) == history_of(b) == ["OrderPlaced", "OrderPaid"]
    assert history_of(p) == ["OrderPlaced"]

    payment_queue.run_until_quiet()

    poison = (ids[NOT_JSON], ids[wrong_shape])
    assert payment_queue.failures == {
        **{i: MAX_RECEIVES for i in poison},
        # p's event came back with its group every time and so used up its
        # receives too: it is parked with the poison, not lost and not applied.
        ids[p_body]: MAX_RECEIVES,
    }
    dead = payment_queue.dead_letters()
    assert sorted(m["Body"] for m in dead) == sorted([NOT_JSON, wrong_shape, p_body])
    assert history_of(a) == history_of(b) == ["OrderPlaced", "OrderPaid"]
    assert history_of(p) == ["OrderPlaced"]
    malformed = [line for line in logged() if line["message"] == "queue message malformed"]
    assert Counter(line["message_id"] for line in malformed) == {i: MAX_RECEIVES for i in poison}
    assert {line["message_group_id"] for line in malformed} == {"poison-group", p}
    assert sorted(
        line["receive_count"] for line in malformed if line["message_id"] == poison[0]
    ) == list(range(1, MAX_RECEIVES + 1))
    assert_no_personal_data(logged(), NOT_JSON)

    # Redriven from the DLQ (the poison left there), p's event applies once.
    payment_queue.sqs.send_message(
        QueueUrl=payment_queue.url,
        MessageBody=p_body,
        MessageGroupId=p,
        MessageDeduplicationId=uuid.uuid4().hex,
    )
    payment_queue.run_until_quiet()
    assert history_of(p) == ["OrderPlaced", "OrderPaid"]


# --- 4. A crash between the stream record and its event ----------------------------------------


def outbox_crash(kind: str, faults: Faults) -> None:
    if kind == "put-events-raises-mid-batch":
        # The first PutEvents (ten events) goes out; the second fails on every
        # attempt of the SDK.
        faults.fail(
            "events",
            "PutEvents",
            error_answer(500, "InternalException"),
            times=sdk_attempts("events"),
            after=1,
        )
    elif kind == "some-entries-refused":
        # The first call puts seven of its ten; the outbox must not count
        # that as success (it raises before the second call).
        faults.refuse_last_entries(3)
    else:
        faults.crash_after("events", "PutEvents")


@pytest.mark.parametrize(
    ("kind", "published_before_crash"),
    [("put-events-raises-mid-batch", 10), ("some-entries-refused", 7), ("crash-after-publish", 10)],
)
def test_an_outbox_crash_mid_batch_loses_no_event_and_duplicates_no_email(
    api, pipeline, faults, kind, published_before_crash
):
    orders = place_orders(api, 12)  # twelve events: two PutEvents calls of ten and two
    outbox_crash(kind, faults)

    batch = pipeline.deliver_stream()
    delivery = pipeline.run_until_quiet()

    # Lambda handed the stream batch over again, whole, after the crash.
    assert (batch.invocations, batch.crashes) == (2, 1)
    assert faults.injected["PutEvents"] > 0
    # Events accepted before the crash went out twice, and were received twice.
    assert delivery.receives == len(orders) + published_before_crash
    assert delivery.failures == 0
    assert sent(pipeline, orders) == expected_placement_mails(orders)
    assert pipeline.dead_letters() == []


# --- 5. Everything delivered twice ---------------------------------------------------------


def test_every_stream_record_and_every_message_delivered_twice_mails_each_email_once(api, pipeline):
    kept, paid, cancelled = place_orders(api, 3, methods=["card", "bank_transfer", "card"])
    r = api.admin("POST", f"/admin/orders/{paid['id']}/payments", {"bank_reference": "SEPA-001"})
    assert r.status_code == 200, r.json
    r = api.cancel(cancelled, "ordered the wrong tea")
    assert r.status_code == 200, r.json

    received = 0
    for _ in range(10):
        records = pipeline.new_stream_records()
        for _ in range(2):  # the stream delivers each batch twice
            pipeline.publish(records)
        event = pipeline.receive()
        if not event["Records"]:
            break
        received += len(event["Records"])
        for _ in range(2):  # SQS delivers each message twice
            assert pipeline.consume(event) == []

    history = sum(
        len(bootstrap.context().orders.get(o["id"]).history) for o in (kept, paid, cancelled)
    )
    assert received == 2 * history  # every event reached the queue twice
    placed = expected_placement_mails([kept, paid, cancelled])
    # One email per (order, kind): besides the placement mails, the payment
    # receipt and the cancellation, each to its customer.
    assert sent(pipeline, [kept, paid, cancelled]) == placed + Counter(
        {
            ("customer1@example.com", paid["number"]): 1,
            ("customer2@example.com", cancelled["number"]): 1,
        }
    )
    subjects = Counter((m.to, m.subject) for m in pipeline.mails())
    assert set(subjects.values()) == {1}
