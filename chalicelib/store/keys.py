"""Key layout of the single table (docs/architecture.md, "The table")."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from chalicelib.store.schema import SWEEP_SHARDS

PRODUCT_SK = "PRODUCT"
ORDER_SK = "ORDER"
HISTORY_PREFIX = "HISTORY#"


def product(sku: str) -> dict[str, str]:
    return {"PK": f"PRODUCT#{sku}", "SK": PRODUCT_SK}


def order(order_id: str) -> dict[str, str]:
    return {"PK": f"ORDER#{order_id}", "SK": ORDER_SK}


def order_partition(order_id: str) -> str:
    return f"ORDER#{order_id}"


def history(order_id: str, version: int, index: int) -> dict[str, str]:
    # Keyed by the order version the entry was written with, not by time:
    # versions grow by one with every change, so the history reads in the
    # order things happened even when clocks of two Lambdas disagree. The
    # conditional write on the version makes each key unique.
    return {"PK": f"ORDER#{order_id}", "SK": f"{HISTORY_PREFIX}{version:010d}#{index:02d}"}


def order_number(number: str) -> dict[str, str]:
    return {"PK": f"ORDERNO#{number}", "SK": "ORDERNO"}


def idempotency(key_hash: str) -> dict[str, str]:
    return {"PK": f"IDEMPOTENCY#{key_hash}", "SK": "IDEMPOTENCY"}


def status_key(status: str) -> str:
    return f"STATUS#{status}"


def customer_key(email: str) -> str:
    return f"EMAIL#{email.lower()}"


def listed_at(created_at: datetime, order_id: str) -> str:
    return f"{created_at.isoformat()}#{order_id}"


def sweep_shard(entity_id: str) -> str:
    """A stable shard for the sparse sweep indexes."""
    return f"DUE#{zlib.crc32(entity_id.encode()) % SWEEP_SHARDS}"


def email_receipt(subject_id: str, kind: str, event_id: str) -> dict[str, str]:
    """One email of one kind for one event about an order or a cart."""
    return {"PK": f"EMAILRECEIPT#{subject_id}", "SK": f"{kind}#{event_id}"}


# --- carts, cart events, suppression list (schedules) ---------------------------------

CART_SK = "CART"
CART_EVENT_PREFIX = "EVENT#"


def cart(cart_id: str) -> dict[str, str]:
    return {"PK": f"CART#{cart_id}", "SK": CART_SK}


def cart_event(cart_id: str, at: datetime, unique: str) -> dict[str, str]:
    # In the cart's partition, like an order's history entries.
    return {"PK": f"CART#{cart_id}", "SK": f"{CART_EVENT_PREFIX}{at.isoformat()}#{unique}"}


def suppression(email_hash: str) -> dict[str, str]:
    return {"PK": f"SUPPRESS#{email_hash}", "SK": "SUPPRESS"}


def opt_out_token(token_hash: str) -> dict[str, str]:
    return {"PK": f"OPTOUT#{token_hash}", "SK": "OPTOUT"}


def due_at(moment: datetime) -> str:
    """A sweep index sort key. Stored instants are UTC ISO strings, which
    sort chronologically as text; the bound must be written the same way."""
    return moment.astimezone(UTC).isoformat()


# --- fulfilment: shipments, one-time claims, order desk indexes -------------------------

SHIPMENT_PREFIX = "SHIPMENT#"


def shipment(order_id: str, shipment_id: str) -> dict[str, str]:
    # In the order's partition: read with the order and its history in one Query.
    return {"PK": f"ORDER#{order_id}", "SK": f"{SHIPMENT_PREFIX}{shipment_id}"}


def tracking_number(carrier: str, number: str) -> dict[str, str]:
    """Finds the shipment for a carrier event; its existence makes the
    tracking number unique per carrier."""
    return {"PK": f"TRACKING#{carrier}#{number}", "SK": "TRACKING"}


def claim(kind: str, scope: str, value: str) -> dict[str, str]:
    if kind == "tracking_number":
        return tracking_number(scope, value)
    return {"PK": f"CLAIM#{kind}#{scope}#{value}", "SK": "CLAIM"}


def payment_status_key(payment_status: str) -> str:
    return f"PAYSTATUS#{payment_status}"


def payment_method_key(payment_method: str) -> str:
    return f"PAYMETHOD#{payment_method}"


def month_key(created_at: datetime) -> str:
    """All orders of one calendar month (UTC): the desk's unfiltered listing
    and date ranges walk the months newest first."""
    return f"MONTH#{created_at.astimezone(UTC):%Y-%m}"


#: The by_withdrawal index's one partition: orders with a withdrawal whose
#: refund is open. Withdrawals are few (a share of a share of orders) and
#: leave the index once refunded, so one partition stays small.
WITHDRAWAL_OPEN = "WITHDRAWAL#open"


def attempts(scope: str, client_hash: str, window_start: int) -> dict[str, str]:
    """One client's attempts at ``scope`` in one fixed window (throttle)."""
    return {"PK": f"ATTEMPTS#{scope}#{client_hash}#{window_start}", "SK": "ATTEMPTS"}


