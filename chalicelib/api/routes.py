"""The API's route table: which module's blueprint serves each path, so a
cold start loads only the route it answers.

Lambda's API function runs every route, but each invocation answers one:
Chalice looks the route up in ``app.routes`` by the resource path API
Gateway sends. ``LazyRoutes`` is that mapping, filled on demand: looking up
a path imports the module in ``TABLE`` that serves it and registers its
blueprint, the way ``app.register_blueprint`` always did, so the view and
its ``@documented`` declaration are exactly the module's own. A webhook's
cold start then loads neither the storefront's schemas nor the order desk.

Anything that walks the routes (``chalice package`` building the API,
Chalice's local server and test client, the OpenAPI document) loads every
module first, in the table's order, and checks the table against what the
modules registered: a path missing from the table, or listed under a module
that does not serve it, fails there (and so in every test run and every
packaging), never as a 405 in production.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: "module:blueprint" -> the paths its routes serve, in registration order.
TABLE: dict[str, tuple[str, ...]] = {
    "chalicelib.api.products:products": ("/products/{sku}",),
    "chalicelib.api.storefront:storefront": ("/orders",),
    "chalicelib.api.order_page:order_page": ("/orders/{order_id}", "/orders/{order_id}/cancel"),
    "chalicelib.api.order_documents:order_documents": (
        "/orders/{order_id}/invoices",
        "/orders/{order_id}/invoices/{number}/xml",
        "/orders/{order_id}/invoices/{number}/pdf",
    ),
    "chalicelib.api.admin_documents:admin_documents": (
        "/admin/orders/{order_id}/invoices/{number}/pdf",
    ),
    "chalicelib.api.admin:admin": ("/admin/products/{sku}", "/admin/stock/{sku}"),
    "chalicelib.api.carts:cart_routes": ("/carts", "/carts/{cart_id}", "/opt-out/{token}"),
    "chalicelib.api.admin_orders:admin_orders": (
        "/admin/orders",
        "/admin/orders/{order_id}",
        "/admin/orders/{order_id}/cancel",
        "/admin/orders/{order_id}/notes",
        "/admin/orders/{order_id}/packing-slip",
        "/admin/orders/{order_id}/returns",
        "/admin/orders/{order_id}/shipments",
        "/admin/orders/{order_id}/ready-for-pickup",
        "/admin/orders/{order_id}/pickup",
    ),
    "chalicelib.api.carrier_webhooks:carrier_webhooks": ("/webhooks/carriers/{carrier}",),
    "chalicelib.api.webhooks:webhooks": ("/webhooks/payments/{provider}",),
    "chalicelib.api.admin_payments:admin_payments": (
        "/admin/orders/{order_id}/payments",
        "/admin/orders/{order_id}/refunds",
        "/admin/payments/bank-transfers",
    ),
    "chalicelib.api.withdrawals:storefront_withdrawals": ("/withdrawals/lookup", "/withdrawals"),
    "chalicelib.api.admin_withdrawals:admin_withdrawals": (
        "/admin/orders/{order_id}/withdrawals",
        "/admin/orders/{order_id}/withdrawals/{withdrawal_id}/release",
    ),
    "chalicelib.api.checkout:checkout_routes": ("/shipping-options",),
    "chalicelib.api.admin_checkout:admin_checkout": (
        "/admin/shipping-methods/{method_id}",
        "/admin/shipping-methods",
        "/admin/shipping-methods/{method_id}/deactivate",
        "/admin/pickup-locations/{location_id}",
        "/admin/pickup-locations",
        "/admin/pickup-locations/{location_id}/deactivate",
        "/admin/discount-codes/{code}",
        "/admin/discount-codes",
        "/admin/discount-codes/{code}/deactivate",
    ),
    "chalicelib.api.admin_data_requests:admin_data_requests": ("/admin/data-requests",),
    "chalicelib.api.admin_invoices:admin_invoices": (
        "/admin/invoices",
        "/admin/invoices/journal",
    ),
    "chalicelib.api.docs:api_docs": ("/openapi.json",),
    # The merchant's back office: HTML pages, not part of the JSON API's contract.
    "chalicelib.api.back_office:back_office": (
        "/backoffice",
        "/backoffice/sign-in",
        "/backoffice/sign-out",
        "/backoffice/language",
        "/backoffice/orders",
        "/backoffice/orders/bulk",
        "/backoffice/orders/{order_id}",
        "/backoffice/orders/{order_id}/notes",
        "/backoffice/orders/{order_id}/shipments",
        "/backoffice/orders/{order_id}/cancel",
        "/backoffice/orders/{order_id}/refunds",
        "/backoffice/orders/{order_id}/returns",
    ),
}

#: Paths of pages for people (the back office), not operations of the JSON
#: API: the OpenAPI document and its contract tests leave them out.
PAGES_PREFIX = "/backoffice"

#: A route entry by method (chalice.app.RouteEntry).
Methods = dict[str, Any]


class RouteTableError(RuntimeError):
    """TABLE does not match what the route modules register."""


class LazyRoutes(dict[str, Methods]):
    """``app.routes`` (path -> method -> route entry), each blueprint
    registered by ``mount`` when one of its paths is first looked up.

    Chalice fills and reads ``app.routes`` by item access, as the
    ``defaultdict(dict)`` it replaces: a path no module serves gets an empty
    entry (Chalice then answers 405, as before).
    """

    def __init__(self, mount: Callable[[Any], None], table: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self._mount = mount
        self._table = table
        self._pending = {path: owner for owner, paths in table.items() for path in paths}
        # Chalice's local server walks the routes from a thread per request:
        # one thread must not check the table while another is halfway
        # through registering a blueprint. Reentrant, as registering looks
        # paths up. Lambda runs one invocation at a time; the lock costs nothing there.
        self._lock = threading.RLock()

    def __missing__(self, path: str) -> Methods:
        with self._lock:
            if dict.__contains__(self, path):
                return dict.__getitem__(self, path)
            owner = self._pending.get(path)
            if owner is None:
                return self.setdefault(path, {})
            self._load(owner)
            if not dict.__contains__(self, path):
                raise RouteTableError(f"{owner} registers no route for {path}")
            return dict.__getitem__(self, path)

    def _load(self, owner: str) -> None:
        for path in self._table[owner]:
            self._pending.pop(path, None)
        module_name, _, blueprint = owner.partition(":")
        self._mount(getattr(importlib.import_module(module_name), blueprint))

    def load_all(self) -> None:
        """Register every blueprint not registered yet, then check the table."""
        with self._lock:
            self._load_all()

    def _load_all(self) -> None:
        for owner in self._table:
            if any(self._pending.get(path) == owner for path in self._table[owner]):
                self._load(owner)
        listed = {path for paths in self._table.values() for path in paths}
        registered = {path for path, methods in dict.items(self) if methods}
        if registered != listed:
            raise RouteTableError(
                "chalicelib/api/routes.py TABLE is out of date: "
                f"not listed {sorted(registered - listed)}, not registered "
                f"{sorted(listed - registered)}"
            )

    # Whatever walks the routes sees all of them.
    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return super().__iter__()

    def __len__(self) -> int:
        self.load_all()
        return super().__len__()

    def __contains__(self, path: object) -> bool:
        return path in self._pending or super().__contains__(path)

    def keys(self) -> Any:
        self.load_all()
        return super().keys()

    def values(self) -> Any:
        self.load_all()
        return super().values()

    def items(self) -> Any:
        self.load_all()
        return super().items()

    def get(self, path: str, default: Any = None) -> Any:
        return self[path] if path in self else default

    def copy(self) -> dict[str, Methods]:
        self.load_all()
        return dict(super().items())

    def __repr__(self) -> str:
        self.load_all()
        return super().__repr__()
