"""Orders in DynamoDB: placement and every later change as one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.errors import (
    CatalogChanged,
    ConcurrentUpdate,
    DiscountCodeAlreadyUsed,
    DiscountCodeUsedUp,
    InsufficientStock,
    OrderNotFound,
    ShippingMethodRequired,
)
from chalicelib.domain.order import DiscountUse, OrderChange, Placement, ShippingCheck, StockMove
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
        # After the items above, so their reasons keep their positions; each
        # optional item's position is remembered for explaining a refusal.
        at: dict[str, int] = {}
        if placement.converts_cart is not None:
            # Imported only for a cart's checkout: placing from lines (most
            # checkouts) needs none of the cart rules (docs/performance.md).
            from chalicelib.store.carts import conversion_update

            at["cart"] = len(items)
            items.append(
                conversion_update(self._table, placement.converts_cart, order.id, order.created_at)
            )
        if placement.shipping_check is not None:
            at["shipping"] = len(items)
            items.append(self._shipping_check(placement.shipping_check))
        if placement.discount_use is not None:
            at["code"] = len(items)
            items.append(self._code_use(placement.discount_use))
            if placement.discount_use.customer_key is not None:
                at["claim"] = len(items)
                items.append(self._customer_claim(placement.discount_use))
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            self._explain_placement_failure(placement, reasons, at)
            raise

    def _explain_placement_failure(
        self, placement: Placement, reasons: list[dict[str, Any]], at: dict[str, int]
    ) -> None:
        moves = placement.stock_moves
        number_reason, idempotency_reason = reasons[len(moves) + 1], reasons[len(moves) + 3]

        def failed(name: str) -> dict[str, Any] | None:
            """The item ``name``'s old values if its condition failed."""
            if name not in at or reasons[at[name]].get("Code") != "ConditionalCheckFailed":
                return None
            return from_dynamo(reasons[at[name]].get("Item", {}))

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

            explain_conversion_failure(placement.converts_cart, reasons[at["cart"]])
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
        changed.extend(self._explain_terms_failure(placement, failed))
        if changed:
            raise CatalogChanged("products changed while ordering", skus=changed)
        if number_reason.get("Code") == "ConditionalCheckFailed":
            raise OrderNumberTaken()

    @staticmethod
    def _explain_terms_failure(
        placement: Placement, failed: Callable[[str], dict[str, Any] | None]
    ) -> list[str]:
        """Raise the refusal of the code or the shipping terms, or name the
        terms that changed since they were read (a re-read and re-price)."""
        changed = []
        use = placement.discount_use
        code = failed("code")
        if use is not None and code is not None:
            if code.get("version") != use.version:
                changed.append(f"discount code {use.code}")  # changed by the merchant
            else:
                raise DiscountCodeUsedUp("this discount code has been used up", code=use.code)
        if use is not None and failed("claim") is not None:
            raise DiscountCodeAlreadyUsed("you have already used this code", code=use.code)
        if failed("shipping") is not None:
            check = placement.shipping_check
            if check is not None and check.location_id is not None:
                changed.append(f"pickup location {check.location_id}")
            elif check is None or check.method_id is None:
                raise ShippingMethodRequired("choose one of the shop's shipping methods")
            changed.append(f"shipping method {check.method_id}")
        return changed

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
        if change.discount_release is not None:
            # Last, so the claims' reasons above keep their positions.
            items.extend(self._code_release(change.discount_release))
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
            released = (
                0
                if change.discount_release is None
                else len(self._code_release(change.discount_release))
            )
            claim_reasons = reasons[len(reasons) - released - len(change.claims) :]
            for claim, reason in zip(
                change.claims, claim_reasons[: len(change.claims)], strict=True
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

    def _shipping_check(self, check: ShippingCheck) -> dict[str, Any]:
        if check.location_id is not None:
            # A pickup: the location as priced (a switched-off one moved on).
            return {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": to_dynamo(keys.pickup_location(check.location_id)),
                    "ConditionExpression": "version = :version",
                    "ExpressionAttributeValues": to_dynamo({":version": check.version}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        if check.method_id is None:
            # No method chosen: only while the shop offers none.
            return {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": to_dynamo(keys.active_shipping_methods()),
                    "ConditionExpression": "attribute_not_exists(active_ids)",
                }
            }
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_dynamo(keys.shipping_method(check.method_id)),
                "ConditionExpression": "version = :version",
                "ExpressionAttributeValues": to_dynamo({":version": check.version}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _code_use(self, use: DiscountUse) -> dict[str, Any]:
        """One more use, only while the code (at the version priced) has uses
        left: this condition is what keeps a code from being over-redeemed."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(keys.discount_code(use.code)),
                "UpdateExpression": "ADD uses :one",
                "ConditionExpression": (
                    "version = :version AND active = :true "
                    "AND (attribute_not_exists(usage_limit) OR uses < usage_limit)"
                ),
                "ExpressionAttributeValues": to_dynamo(
                    {":one": 1, ":version": use.version, ":true": True}
                ),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _customer_claim(self, use: DiscountUse) -> dict[str, Any]:
        assert use.customer_key is not None
        return self._put(
            {
                **keys.discount_claim(use.code, use.customer_key),
                "entity": "discount_claim",
                "order_id": use.order_id,
            },
            "attribute_not_exists(PK)",
        )

    def _code_release(self, use: DiscountUse) -> list[dict[str, Any]]:
        """Give a use back. The order's own condition (status and version)
        makes this happen once; the claim goes only if this order made it."""
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo(keys.discount_code(use.code)),
                    "UpdateExpression": "ADD uses :minus_one",
                    "ExpressionAttributeValues": to_dynamo({":minus_one": -1}),
                }
            }
        ]
        if use.customer_key is not None:
            items.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": to_dynamo(keys.discount_claim(use.code, use.customer_key)),
                    }
                }
            )
        return items

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
