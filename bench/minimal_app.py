"""The yardstick for bench/cold_start.py: the smallest Chalice + boto3 app
with the same handlers as ours, each making the AWS calls its counterpart
cannot avoid (no validation, no logging, no templates, no domain).

- GET /products/{sku}: one DynamoDB GetItem.
- POST /orders: parse the JSON body, one TransactWriteItems of two puts.
- POST /webhooks/payments/{provider}: an HMAC check, one conditional
  PutItem (the receipt) and one SQS SendMessage.
- send_notifications: one SES v2 SendEmail per record.
- apply_payment_events: one DynamoDB UpdateItem per record.
- publish_order_events: one EventBridge PutEvents per batch.
- expire_unpaid_orders: one DynamoDB Query.

Settings come from the same environment variables as the real app's
(``SHOP_*``), so both talk to the same table, queues and bus.
"""

import hashlib
import hmac
import json
import os
import uuid

import boto3
from chalice import Chalice, Rate, Response

app = Chalice(app_name="minimal")
_clients: dict = {}


def client(name):
    if name not in _clients:
        _clients[name] = boto3.client(name)
    return _clients[name]


TABLE = os.environ.get("SHOP_TABLE_NAME", "shop")
# Its own keys in the shared table: the stack floor (bench/stack_floor_app.py)
# runs these handlers too, with the same events, and must not find the
# minimal app's receipt of a callback already there.
PREFIX = os.environ.get("BENCH_KEY_PREFIX", "MINIMAL")


@app.route("/products/{sku}", methods=["GET"])
def get_product(sku):
    item = client("dynamodb").get_item(
        TableName=TABLE, Key={"PK": {"S": f"PRODUCT#{sku}"}, "SK": {"S": "PRODUCT"}}
    )
    return {"sku": sku, "found": "Item" in item}


@app.route("/orders", methods=["POST"])
def place_order():
    body = app.current_request.json_body
    order_id = str(uuid.uuid4())
    client("dynamodb").transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {
                        "PK": {"S": f"{PREFIX}#{order_id}"},
                        "SK": {"S": sk},
                        "lines": {"N": str(len(body["lines"]))},
                    },
                }
            }
            for sk in ("ORDER", "KEY")
        ]
    )
    return Response({"id": order_id}, status_code=201)


@app.route("/webhooks/payments/{provider}", methods=["POST"])
def payment_callback(provider):
    request = app.current_request
    raw = request.raw_body
    parts = dict(p.split("=", 1) for p in request.headers["stripe-signature"].split(","))
    expected = hmac.new(b"whsec_local", f"{parts['t']}.".encode() + raw, hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), parts["v1"]):
        return Response({"code": "invalid_signature"}, status_code=400)
    event = json.loads(raw)
    client("dynamodb").put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"{PREFIX}#{event['id']}"}, "SK": {"S": "RECEIPT"}},
        ConditionExpression="attribute_not_exists(PK)",
    )
    client("sqs").send_message(
        QueueUrl=os.environ["SHOP_PAYMENT_EVENTS_QUEUE_URL"],
        MessageBody=raw.decode(),
        MessageGroupId=provider,
        MessageDeduplicationId=event["id"],
    )
    return {"received": True}


@app.on_sqs_message(queue="notifications", batch_size=10)
def send_notifications(event):
    for record in event:
        client("sesv2").send_email(
            FromEmailAddress=os.environ["BENCH_SENDER"],
            Destination={"ToAddresses": ["customer@example.com"]},
            Content={
                "Simple": {
                    "Subject": {"Data": "Your order"},
                    "Body": {"Text": {"Data": record.body[:100]}},
                }
            },
        )
    return {"batchItemFailures": []}


@app.on_sqs_message(queue="payment-events.fifo", batch_size=10)
def apply_payment_events(event):
    for record in event:
        client("dynamodb").update_item(
            TableName=TABLE,
            Key={"PK": {"S": f"{PREFIX}#{record.receipt_handle[:40]}"}, "SK": {"S": "PAYMENT"}},
            UpdateExpression="SET body = :b",
            ExpressionAttributeValues={":b": {"S": record.body[:100]}},
        )
    return {"batchItemFailures": []}


@app.on_dynamodb_record(stream_arn="arn:aws:dynamodb:eu-central-1:123456789012:table/x/stream/x")
def publish_order_events(event):
    entries = [
        {
            "Source": "minimal",
            "DetailType": "Record",
            "Detail": json.dumps({"keys": str(record.keys)}),
            "EventBusName": os.environ["SHOP_EVENT_BUS_NAME"],
        }
        for record in event
    ][:10]
    if entries:
        client("events").put_events(Entries=entries)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    found = client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{PREFIX}#DUE"}},
    )
    return {"due": found["Count"]}
