"""The order desk's listing on DynamoDB: every filter served by a key or an
index, never a Scan.

The most selective filter picks the key: the order number (a GetItem), the
customer's email (by_customer), the status (by_status), the payment status
(by_payment_status), the payment method (by_payment_method), or else the
month of creation (by_month, walked newest month first). The date range is
always part of the key condition (every index sorts by ``listed_at``, the
creation time); the other filters become a FilterExpression. A page reads at
most ``READ_FACTOR`` times its size, so its cost follows the page size and
never the table's.
"""

from __future__ import annotations

from typing import Any

from chalicelib.services.ports import DeskPage, DeskPosition, DeskQuery
from chalicelib.store import keys, schema
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.mapping import order_from_item

#: A page reads at most this many items per order it may return. A rare
#: combination of filters then yields short pages with a next cursor rather
#: than one request that reads a whole index.
READ_FACTOR = 5


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def _listed_bound(moment: Any) -> str:
    return keys.due_at(moment)  # UTC ISO text, as listed_at starts


class DynamoOrderDesk:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def search(
        self,
        query: DeskQuery,
        *,
        limit: int,
        start: DeskPosition | None,
        newest_month: str,
        oldest_month: str,
    ) -> DeskPage:
        if query.number is not None:
            return self._by_number(query)
        index, key_value, filters = plan(query)
        month = None
        if index is schema.BY_MONTH:
            month = start.month if start is not None and start.month else newest_month
            key_value = f"MONTH#{month}"
        after = start.after if start is not None else None
        orders: list[Any] = []
        read, budget = 0, limit * READ_FACTOR
        while True:
            request = self._request(index, key_value, query, filters, after)
            request["Limit"] = min(limit - len(orders), budget - read)
            response = self._client.query(**request)
            read += response.get("ScannedCount", 0)
            orders.extend(order_from_item(from_dynamo(i)) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if last is not None:
                after = from_dynamo(last)["listed_at"]
            elif month is not None and month > oldest_month:
                month, after = previous_month(month), None
                key_value = f"MONTH#{month}"
            else:
                return DeskPage(orders=orders, next=None, items_read=read, index=index.name)
            if len(orders) >= limit or read >= budget:
                return DeskPage(
                    orders=orders,
                    next=DeskPosition(month=month, after=after),
                    items_read=read,
                    index=index.name,
                )

    def _request(
        self,
        index: schema.Index,
        key_value: str,
        query: DeskQuery,
        filters: dict[str, str],
        after: str | None,
    ) -> dict[str, Any]:
        names = {"#pk": index.partition_key}
        values: dict[str, Any] = {":pk": key_value}
        condition = "#pk = :pk"
        if query.created_from is not None or query.created_to is not None:
            names["#at"] = index.sort_key
        if query.created_from is not None and query.created_to is not None:
            condition += " AND #at BETWEEN :from AND :to"
            values[":from"] = _listed_bound(query.created_from)
            values[":to"] = _listed_bound(query.created_to)
        elif query.created_from is not None:
            condition += " AND #at >= :from"
            values[":from"] = _listed_bound(query.created_from)
        elif query.created_to is not None:
            condition += " AND #at < :to"
            values[":to"] = _listed_bound(query.created_to)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index.name,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,  # newest first
        }
        parts = []
        for i, (attribute, value) in enumerate(sorted(filters.items())):
            names[f"#f{i}"] = attribute
            values[f":f{i}"] = value
            parts.append(f"#f{i} = :f{i}")
        if query.name:
            # Part of the name as written: a filter on what the key read, never a key.
            names["#customer"], names["#name"] = "customer", "name"
            values[":name"] = query.name
            parts.append("contains(#customer.#name, :name)")
        if parts:
            request["FilterExpression"] = " AND ".join(parts)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = to_dynamo(values)
        if after is not None:
            order_id = after.rpartition("#")[2]
            request["ExclusiveStartKey"] = to_dynamo(
                {
                    **keys.order(order_id),
                    index.partition_key: key_value,
                    index.sort_key: after,
                }
            )
        return request

    def _by_number(self, query: DeskQuery) -> DeskPage:
        number = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.order_number(query.number or ""))
        ).get("Item")
        if number is None:
            return DeskPage(orders=[], next=None, items_read=1, index="order_number")
        order_id = from_dynamo(number)["order_id"]
        item = self._client.get_item(TableName=self._table, Key=to_dynamo(keys.order(order_id)))
        orders = [order_from_item(from_dynamo(item["Item"]))] if "Item" in item else []
        return DeskPage(
            orders=[o for o in orders if matches(o, query)],
            next=None,
            items_read=2,
            index="order_number",
        )


def plan(query: DeskQuery) -> tuple[schema.Index, str, dict[str, str]]:
    """The index to query, its key, and the filters left for the FilterExpression.
    Most selective first: one customer's orders are few; a status splits
    the table in eight, a payment status in four, a payment method in three."""
    candidates: list[tuple[str | None, schema.Index, str, str]] = [
        (query.email, schema.BY_CUSTOMER, "customer_key", keys.customer_key(query.email or "")),
        # Open withdrawals are few: after one customer's orders, the most selective.
        (query.withdrawal, schema.BY_WITHDRAWAL, "withdrawal_key", keys.WITHDRAWAL_OPEN),
        (query.status, schema.BY_STATUS, "status", keys.status_key(query.status or "")),
        (
            query.payment_status,
            schema.BY_PAYMENT_STATUS,
            "payment_status",
            keys.payment_status_key(query.payment_status or ""),
        ),
        (
            query.payment_method,
            schema.BY_PAYMENT_METHOD,
            "payment_method",
            keys.payment_method_key(query.payment_method or ""),
        ),
    ]
    chosen: tuple[schema.Index, str] | None = None
    filters: dict[str, str] = {}
    for given, index, attribute, key_value in candidates:
        if given is None:
            continue
        if chosen is None:
            chosen = (index, key_value)
        elif attribute in ("customer_key", "withdrawal_key"):
            filters[attribute] = key_value
        else:
            filters[attribute] = given
    if chosen is None:
        return schema.BY_MONTH, "", filters
    return chosen[0], chosen[1], filters


def matches(order: Any, query: DeskQuery) -> bool:
    """Whether an order passes every filter (the number lookup's check)."""
    return (
        (query.status is None or order.status.value == query.status)
        and (query.payment_status is None or order.payment_status.value == query.payment_status)
        and (query.payment_method is None or order.payment_method.value == query.payment_method)
        and (query.email is None or order.customer.email.lower() == query.email.lower())
        and (query.created_from is None or order.created_at >= query.created_from)
        and (query.created_to is None or order.created_at < query.created_to)
        and (query.number is None or order.number == query.number)
        and (not query.name or query.name in order.customer.name)
        and (
            query.withdrawal is None
            or any(w.refunded_at is None for w in getattr(order, "withdrawals", ()))
        )
    )
