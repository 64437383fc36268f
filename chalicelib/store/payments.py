"""Webhook receipts and payment lookups in the single table.

- ``WEBHOOK#<provider>#<event id>``: one receipt per provider event, written
  with a conditional put, deleted by TTL after ``webhook_receipt_ttl_days``.
- ``PAYREF#<provider>#<payment reference>``: the order a payment belongs to.
- ``ORDERNO#<number>``: written by placement; read here for bank transfers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import is_conditional_check_failure


def receipt_key(provider: str, event_id: str) -> dict[str, str]:
    return {"PK": f"WEBHOOK#{provider}#{event_id}", "SK": "RECEIPT"}


def payment_key(provider: str, reference: str) -> dict[str, str]:
    return {"PK": f"PAYREF#{provider}#{reference}", "SK": "PAYREF"}


class DynamoPaymentRecords:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def claim_receipt(
        self,
        provider: str,
        event_id: str,
        *,
        order_id: str,
        event_type: str,
        received_at: datetime,
        expires_at: int,
    ) -> bool:
        item = {
            **receipt_key(provider, event_id),
            "entity": "webhook_receipt",
            "provider": provider,
            "event_id": event_id,
            "event_type": event_type,
            "order_id": order_id,
            "received_at": received_at.isoformat(),
            "handed_on": False,
            "expires_at": expires_at,
        }
        if order_id:
            # A data request finds the order's callbacks (docs/gdpr.md).
            item["subject_key"] = keys.order_subject_key(order_id)
            item["subject_item"] = item["PK"]
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(item),
                ConditionExpression="attribute_not_exists(PK)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
            previous = from_dynamo(exc.response.get("Item", {}))
            return not previous.get("handed_on", False)
        return True

    def mark_handed_on(self, provider: str, event_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_dynamo(receipt_key(provider, event_id)),
            UpdateExpression="SET handed_on = :true",
            ExpressionAttributeValues=to_dynamo({":true": True}),
        )

    def remember_payment(self, provider: str, reference: str, order_id: str) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_dynamo(
                {
                    **payment_key(provider, reference),
                    "entity": "payment_reference",
                    "order_id": order_id,
                }
            ),
        )

    def order_for_payment(self, provider: str, reference: str) -> str | None:
        return self._order_id(payment_key(provider, reference))

    def order_for_number(self, number: str) -> str | None:
        return self._order_id(keys.order_number(number))

    def _order_id(self, key: dict[str, str]) -> str | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(key), ConsistentRead=True
        )
        item = from_dynamo(response.get("Item", {}))
        return item.get("order_id")
