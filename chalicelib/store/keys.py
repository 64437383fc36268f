"""Key layout of the single table (see DESIGN.md, Data)."""

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


def history(order_id: str, at: datetime, unique: str) -> dict[str, str]:
    # ISO timestamps sort chronologically; the suffix keeps two entries written
    # in the same microsecond apart.
    return {"PK": f"ORDER#{order_id}", "SK": f"{HISTORY_PREFIX}{at.isoformat()}#{unique}"}


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
