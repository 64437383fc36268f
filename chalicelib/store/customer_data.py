"""Everything the table holds about one email address (the CustomerData
port, docs/gdpr.md), found without a Scan:

- orders through ``by_customer`` (``EMAIL#<address>``), then each order's
  partition (the order, its history, its shipments), its number, its
  payment references (named by the order's payments), its shipments'
  tracking claims, the email receipts in ``EMAILRECEIPT#<order id>`` and the
  payment callbacks' receipts (``by_subject``, ``SUBJECT#ORDER#<order id>``);
- carts and opt-out links through ``by_subject`` (``SUBJECT#<hash>``), then
  each cart's partition (the cart and its events) and its email receipts;
- the suppression entry and earlier requests, keyed by the address's hash.

Indexes are eventually consistent: an item written a moment before the
request may be missed; the erasure writes the suppression entry first, so a
cart created meanwhile is never nudged (docs/gdpr.md, "Races").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from chalicelib.domain.data_requests import DataRequest, StoredItem, normalised_email, subject_hash
from chalicelib.store import keys, schema
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.payments import payment_key


class DynamoCustomerData:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def find(self, email: str) -> Sequence[StoredItem]:
        address = normalised_email(email)
        email_hash = subject_hash(address)
        found: list[StoredItem] = []
        for order_id in self._order_ids(address):
            found.extend(self._order_items(order_id))
        for item in self._query_index(schema.BY_SUBJECT, keys.subject_key(email_hash)):
            if item.get("entity") == "cart":
                found.extend(self._partition(keys.cart(item["id"])["PK"], "cart"))
                found.extend(self._partition(f"EMAILRECEIPT#{item['id']}", "cart"))
            else:
                found.append(_stored(item, "address"))
        suppression = self._get(keys.suppression(email_hash))
        if suppression is not None:
            found.append(_stored(suppression, "address"))
        found.extend(self._partition(keys.data_request_partition(email_hash), "address"))
        return found

    def delete(self, items: Sequence[StoredItem]) -> int:
        for item in items:
            self._client.delete_item(TableName=self._table, Key=to_dynamo(dict(item.key)))
        return len(items)

    def record(self, request: DataRequest) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_dynamo(
                {
                    **keys.data_request(request.subject_hash, request.requested_at, request.id),
                    "entity": "data_request",
                    "id": request.id,
                    "kind": request.kind.value,
                    "subject_hash": request.subject_hash,
                    "requested_at": request.requested_at.isoformat(),
                    "completed_at": (
                        request.completed_at.isoformat() if request.completed_at else None
                    ),
                    "actor": request.actor,
                    "outcome": {
                        entity: asdict(outcome) for entity, outcome in request.outcome.items()
                    },
                    "expires_at": int(request.expires_at.timestamp()),
                }
            ),
            ConditionExpression="attribute_not_exists(PK)",
        )

    # --- reads -----------------------------------------------------------------------

    def _order_ids(self, address: str) -> list[str]:
        return [
            item["id"]
            for item in self._query_index(schema.BY_CUSTOMER, keys.customer_key(address))
            if item.get("entity") == "order"
        ]

    def _order_items(self, order_id: str) -> list[StoredItem]:
        found = self._partition(keys.order_partition(order_id), "order")
        order = next((item.data for item in found if item.entity == "order"), None)
        if order is None:  # deleted since the index was read
            return found
        wanted = [keys.order_number(order["number"])]
        wanted += [payment_key(p["provider"], p["reference"]) for p in order.get("payments", [])]
        wanted += [
            keys.tracking_number(item.data["carrier"], item.data["tracking_number"])
            for item in found
            if item.entity == "shipment"
        ]
        for key in wanted:
            item = self._get(key)
            if item is not None:
                found.append(_stored(item, "order"))
        found.extend(self._partition(f"EMAILRECEIPT#{order_id}", "order"))
        # The payment callbacks' receipts name the order (by_subject).
        found.extend(
            _stored(item, "order")
            for item in self._query_index(schema.BY_SUBJECT, keys.order_subject_key(order_id))
        )
        return found

    def _partition(self, pk: str, found_via: str) -> list[StoredItem]:
        return [
            _stored(item, found_via)
            for item in self._pages(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues=to_dynamo({":pk": pk}),
                ConsistentRead=True,
            )
        ]

    def _query_index(self, index: schema.Index, value: str) -> Iterator[dict[str, Any]]:
        return self._pages(
            IndexName=index.name,
            KeyConditionExpression="#key = :value",
            ExpressionAttributeNames={"#key": index.partition_key},
            ExpressionAttributeValues=to_dynamo({":value": value}),
        )

    def _pages(self, **query: Any) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            page = self._client.query(
                TableName=self._table, **query, **({"ExclusiveStartKey": start} if start else {})
            )
            for item in page.get("Items", []):
                yield from_dynamo(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(dict(key)), ConsistentRead=True
        )
        return from_dynamo(response["Item"]) if "Item" in response else None


def _stored(item: dict[str, Any], found_via: str) -> StoredItem:
    # Items written before every kind carried an entity are named by their key.
    entity = str(item.get("entity") or _entity_of(item["PK"]))
    return StoredItem(
        entity=entity,
        key={"PK": item["PK"], "SK": item["SK"]},
        data={k: v for k, v in item.items() if k not in ("PK", "SK")},
        found_via=found_via,
    )


def _entity_of(pk: str) -> str:
    prefix = pk.split("#", 1)[0]
    return {"EMAILRECEIPT": "email_receipt", "SUPPRESS": "suppression"}.get(prefix, prefix.lower())