# --- checkout: shipping methods and discount codes --------------------------------------

#: Every shipping method in one partition: a storefront lists them in one
#: Query, and a checkout reads the chosen one by key with its products.
SHIPPING_METHODS_PK = "SHIPPINGMETHODS"
SHIPPING_METHOD_PREFIX = "METHOD#"
#: Discount codes likewise (the merchant's list is one Query).
DISCOUNT_CODES_PK = "DISCOUNTCODES"
DISCOUNT_CODE_PREFIX = "CODE#"
#: Pickup locations (click & collect) likewise.
PICKUP_LOCATIONS_PK = "PICKUPLOCATIONS"
PICKUP_LOCATION_PREFIX = "LOCATION#"


def shipping_method(method_id: str) -> dict[str, str]:
    return {"PK": SHIPPING_METHODS_PK, "SK": f"{SHIPPING_METHOD_PREFIX}{method_id}"}


def active_shipping_methods() -> dict[str, str]:
    """The set of the active methods' ids (absent when there is none): a
    checkout without a method checks in its transaction that it is absent."""
    return {"PK": SHIPPING_METHODS_PK, "SK": "ACTIVE"}


def pickup_location(location_id: str) -> dict[str, str]:
    return {"PK": PICKUP_LOCATIONS_PK, "SK": f"{PICKUP_LOCATION_PREFIX}{location_id}"}


def discount_code(code: str) -> dict[str, str]:
    return {"PK": DISCOUNT_CODES_PK, "SK": f"{DISCOUNT_CODE_PREFIX}{code}"}


def discount_claim(code: str, customer_key: str) -> dict[str, str]:
    """A once-per-customer code's use by one customer (the normalised email's hash)."""
    return {"PK": f"DISCOUNTUSE#{code}#{customer_key}", "SK": "DISCOUNTUSE"}


# --- data subject requests (docs/gdpr.md) -------------------------------------------------


def subject_key(email_hash: str) -> str:
    """The by_subject index's partition: everything besides orders that
    holds or names one address."""
    return f"SUBJECT#{email_hash}"


def order_subject_key(order_id: str) -> str:
    """The by_subject index's partition for items that name an order but
    live elsewhere (a payment callback's receipt): found from the order."""
    return f"SUBJECT#ORDER#{order_id}"


def data_request(email_hash: str, requested_at: datetime, request_id: str) -> dict[str, str]:
    """One request about one address, in the address's own partition."""
    return {
        "PK": f"DATAREQUEST#{email_hash}",
        "SK": f"REQUEST#{requested_at.astimezone(UTC).isoformat()}#{request_id}",
    }


def data_request_partition(email_hash: str) -> str:
    return f"DATAREQUEST#{email_hash}"


# --- invoices and credit notes (docs/invoices.md) ------------------------------------

INVOICE_SK = "INVOICE"
CREDIT_NOTE_PREFIX = "CREDITNOTE#"


def invoice(order_id: str) -> dict[str, str]:
    """One per order: the key is what makes an order's invoice unique."""
    return {"PK": f"ORDER#{order_id}", "SK": INVOICE_SK}


def credit_note(order_id: str, source: str) -> dict[str, str]:
    """One per source (the refund event): a redelivered refund credits nothing twice."""
    return {"PK": f"ORDER#{order_id}", "SK": f"{CREDIT_NOTE_PREFIX}{source}"}


def invoice_series(series: str) -> dict[str, str]:
    """The counter of one number series and year, e.g. ``RE-2026``."""
    return {"PK": f"INVOICESERIES#{series}", "SK": "COUNTER"}


def document_number(number: str) -> dict[str, str]:
    return {"PK": f"INVOICENO#{number}", "SK": "INVOICENO"}


# --- the month's documents (the tax advisor's export) ----------------------------------

#: Invoices sort before credit notes in a month: the advisor reads the
#: invoices' sequence first, then the corrections.
_DOCUMENT_RANK = {"invoice": "1", "credit_note": "2"}


def document_month_key(month: str) -> str:
    """The by_document_month index's partition: every document issued in
    ``month`` ("2026-12", the issue date's month in the shop's timezone)."""
    return f"DOCMONTH#{month}"


def document_key(kind: str, number: str) -> str:
    """The by_document_month index's sort key: the kind's rank, then the
    number (zero-padded, so text order is number order within a series)."""
    return f"{_DOCUMENT_RANK[kind]}#{number}"


def staff_session(id_hash: str) -> dict[str, str]:
    """A back-office session by the SHA-256 of its id (docs/back-office.md)."""
    return {"PK": f"SESSION#{id_hash}", "SK": "SESSION"}
