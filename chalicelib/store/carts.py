"""Carts in DynamoDB, their events, and the cart side of a placement.

A cart is one item (``CART#<id>`` / ``CART``). It carries the NUDGE_DUE index
keys (``nudge_shard``, ``nudge_due_at``) exactly while the domain says it may
be nudged, so the nudge sweep reads only carts that are due. The nudge writes
the cart, a ``cart_event`` item (published by the outbox like an order's
history entry, see docs/schedules.md) and the opt-out token in one
transaction, conditional on the cart's version and on its address not being
suppressed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.cart import (
    Cart,
    CartEvent,
    CartLine,
    CartNudge,
    CartStatus,
    MarketingConsent,
    email_hash,
)
from chalicelib.domain.errors import CartChanged, CartConverted, CartNotFound, ConcurrentUpdate
from chalicelib.domain.order import CartConversion
from chalicelib.services.ports import AddressSuppressed
from chalicelib.store import keys
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import (
    RETRYABLE_CANCELLATION_CODES,
    cancellation_reasons,
    is_conditional_check_failure,
)

#: Carts (and the email address they hold) are deleted by TTL this long after
#: their last change; a cart nobody touched for that long is not coming back.
CART_RETENTION = timedelta(days=60)
#: Cart events only need to live until the outbox published them.
CART_EVENT_RETENTION = timedelta(days=14)
#: Opt-out links keep working this long after the email was sent.
OPT_OUT_TOKEN_RETENTION = timedelta(days=365)


class DynamoCarts:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, cart: Cart) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_dynamo(cart_to_item(cart)),
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get(self, cart_id: str) -> Cart:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.cart(cart_id)), ConsistentRead=True
        )
        if "Item" not in response:
            raise CartNotFound("no such cart", cart_id=cart_id)
        return cart_from_item(from_dynamo(response["Item"]))

    def save(self, cart: Cart, expected_version: int) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_dynamo(cart_to_item(cart)),
                ConditionExpression="version = :expected AND #status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {":expected": expected_version, ":open": CartStatus.OPEN.value}
                ),
            )
        except ClientError as exc:
            if not is_conditional_check_failure(exc):
                raise
            current = self.get(cart.id)
            if current.status is CartStatus.CONVERTED:
                raise CartConverted(
                    "this cart became an order and can no longer change",
                    cart_id=cart.id,
                    order_id=current.order_id,
                ) from exc
            raise ConcurrentUpdate("the cart changed meanwhile", cart_id=cart.id) from exc

    def nudge(self, nudge: CartNudge) -> None:
        cart, at = nudge.cart, nudge.event.at
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(cart_to_item(cart)),
                    "ConditionExpression": "version = :expected AND #status = :open",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_dynamo(
                        {":expected": nudge.expected_version, ":open": CartStatus.OPEN.value}
                    ),
                }
            },
            {
                # Checked in the transaction itself: an opt-out that lands
                # while the sweep runs still wins.
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": to_dynamo(keys.suppression(nudge.email_hash)),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(cart_event_to_item(cart, nudge.event)),
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_dynamo(
                        {
                            **keys.opt_out_token(nudge.opt_out_token_hash),
                            "entity": "opt_out_token",
                            "email_hash": nudge.email_hash,
                            "cart_id": cart.id,
                            "issued_at": at.isoformat(),
                            "expires_at": _epoch(at + OPT_OUT_TOKEN_RETENTION),
                            # A data request finds the link from the address.
                            "subject_key": keys.subject_key(nudge.email_hash),
                            "subject_item": keys.opt_out_token(nudge.opt_out_token_hash)["PK"],
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            if reasons[1].get("Code") == "ConditionalCheckFailed":
                raise AddressSuppressed() from exc
            if reasons[0].get("Code") == "ConditionalCheckFailed" or any(
                r.get("Code") in RETRYABLE_CANCELLATION_CODES for r in reasons
            ):
                raise ConcurrentUpdate("the cart changed meanwhile", cart_id=cart.id) from exc
            raise


# --- the cart side of a placement (used by store/orders.py) ------------------------------


def conversion_update(
    table: str, conversion: CartConversion, order_id: str, at: datetime
) -> dict[str, Any]:
    """The transaction item that marks a cart converted by an order: only if
    it is still open at the version the order was priced from. Leaving the
    nudge index is part of it: a converted cart is never nudged."""
    return {
        "Update": {
            "TableName": table,
            "Key": to_dynamo(keys.cart(conversion.cart_id)),
            "UpdateExpression": (
                "SET #status = :converted, order_id = :order_id, updated_at = :at, "
                "version = version + :one REMOVE nudge_shard, nudge_due_at"
            ),
            "ConditionExpression": "#status = :open AND version = :expected",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_dynamo(
                {
                    ":converted": CartStatus.CONVERTED.value,
                    ":open": CartStatus.OPEN.value,
                    ":order_id": order_id,
                    ":at": at.isoformat(),
                    ":one": 1,
                    ":expected": conversion.expected_version,
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def explain_conversion_failure(conversion: CartConversion, reason: dict[str, Any]) -> None:
    """Raise what a failed conversion item means (no-op if it did not fail)."""
    if reason.get("Code") != "ConditionalCheckFailed":
        return
    current = from_dynamo(reason.get("Item", {}))
    if not current:
        raise CartNotFound("no such cart", cart_id=conversion.cart_id)
    if current.get("status") == CartStatus.CONVERTED.value:
        raise CartConverted(
            "this cart already became an order",
            cart_id=conversion.cart_id,
            order_id=current.get("order_id"),
        )
    raise CartChanged("the cart changed while ordering", cart_id=conversion.cart_id)


# --- mapping --------------------------------------------------------------------------


def cart_to_item(cart: Cart) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.cart(cart.id),
        "entity": "cart",
        "id": cart.id,
        "token_hash": cart.token_hash,
        "status": cart.status.value,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in cart.lines],
        "email": cart.email,
        "locale": cart.locale,
        "consent": (
            {
                "granted": cart.consent.granted,
                "at": cart.consent.at.isoformat(),
                "source": cart.consent.source,
            }
            if cart.consent
            else None
        ),
        "created_at": cart.created_at.isoformat(),
        "updated_at": cart.updated_at.isoformat(),
        "version": cart.version,
        "order_id": cart.order_id,
        "nudged_at": cart.nudged_at.isoformat() if cart.nudged_at else None,
        "recovery_token_hash": cart.recovery_token_hash,
        "nudge_suppressed": cart.nudge_suppressed or None,
        "expires_at": _epoch(cart.updated_at + CART_RETENTION),
    }
    if cart.email:
        # Sparse: a data request finds the carts that hold an address.
        item["subject_key"] = keys.subject_key(email_hash(cart.email))
        item["subject_item"] = keys.cart(cart.id)["PK"]
    if cart.nudge_due_at is not None:
        # Sparse: only carts that may still be nudged are in the index.
        item["nudge_shard"] = keys.sweep_shard(cart.id)
        item["nudge_due_at"] = keys.due_at(cart.nudge_due_at)
    return item


def cart_from_item(item: dict[str, Any]) -> Cart:
    consent = item.get("consent")
    return Cart(
        id=item["id"],
        token_hash=item["token_hash"],
        status=CartStatus(item["status"]),
        lines=tuple(CartLine(sku=line["sku"], quantity=line["quantity"]) for line in item["lines"]),
        email=item.get("email"),
        locale=item["locale"],
        consent=(
            MarketingConsent(
                granted=consent["granted"],
                at=datetime.fromisoformat(consent["at"]),
                source=consent["source"],
            )
            if consent
            else None
        ),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        version=item["version"],
        order_id=item.get("order_id"),
        nudge_due_at=_parse(item.get("nudge_due_at")),
        nudged_at=_parse(item.get("nudged_at")),
        recovery_token_hash=item.get("recovery_token_hash"),
        nudge_suppressed=bool(item.get("nudge_suppressed", False)),
    )


def cart_event_to_item(cart: Cart, event: CartEvent) -> dict[str, Any]:
    return {
        **keys.cart_event(cart.id, event.at, secrets.token_hex(4)),
        "entity": "cart_event",
        "cart_id": cart.id,
        "at": event.at.isoformat(),
        "event": event.event,
        "data": dict(event.data),
        "cart": dict(event.cart),
        "expires_at": _epoch(event.at + CART_EVENT_RETENTION),
    }


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
