"""Data subject requests from the merchant, for one email address
(docs/gdpr.md): an export of everything held about it, an erasure of what
nothing obliges us to keep (restricting the rest), or a restriction alone.
Every request is recorded, by a hash of the address."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.data_requests import (
    EXPORTED_KINDS,
    DataRequest,
    KindOutcome,
    RequestKind,
    StoredItem,
    erasable,
    normalised_email,
    retention_ends,
    subject_hash,
    withheld,
)
from chalicelib.domain.order import PaymentStatus
from chalicelib.observability import logger
from chalicelib.retry import retry_on_conflict
from chalicelib.services.carts import suppressions_of
from chalicelib.services.context import Context
from chalicelib.services.ports import CustomerData

#: The suppression entry's source when a request put the address on the list.
SUPPRESSION_SOURCES = {
    RequestKind.ERASURE: "erasure_request",
    RequestKind.RESTRICTION: "restriction_request",
}


@dataclass(frozen=True)
class KeptOrder:
    order_id: str
    number: str
    kept_until: str  # ISO date: the last day tax and commercial law make us keep it
    restricted_at: str


@dataclass(frozen=True)
class DataRequestResult:
    request: DataRequest
    #: The export (kind export only): every exported kind, an empty list if none.
    records: Mapping[str, Sequence[Mapping[str, Any]]] | None
    kept_orders: Sequence[KeptOrder]


def handle_request(email: str, kind: RequestKind, *, actor: str, ctx: Context) -> DataRequestResult:
    """Answer one request for ``email`` and record it (who, when, what kind,
    what was found and done). An erasure first puts the address on the
    suppression list, then deletes what may go and restricts the orders; a
    restriction suppresses and restricts, deleting nothing."""
    store = _customer_data(ctx)
    address = normalised_email(email)
    now = ctx.clock()
    request = DataRequest(
        id=f"dsr_{secrets.token_hex(10)}",
        kind=kind,
        subject_hash=subject_hash(address),
        requested_at=now,
        actor=actor,
    )
    found = store.find(address)
    erased: list[StoredItem] = []
    kept_orders: list[KeptOrder] = []
    if kind is not RequestKind.EXPORT:
        # Suppressed first: a cart written while the request runs is never nudged.
        suppressions = suppressions_of(ctx)
        suppressions.suppress(request.subject_hash, at=now, source=SUPPRESSION_SOURCES[kind])
        kept_orders = _restrict_orders(found, at=now, ctx=ctx)
        if kind is RequestKind.ERASURE:
            erased = [item for item in found if erasable(item)]
            store.delete(erased)
    records = _export(found) if kind is RequestKind.EXPORT else None
    completed = DataRequest(
        id=request.id,
        kind=kind,
        subject_hash=request.subject_hash,
        requested_at=now,
        actor=actor,
        outcome=_outcome(found, erased, kept_orders),
        completed_at=ctx.clock(),
    )
    store.record(completed)
    logger.info(
        "data request answered",
        request_id=completed.id,
        kind=kind.value,
        items_found=sum(o.found for o in completed.outcome.values()),
        items_erased=len(erased),
        orders_restricted=len(kept_orders),
    )
    return DataRequestResult(request=completed, records=records, kept_orders=kept_orders)


def _restrict_orders(found: Sequence[StoredItem], *, at: datetime, ctx: Context) -> list[KeptOrder]:
    kept = []
    for order_id in [item.data["id"] for item in found if item.entity == "order"]:

        def attempt(order_id: str = order_id) -> KeptOrder:
            order = ctx.orders.get(order_id).order
            change = order.restrict_processing(at=at)
            if change is not None:
                ctx.orders.apply(change)
                order = change.order
            paid = bool(order.payments) or order.payment_status is not PaymentStatus.UNPAID
            restricted_at = order.processing_restricted_at or at
            return KeptOrder(
                order_id=order.id,
                number=order.number,
                kept_until=retention_ends(order.created_at, paid=paid).isoformat(),
                restricted_at=restricted_at.isoformat(),
            )

        kept.append(
            retry_on_conflict(attempt, message="the order kept changing", order_id=order_id)
        )
    return kept


def _export(found: Sequence[StoredItem]) -> dict[str, list[Mapping[str, Any]]]:
    records: dict[str, list[Mapping[str, Any]]] = {entity: [] for entity in EXPORTED_KINDS}
    for item in found:
        if item.entity in records:
            records[item.entity].append(withheld(dict(item.data)))
    return records


def _outcome(
    found_items: Sequence[StoredItem],
    erased: Sequence[StoredItem],
    kept_orders: Sequence[KeptOrder],
) -> dict[str, KindOutcome]:
    found = Counter(item.entity for item in found_items)
    gone = Counter(item.entity for item in erased)
    outcome = {}
    for entity, count in sorted(found.items()):
        restricted = len(kept_orders) if entity == "order" else 0
        outcome[entity] = KindOutcome(
            found=count,
            erased=gone[entity],
            restricted=restricted,
            kept=count - gone[entity] - restricted,
        )
    return outcome


def _customer_data(ctx: Context) -> CustomerData:
    if ctx.customer_data is None:
        raise RuntimeError("this context has no customer data store")
    return ctx.customer_data
