"""Reads of the sparse sweep indexes PAYMENT_DUE and NUDGE_DUE.

Each index is sharded (``DUE#0`` .. ``DUE#n-1``, see store/schema.py); a
sweep queries every shard for keys at or before a moment, so what it reads is
proportional to what is due, never to the table. Index reads are eventually
consistent: the sweeps re-check every candidate with a conditional write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.domain.cart import Cart
from chalicelib.domain.order import Order, PaymentMethod
from chalicelib.services.ports import DuePage
from chalicelib.store import schema
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.carts import cart_from_item
from chalicelib.store.keys import WITHDRAWAL_OPEN, due_at
from chalicelib.store.mapping import order_from_item

T = TypeVar("T")
#: How many index items a filtered sweep (the reminders) may read per match it
#: wants. Reminders are filtered (bank transfer, not yet reminded) from every
#: order due within the reminder lead; see docs/schedules.md.
_FILTERED_READS_PER_MATCH = 20


class DynamoSweepIndex:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def orders_due(self, *, until: datetime, limit: int) -> DuePage[Order]:
        return self._due(
            schema.PAYMENT_DUE,
            {"range": "#due <= :until", ":until": due_at(until)},
            limit,
            order_from_item,
        )

    def orders_to_remind(self, *, after: datetime, until: datetime, limit: int) -> DuePage[Order]:
        return self._due(
            schema.PAYMENT_DUE,
            {
                "range": "#due BETWEEN :after AND :until",
                ":after": due_at(after),
                ":until": due_at(until),
                # Applied after the read: what is read still counts.
                "filter": "payment_method = :method AND "
                "attribute_not_exists(payment_reminder_sent_at)",
                ":method": PaymentMethod.BANK_TRANSFER.value,
            },
            limit,
            order_from_item,
        )

    def carts_due(self, *, until: datetime, limit: int) -> DuePage[Cart]:
        return self._due(
            schema.NUDGE_DUE,
            {"range": "#due <= :until", ":until": due_at(until)},
            limit,
            cart_from_item,
        )

    def open_withdrawals(self, *, limit: int) -> DuePage[Order]:
        found: list[Order] = []
        read = 0
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.BY_WITHDRAWAL.name,
            "KeyConditionExpression": f"{schema.BY_WITHDRAWAL.partition_key} = :open",
            "ExpressionAttributeValues": to_dynamo({":open": WITHDRAWAL_OPEN}),
        }
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            response = self._client.query(**request)
            read += response["ScannedCount"]
            found.extend(order_from_item(from_dynamo(item)) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return DuePage(items=found, items_read=read)

    def _due(
        self,
        index: schema.Index,
        query: dict[str, str],
        limit: int,
        parse: Callable[[dict[str, Any]], T],
    ) -> DuePage[T]:
        found: list[T] = []
        read = 0
        # An even share per shard, so one busy shard cannot starve the others;
        # what is left over is taken by the next run.
        per_shard = max(1, -(-limit // schema.SWEEP_SHARDS))
        for shard in range(schema.SWEEP_SHARDS):
            for page in self._pages(index, f"DUE#{shard}", query, per_shard):
                read += page["ScannedCount"]
                found.extend(parse(from_dynamo(item)) for item in page["Items"])
        return DuePage(items=found, items_read=read)

    def _pages(
        self, index: schema.Index, shard: str, query: dict[str, str], wanted: int
    ) -> Iterator[dict[str, Any]]:
        values = {":shard": shard, **{k: v for k, v in query.items() if k.startswith(":")}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index.name,
            "KeyConditionExpression": f"{index.partition_key} = :shard AND {query['range']}",
            "ExpressionAttributeNames": {"#due": index.sort_key},
            "ExpressionAttributeValues": to_dynamo(values),
        }
        if "filter" in query:
            request["FilterExpression"] = query["filter"]
        got = read = 0
        # A filtered query reads items it then drops; the read budget bounds
        # one run's work even when most candidates are filtered out.
        budget = wanted * _FILTERED_READS_PER_MATCH if "filter" in query else wanted
        while got < wanted and read < budget:
            request["Limit"] = (budget - read) if "filter" in query else (wanted - got)
            response = self._client.query(**request)
            got += len(response.get("Items", []))
            read += response["ScannedCount"]
            yield response
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
