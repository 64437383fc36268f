"""Errors that state business facts.

Each carries a stable machine-readable ``code`` and JSON-safe ``details``;
the API maps the class to an HTTP status in one table (chalicelib/api/errors.py).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(DomainError):
    """The request is well-formed JSON but breaks a rule of the shop."""

    code = "invalid_request"


class UnknownProducts(DomainError):
    code = "unknown_product"


class MixedCurrencies(DomainError):
    code = "mixed_currencies"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class CatalogChanged(DomainError):
    """A product changed between reading the catalog and reserving stock."""

    code = "catalog_changed"


class ProductNotFound(DomainError):
    code = "product_not_found"


class OrderNotFound(DomainError):
    code = "order_not_found"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class ConcurrentUpdate(DomainError):
    """Someone else changed the order first; re-read and decide again."""

    code = "concurrent_update"


class TemporarilyUnavailable(DomainError):
    """The request could not be carried out right now (the database is
    throttling us, or the change kept colliding); nothing was changed and
    the same request may be sent again shortly."""

    code = "temporarily_unavailable"


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"


class Unauthorized(DomainError):
    code = "unauthorized"
