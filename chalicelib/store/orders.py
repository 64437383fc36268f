"""Orders in DynamoDB: placement and every later change as one transaction."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import (
    CatalogChanged,
    ConcurrentUpdate,
    InsufficientStock,
    OrderNotFound,
)
from chalicelib.domain.order import OrderChange, Placement, StockMove
from chalicelib.services.ports import (
    DuplicateRequest,
    IdempotencyRecord,
    OrderNumberTaken,
    OrderRecord,
)
from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import RETRYABLE_CANCELLATION_CODES, cancellation_reasons
from chalicelib.store.mapping import (
    claim_item,
    claim_refused,
    history_from_item,
    history_to_item,
    order_from_item,
    order_to_item,
    shipment_from_item,
    shipment_to_item,
)

_COUNTERS = ("available", "reserved", "shipped", "restocked")


class DynamoOrders:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # --- placement -----------------------------------------------------------

    def place(self, placement: Placement, idempotency: IdempotencyRecord) -> None:
        order = placement.order
        stock = [self._stock_update(move) for move in placement.stock_moves]
        items = [
            *stock,
            self._put(order_to_item(order), "attribute_not_exists(PK)"),
            self._put(
                {**keys.order_number(order.number), "entity": "order_number", "order_id": order.id},
                "attribute_not_exists(PK)",
            ),
            self._put(history_to_item(order, placement.history, 0), None),
            self._put(
                {
                    **keys.idempotency(idempotency.key_hash),
                    "entity": "idempotency",
                    "fingerprint": idempotency.fingerprint,
                    "order_id": idempotency.order_id,
                    "token_salt": idempotency.token_salt,
                    "expires_at": idempotency.expires_at,
                },
                "attribute_not_exists(PK)",
            ),
        ]
        if placement.converts_cart is not None:
            # Imported only for a cart's checkout: placing from lines (most
            # checkouts) needs none of the cart rules (docs/performance.md).
            from chalicelib.store.carts import conversion_update

            # Last, so the reasons of the items above keep their positions.
            items.append(
                conversion_update(self._table, placement.converts_cart, order.id, order.created_at)
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            self._explain_placement_failure(placement, reasons)
            raise

    def _explain_placement_failure(
        self, placement: Placement, reasons: list[dict[str, Any]]
    ) -> None:
        moves = placement.stock_moves
        number_reason, idempotency_reason = reasons[len(moves) + 1], reasons[len(moves) + 3]
        # A replayed request is told first: its stock was reserved by the
        # original, so its own reservations may well fail too.
        if idempotency_reason.get("Code") == "ConditionalCheckFailed":
            previous = from_dynamo(idempotency_reason.get("Item", {}))
            raise DuplicateRequest(
                IdempotencyRecord(
                    key_hash=previous["PK"].removeprefix("IDEMPOTENCY#"),
                    fingerprint=previous["fingerprint"],
                    order_id=previous["order_id"],
                    token_salt=previous["token_salt"],
                    expires_at=previous["expires_at"],
                )
            )
        if any(r.get("Code") in RETRYABLE_CANCELLATION_CODES for r in reasons):
            raise ConcurrentUpdate("the order could not be placed right now; try again")
        if placement.converts_cart is not None:
            from chalicelib.store.carts import explain_conversion_failure

            explain_conversion_failure(placement.converts_cart, reasons[-1])
        shortages, changed = [], []
        for move, reason in zip(moves, reasons, strict=False):
            if reason.get("Code") != "ConditionalCheckFailed":
                continue
            current = from_dynamo(reason.get("Item", {}))
            if not current:
                changed.append(move.sku)  # deleted since we read the catalog
            elif current["available"] < -move.available:
                shortages.append(
                    {
                        "sku": move.sku,
                        "requested": -move.available,
                        "available": current["available"],
                    }
                )
            else:
                changed.append(move.sku)
        if shortages:
            raise InsufficientStock("not enough stock for some lines", lines=shortages)
        if changed:
            raise CatalogChanged("products changed while ordering", skus=changed)
        if number_reason.get("Code") == "ConditionalCheckFailed":
            raise OrderNumberTaken()

    # --- reads ---------------------------------------------------------------

    def get(self, order_id: str) -> OrderRecord:
        """The order item and its history in one Query on its partition."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": to_dynamo({":pk": keys.order_partition(order_id)}),
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**request)
            items.extend(from_dynamo(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        order_items = [item for item in items if item.get("entity") == "order"]
        if not order_items:
            raise OrderNotFound("no such order", order_id=order_id)
        history = [history_from_item(item) for item in items if item.get("entity") == "history"]
        shipments = sorted(
            (shipment_from_item(item) for item in items if item.get("entity") == "shipment"),
            key=lambda s: (s.shipped_at, s.id),
        )
        return OrderRecord(
            order=order_from_item(order_items[0]), history=history, shipments=shipments
        )

    def shipment_for_tracking(self, carrier: str, tracking_number: str) -> tuple[str, str] | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.tracking_number(carrier, tracking_number))
        )
        item = from_dynamo(response.get("Item", {}))
        return (item["order_id"], item["shipment_id"]) if item else None

    # --- changes -------------------------------------------------------------

    def apply(self, change: OrderChange) -> None:
        order = change.order
        items = [
            self._put(
                order_to_item(order),
                "#status = :expected_status AND version = :expected_version",
                names={"#status": "status"},
                values={
                    ":expected_status": change.expected_status.value,
                    ":expected_version": change.expected_version,
                },
            ),
            *(
                self._put(history_to_item(order, entry, index), None)
                for index, entry in enumerate(change.history)
            ),
            *(self._stock_update(move) for move in change.stock_moves),
            # Fulfilment, last so the reasons above keep their positions.
            *(self._put(shipment_to_item(s), None) for s in change.shipments),
            *(self._put(claim_item(c), "attribute_not_exists(PK)") for c in change.claims),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            if reasons[0].get("Code") == "ConditionalCheckFailed" or any(
                r.get("Code") in RETRYABLE_CANCELLATION_CODES for r in reasons
            ):
                raise ConcurrentUpdate("the order changed meanwhile", order_id=order.id) from exc
            for claim, reason in zip(
                change.claims, reasons[len(reasons) - len(change.claims) :], strict=True
            ):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise claim_refused(claim) from exc
            short = [
                move.sku
                for move, reason in zip(
                    change.stock_moves, reasons[1 + len(change.history) :], strict=False
                )
                if reason.get("Code") == "ConditionalCheckFailed"
            ]
            raise InsufficientStock("stock counters do not allow this change", skus=short) from exc

    # --- item builders -------------------------------------------------------

    def _put(
        self,
        item: dict[str, Any],
        condition: str | None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": to_dynamo(item)}
        if condition:
            put["ConditionExpression"] = condition
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = to_dynamo(values)
        return {"Put": put}

    def _stock_update(self, move: StockMove) -> dict[str, Any]:
        adds, conditions, values = [], ["attribute_exists(PK)"], {}
        for counter in _COUNTERS:
            delta = getattr(move, counter)
            if delta:
                adds.append(f"{counter} :{counter}")
                values[f":{counter}"] = delta
            if delta < 0:
                # Never below zero: this condition is what makes overselling impossible.
                conditions.append(f"{counter} >= :min_{counter}")
                values[f":min_{counter}"] = -delta
        if move.catalog_version is not None:
            conditions.append("catalog_version = :catalog_version")
            values[":catalog_version"] = move.catalog_version
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(keys.product(move.sku)),
                "UpdateExpression": "ADD " + ", ".join(adds),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeValues": to_dynamo(values),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
