"""In-memory stores with the same behaviour as the DynamoDB adapters, for
fast unit tests. tests/integration/test_store_contract.py runs one contract
suite against both."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.domain.cart import Cart, CartEvent, CartNudge, CartStatus
from chalicelib.domain.catalog import Product
from chalicelib.domain.data_requests import (
    DataRequest,
    StoredItem,
    normalised_email,
    subject_hash,
)
from chalicelib.domain.errors import (
    CartChanged,
    CartConverted,
    CartNotFound,
    CatalogChanged,
    ConcurrentUpdate,
    DiscountCodeAlreadyUsed,
    DiscountCodeUnknown,
    DiscountCodeUsedUp,
    InsufficientStock,
    OrderNotFound,
    PickupLocationUnknown,
    ProductNotFound,
    ShippingMethodRequired,
    ShippingMethodUnknown,
)
from chalicelib.domain.order import (
    CartConversion,
    HistoryEntry,
    Order,
    OrderChange,
    OrderStatus,
    PaymentMethod,
    Placement,
    StockMove,
)
from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod
from chalicelib.domain.provider_events import PaymentEvent
from chalicelib.domain.shipment import Claim, Shipment
from chalicelib.services.ports import (
    AddressSuppressed,
    CheckoutTerms,
    DeskPage,
    DeskPosition,
    DeskQuery,
    DuePage,
    DuplicateRequest,
    IdempotencyRecord,
    OrderNumberTaken,
    OrderRecord,
    PaymentPorts,
    PaymentProvider,
)
from chalicelib.store import keys
from chalicelib.store.desk import READ_FACTOR, matches, plan, previous_month
from chalicelib.store.mapping import claim_refused

_COUNTERS = ("available", "reserved", "shipped", "restocked")


@dataclass
class FakeTable:
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # carts, cart events, suppression list (schedules)
    carts: dict[str, Cart] = field(default_factory=dict)
    cart_events: dict[str, list[CartEvent]] = field(default_factory=dict)
    suppressed: dict[str, str] = field(default_factory=dict)  # email hash -> source
    opt_out_tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # fulfilment: shipments per order, and one-time claims
    shipments: dict[str, dict[str, Shipment]] = field(default_factory=dict)
    claims: dict[tuple[str, str, str], Claim] = field(default_factory=dict)
    # checkout: shipping methods, discount codes and once-per-customer claims
    shipping_methods: dict[str, ShippingMethod] = field(default_factory=dict)
    discount_codes: dict[str, DiscountCode] = field(default_factory=dict)
    pickup_locations: dict[str, PickupLocation] = field(default_factory=dict)
    discount_claims: dict[tuple[str, str], str] = field(default_factory=dict)  # -> order id

    def moved(self, move: StockMove) -> Product | None:
        """The product after the move, or None if a condition fails."""
        product = self.products.get(move.sku)
        if product is None:
            return None
        if move.catalog_version is not None and product.catalog_version != move.catalog_version:
            return None
        values = {c: getattr(product, c) + getattr(move, c) for c in _COUNTERS}
        if any(getattr(move, c) < 0 and values[c] < 0 for c in _COUNTERS):
            return None
        return replace(product, **values)


class FakeCatalog:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def get(self, sku: str) -> Product:
        if sku not in self.table.products:
            raise ProductNotFound("no such product", sku=sku)
        return self.table.products[sku]

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        return {sku: self.table.products[sku] for sku in skus if sku in self.table.products}

    def checkout_terms(
        self,
        skus: Iterable[str],
        *,
        shipping_method: str | None = None,
        discount_code: str | None = None,
        pickup_location: str | None = None,
        fresh: bool = False,
    ) -> CheckoutTerms:
        t = self.table
        return CheckoutTerms(
            products=self.get_many(skus, fresh=fresh),
            shipping_method=t.shipping_methods.get(shipping_method) if shipping_method else None,
            discount_code=t.discount_codes.get(discount_code) if discount_code else None,
            pickup_location=t.pickup_locations.get(pickup_location) if pickup_location else None,
        )

    def forget(self, skus: Iterable[str]) -> None:
        pass

    def put_product(
        self,
        sku: str,
        *,
        name: str,
        price: int,
        currency: str,
        tax_rate: Decimal,
        names: Mapping[str, str] | None = None,
    ) -> Product:
        with self.table.lock:
            old = self.table.products.get(sku)
            product = Product(
                sku=sku,
                name=name,
                price=price,
                currency=currency,
                tax_rate=tax_rate,
                catalog_version=(old.catalog_version + 1) if old else 1,
                available=old.available if old else 0,
                reserved=old.reserved if old else 0,
                shipped=old.shipped if old else 0,
                restocked=old.restocked if old else 0,
                adjusted=old.adjusted if old else 0,
                names=dict(names or {}),
            )
            self.table.products[sku] = product
            return product

    def set_available(self, sku: str, available: int) -> Product:
        with self.table.lock:
            old = self.get(sku)
            product = replace(
                old, available=available, adjusted=old.adjusted + available - old.available
            )
            self.table.products[sku] = product
            return product


class FakeOrders:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def place(self, placement: Placement, idempotency: IdempotencyRecord) -> None:
        t = self.table
        with t.lock:
            if idempotency.key_hash in t.idempotency:
                raise DuplicateRequest(t.idempotency[idempotency.key_hash])
            if placement.converts_cart is not None:
                _check_conversion(t, placement.converts_cart)  # told before stock, as in DynamoDB
            moved = [(move, t.moved(move)) for move in placement.stock_moves]
            shortages, changed = [], []
            for move, product in moved:
                if product is not None:
                    continue
                current = t.products.get(move.sku)
                if current is not None and current.available < -move.available:
                    shortages.append(
                        {
                            "sku": move.sku,
                            "requested": -move.available,
                            "available": current.available,
                        }
                    )
                else:
                    changed.append(move.sku)
            if shortages:
                raise InsufficientStock("not enough stock for some lines", lines=shortages)
            changed.extend(_check_terms(t, placement))
            if changed:
                raise CatalogChanged("products changed while ordering", skus=changed)
            if placement.order.number in t.numbers:
                raise OrderNumberTaken()
            use = placement.discount_use
            if use is not None:
                code = t.discount_codes[use.code]
                t.discount_codes[use.code] = replace(code, uses=code.uses + 1)
                if use.customer_key is not None:
                    t.discount_claims[(use.code, use.customer_key)] = use.order_id
            if placement.converts_cart is not None:
                cart = t.carts[placement.converts_cart.cart_id]
                t.carts[cart.id] = replace(
                    cart,
                    status=CartStatus.CONVERTED,
                    order_id=placement.order.id,
                    updated_at=placement.order.created_at,
                    version=cart.version + 1,
                    nudge_due_at=None,
                )
            for _, product in moved:
                assert product is not None
                t.products[product.sku] = product
            t.orders[placement.order.id] = placement.order
            t.history[placement.order.id] = [placement.history]
            t.numbers.add(placement.order.number)
            t.idempotency[idempotency.key_hash] = idempotency

    def get(self, order_id: str) -> OrderRecord:
        if order_id not in self.table.orders:
            raise OrderNotFound("no such order", order_id=order_id)
        shipments = sorted(
            self.table.shipments.get(order_id, {}).values(), key=lambda s: (s.shipped_at, s.id)
        )
        return OrderRecord(
            order=self.table.orders[order_id],
            history=list(self.table.history[order_id]),
            shipments=shipments,
        )

    def shipment_for_tracking(self, carrier: str, tracking_number: str) -> tuple[str, str] | None:
        claim = self.table.claims.get(("tracking_number", carrier, tracking_number))
        return (claim.order_id, claim.shipment_id or "") if claim else None

    def apply(self, change: OrderChange) -> None:
        t = self.table
        with t.lock:
            current = t.orders.get(change.order.id)
            if current is None or (current.status, current.version) != (
                change.expected_status,
                change.expected_version,
            ):
                raise ConcurrentUpdate("the order changed meanwhile", order_id=change.order.id)
            moved = [(move, t.moved(move)) for move in change.stock_moves]
            short = [move.sku for move, product in moved if product is None]
            if short:
                raise InsufficientStock("stock counters do not allow this change", skus=short)
            for claim in change.claims:
                if (claim.kind, claim.scope, claim.value) in t.claims:
                    raise claim_refused(claim)
            for _, product in moved:
                assert product is not None
                t.products[product.sku] = product
            t.orders[change.order.id] = change.order
            t.history[change.order.id].extend(change.history)
            for shipment in change.shipments:
                t.shipments.setdefault(shipment.order_id, {})[shipment.id] = shipment
            for claim in change.claims:
                t.claims[(claim.kind, claim.scope, claim.value)] = claim
            release = change.discount_release
            if release is not None:
                code = t.discount_codes[release.code]
                t.discount_codes[release.code] = replace(code, uses=code.uses - 1)
                if release.customer_key is not None:
                    t.discount_claims.pop((release.code, release.customer_key), None)


def _check_terms(t: FakeTable, placement: Placement) -> list[str]:
    """The placement transaction's checks of the shipping terms and the
    code's use, as store/orders.py makes them; the terms that changed."""
    changed = []
    use = placement.discount_use
    if use is not None:
        code = t.discount_codes.get(use.code)
        if code is None or code.version != use.version or not code.active:
            changed.append(f"discount code {use.code}")
        elif code.usage_limit is not None and code.uses >= code.usage_limit:
            raise DiscountCodeUsedUp("this discount code has been used up", code=use.code)
        if use.customer_key is not None and (use.code, use.customer_key) in t.discount_claims:
            raise DiscountCodeAlreadyUsed("you have already used this code", code=use.code)
    check = placement.shipping_check
    if check is not None and check.location_id is not None:
        location = t.pickup_locations.get(check.location_id)
        if location is None or location.version != check.version:
            changed.append(f"pickup location {check.location_id}")
    elif check is not None and check.method_id is None:
        if any(m.active for m in t.shipping_methods.values()):
            raise ShippingMethodRequired("choose one of the shop's shipping methods")
    elif check is not None:
        method = t.shipping_methods.get(check.method_id or "")
        if method is None or method.version != check.version:
            changed.append(f"shipping method {check.method_id}")
    return changed


class FakeShippingAndCodes:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def put_shipping_method(self, method: ShippingMethod) -> ShippingMethod:
        with self.table.lock:
            old = self.table.shipping_methods.get(method.id)
            saved = replace(method, version=(old.version if old else 0) + 1)
            self.table.shipping_methods[method.id] = saved
            return saved

    def shipping_methods(self) -> list[ShippingMethod]:
        return [self.table.shipping_methods[k] for k in sorted(self.table.shipping_methods)]

    def deactivate_shipping_method(self, method_id: str) -> ShippingMethod:
        method = self.table.shipping_methods.get(method_id)
        if method is None:
            raise ShippingMethodUnknown("no such shipping method", method=method_id)
        return self.put_shipping_method(replace(method, active=False))

    def put_discount_code(self, code: DiscountCode) -> DiscountCode:
        with self.table.lock:
            old = self.table.discount_codes.get(code.code)
            saved = replace(
                code, uses=old.uses if old else 0, version=(old.version if old else 0) + 1
            )
            self.table.discount_codes[code.code] = saved
            return saved

    def discount_codes(self) -> list[DiscountCode]:
        return [self.table.discount_codes[k] for k in sorted(self.table.discount_codes)]

    def deactivate_discount_code(self, code: str) -> DiscountCode:
        found = self.table.discount_codes.get(code)
        if found is None:
            raise DiscountCodeUnknown("this discount code does not exist", code=code)
        return self.put_discount_code(replace(found, active=False))

    def put_pickup_location(self, location: PickupLocation) -> PickupLocation:
        with self.table.lock:
            old = self.table.pickup_locations.get(location.id)
            saved = replace(location, version=(old.version if old else 0) + 1)
            self.table.pickup_locations[location.id] = saved
            return saved

    def pickup_locations(self) -> list[PickupLocation]:
        return [self.table.pickup_locations[k] for k in sorted(self.table.pickup_locations)]

    def deactivate_pickup_location(self, location_id: str) -> PickupLocation:
        location = self.table.pickup_locations.get(location_id)
        if location is None:
            raise PickupLocationUnknown("no such pickup location", location=location_id)
        if not location.active:
            return location
        return self.put_pickup_location(replace(location, active=False))


# --- email receipts (chalicelib/store/email_receipts.py) ------------------------------


class FakeEmailReceipts:
    """Claim / release / complete with the DynamoDB adapter's conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], dict[str, object]] = {}
        self.lock = threading.Lock()
        self._tokens = 0

    def claim(self, key, *, now: int, lease_seconds: int, ttl_seconds: int) -> str:
        from chalicelib.services.ports import AlreadySent, SendInProgress

        k = (key.subject_id, key.kind, key.event_id)
        with self.lock:
            old = self.items.get(k)
            if old is not None:
                if old["state"] == "sent":
                    raise AlreadySent(key.kind)
                if int(old["lease_until"]) >= now:  # type: ignore[call-overload]
                    raise SendInProgress(key.kind)
            self._tokens += 1
            token = f"claim-{self._tokens}"
            self.items[k] = {
                "state": "sending",
                "claim": token,
                "lease_until": now + lease_seconds,
                "expires_at": now + ttl_seconds,
            }
            return token

    def release(self, key, token: str) -> None:
        k = (key.subject_id, key.kind, key.event_id)
        with self.lock:
            if self.items.get(k, {}).get("claim") == token:
                del self.items[k]

    def complete(self, key, token: str, *, message_id: str, now: int) -> None:
        k = (key.subject_id, key.kind, key.event_id)
        with self.lock:
            item = self.items.get(k)
            if item is not None and item["claim"] == token:
                item.update(state="sent", message_id=message_id, sent_at=now)
                item.pop("lease_until", None)


class FakeMailer:
    """Records what it sends; ``fail_next`` makes the next sends fail."""

    def __init__(self) -> None:
        self.sent: list = []
        self.fail_next = 0

    def send(self, email) -> str:
        from chalicelib.services.ports import SendFailed

        if self.fail_next:
            self.fail_next -= 1
            raise SendFailed("Throttling")
        self.sent.append(email)
        return f"msg-{len(self.sent)}"


# --- carts, suppression list, sweep indexes (schedules) ---------------------------------

OPT_OUT_TOKEN_RETENTION = timedelta(days=365)  # as store/carts.py


def _check_conversion(t: FakeTable, conversion: CartConversion) -> None:
    cart = t.carts.get(conversion.cart_id)
    if cart is None:
        raise CartNotFound("no such cart", cart_id=conversion.cart_id)
    if cart.status is CartStatus.CONVERTED:
        raise CartConverted(
            "this cart already became an order", cart_id=cart.id, order_id=cart.order_id
        )
    if cart.version != conversion.expected_version:
        raise CartChanged("the cart changed while ordering", cart_id=cart.id)


class FakeCarts:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, cart: Cart) -> None:
        with self.table.lock:
            assert cart.id not in self.table.carts
            self.table.carts[cart.id] = cart

    def get(self, cart_id: str) -> Cart:
        if cart_id not in self.table.carts:
            raise CartNotFound("no such cart", cart_id=cart_id)
        return self.table.carts[cart_id]

    def save(self, cart: Cart, expected_version: int) -> None:
        with self.table.lock:
            current = self.get(cart.id)
            if current.status is CartStatus.CONVERTED:
                raise CartConverted(
                    "this cart became an order and can no longer change",
                    cart_id=cart.id,
                    order_id=current.order_id,
                )
            if current.version != expected_version:
                raise ConcurrentUpdate("the cart changed meanwhile", cart_id=cart.id)
            self.table.carts[cart.id] = cart

    def nudge(self, nudge: CartNudge) -> None:
        t = self.table
        with t.lock:
            if nudge.email_hash in t.suppressed:
                raise AddressSuppressed()
            current = self.get(nudge.cart.id)
            if current.status is not CartStatus.OPEN or current.version != nudge.expected_version:
                raise ConcurrentUpdate("the cart changed meanwhile", cart_id=current.id)
            t.carts[current.id] = nudge.cart
            t.cart_events.setdefault(current.id, []).append(nudge.event)
            t.opt_out_tokens[nudge.opt_out_token_hash] = (
                nudge.email_hash,
                nudge.event.at + OPT_OUT_TOKEN_RETENTION,
            )


class FakeSuppressions:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def knows_token(self, opt_out_token_hash: str, *, at: datetime) -> bool:
        token = self.table.opt_out_tokens.get(opt_out_token_hash)
        return token is not None and token[1] >= at

    def opt_out(self, opt_out_token_hash: str, *, at: datetime, source: str) -> bool:
        with self.table.lock:
            if not self.knows_token(opt_out_token_hash, at=at):
                return False
            email_hash = self.table.opt_out_tokens[opt_out_token_hash][0]
            self.table.suppressed.setdefault(email_hash, source)
            return True

    def suppress(self, email_hash: str, *, at: datetime, source: str) -> None:
        with self.table.lock:
            self.table.suppressed.setdefault(email_hash, source)

    def is_suppressed(self, email_hash: str) -> bool:
        return email_hash in self.table.suppressed


class FakeCustomerData:
    """The CustomerData port over the fake table: orders (with history and
    shipments), carts (with events), opt-out tokens, the suppression entry
    and request records, as the DynamoDB adapter finds them. Items are the
    domain objects as plain values; keys are the table's."""

    def __init__(self, table: FakeTable) -> None:
        self.table = table
        self.requests: list[DataRequest] = []

    def find(self, email: str) -> list[StoredItem]:
        address = normalised_email(email)
        email_hash = subject_hash(address)
        t = self.table
        found: list[StoredItem] = []
        for order in t.orders.values():
            if order.customer.email.lower() != address:
                continue
            found.append(StoredItem("order", keys.order(order.id), _plain(order), "order"))
            for n, entry in enumerate(t.history.get(order.id, [])):
                key = keys.history(order.id, n, 0)
                found.append(StoredItem("history", key, _plain(entry), "order"))
            for shipment in t.shipments.get(order.id, {}).values():
                key = keys.shipment(order.id, shipment.id)
                found.append(StoredItem("shipment", key, _plain(shipment), "order"))
        for cart in t.carts.values():
            if (cart.email or "").lower() != address:
                continue
            found.append(StoredItem("cart", keys.cart(cart.id), _plain(cart), "cart"))
            for n, event in enumerate(t.cart_events.get(cart.id, [])):
                key = keys.cart_event(cart.id, event.at, str(n))
                found.append(StoredItem("cart_event", key, _plain(event), "cart"))
        for token_hash, (token_email_hash, expires) in t.opt_out_tokens.items():
            if token_email_hash == email_hash:
                data = {"email_hash": token_email_hash, "expires_at": expires.isoformat()}
                key = keys.opt_out_token(token_hash)
                found.append(StoredItem("opt_out_token", key, data, "address"))
        if email_hash in t.suppressed:
            data = {"source": t.suppressed[email_hash]}
            found.append(StoredItem("suppression", keys.suppression(email_hash), data, "address"))
        for request in self.requests:
            if request.subject_hash == email_hash:
                key = keys.data_request(email_hash, request.requested_at, request.id)
                found.append(StoredItem("data_request", key, _plain(request), "address"))
        return found

    def delete(self, items: list[StoredItem]) -> int:
        t = self.table
        with t.lock:
            for item in items:
                pk = item.key["PK"]
                if item.entity == "cart":
                    t.carts.pop(pk.removeprefix("CART#"), None)
                elif item.entity == "cart_event":
                    t.cart_events.pop(pk.removeprefix("CART#"), None)
                elif item.entity == "opt_out_token":
                    t.opt_out_tokens.pop(pk.removeprefix("OPTOUT#"), None)
                else:
                    raise AssertionError(f"the fake does not delete {item.entity}")
        return len(items)

    def record(self, request: DataRequest) -> None:
        self.requests.append(request)


def _plain(value: object) -> dict:
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(value), default=str))  # type: ignore[call-overload]


class FakeSweepIndex:
    """The sparse indexes: only pending orders and nudgeable carts, oldest
    due first; reads count every item returned, like the DynamoDB query."""

    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def orders_due(self, *, until: datetime, limit: int) -> DuePage[Order]:
        due = sorted(
            (
                o
                for o in self.table.orders.values()
                if o.status is OrderStatus.PENDING_PAYMENT and o.payment_due_at <= until
            ),
            key=lambda o: o.payment_due_at,
        )[:limit]
        return DuePage(items=due, items_read=len(due))

    def orders_to_remind(self, *, after: datetime, until: datetime, limit: int) -> DuePage[Order]:
        window = [
            o
            for o in self.table.orders.values()
            if o.status is OrderStatus.PENDING_PAYMENT and after <= o.payment_due_at <= until
        ]
        wanted = sorted(
            (
                o
                for o in window
                if o.payment_method is PaymentMethod.BANK_TRANSFER
                and o.payment_reminder_sent_at is None
            ),
            key=lambda o: o.payment_due_at,
        )[:limit]
        return DuePage(items=wanted, items_read=len(window))

    def carts_due(self, *, until: datetime, limit: int) -> DuePage[Cart]:
        due = sorted(
            (
                c
                for c in self.table.carts.values()
                if c.nudge_due_at is not None and c.nudge_due_at <= until
            ),
            key=lambda c: c.nudge_due_at or until,
        )[:limit]
        return DuePage(items=due, items_read=len(due))

    def open_withdrawals(self, *, limit: int) -> DuePage[Order]:
        found = [
            o
            for o in self.table.orders.values()
            if any(w.refunded_at is None for w in o.withdrawals)
        ][:limit]
        return DuePage(items=found, items_read=len(found))


class FakeAttemptCounter:
    """Fixed-window counters, like store/attempts.py."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}

    def count(self, scope: str, client_hash: str, *, window_start: int, expires_at: int) -> int:
        key = (scope, client_hash, window_start)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


# --- the order desk (fulfilment) --------------------------------------------------------


class FakeOrderDesk:
    """The desk's indexes in memory: the same index choice, newest-first
    order, page positions, read budget and read counts as store/desk.py."""

    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def search(
        self,
        query: DeskQuery,
        *,
        limit: int,
        start: DeskPosition | None,
        newest_month: str,
        oldest_month: str,
    ) -> DeskPage:
        orders = list(self.table.orders.values())
        if query.number is not None:
            found = [o for o in orders if o.number == query.number]
            return DeskPage(
                orders=[o for o in found if matches(o, query)],
                next=None,
                items_read=2 if found else 1,
                index="order_number",
            )
        index, key_value, _ = plan(query)
        month = None
        if index.name == "by_month":
            month = start.month if start is not None and start.month else newest_month

        def partition(month: str | None) -> list[tuple[str, Order]]:
            def key_of(o: Order) -> str:
                return {
                    "by_customer": keys.customer_key(o.customer.email),
                    "by_status": keys.status_key(o.status.value),
                    "by_payment_status": keys.payment_status_key(o.payment_status.value),
                    "by_payment_method": keys.payment_method_key(o.payment_method.value),
                    "by_month": keys.month_key(o.created_at),
                    "by_withdrawal": keys.WITHDRAWAL_OPEN
                    if any(w.refunded_at is None for w in o.withdrawals)
                    else "",
                }[index.name]

            wanted = f"MONTH#{month}" if month is not None else key_value
            rows = [(keys.listed_at(o.created_at, o.id), o) for o in orders if key_of(o) == wanted]
            lower = keys.due_at(query.created_from) if query.created_from else None
            upper = keys.due_at(query.created_to) if query.created_to else None
            rows = [
                r
                for r in rows
                if (lower is None or r[0] >= lower) and (upper is None or r[0] < upper)
            ]
            return sorted(rows, key=lambda r: r[0], reverse=True)

        after = start.after if start is not None else None
        found_orders: list[Order] = []
        read, budget = 0, limit * READ_FACTOR
        while True:
            rows = [r for r in partition(month) if after is None or r[0] < after]
            take = min(limit - len(found_orders), budget - read)
            batch, more = rows[:take], len(rows) > take
            read += len(batch)
            found_orders.extend(o for _, o in batch if matches(o, query))
            if more:
                after = batch[-1][0]
            elif month is not None and month > oldest_month:
                month, after = previous_month(month), None
            else:
                return DeskPage(orders=found_orders, next=None, items_read=read, index=index.name)
            if len(found_orders) >= limit or read >= budget:
                return DeskPage(
                    orders=found_orders,
                    next=DeskPosition(month=month, after=after),
                    items_read=read,
                    index=index.name,
                )


# --- payments ---------------------------------------------------------------------


@dataclass
class FakePaymentRecords:
    """Behaves like store/payments.py DynamoPaymentRecords."""

    table: FakeTable
    receipts: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    references: dict[tuple[str, str], str] = field(default_factory=dict)

    def claim_receipt(
        self,
        provider: str,
        event_id: str,
        *,
        order_id: str,
        event_type: str,
        received_at: datetime,
        expires_at: int,
    ) -> bool:
        with self.table.lock:
            previous = self.receipts.get((provider, event_id))
            if previous is not None:
                return not previous["handed_on"]
            self.receipts[(provider, event_id)] = {
                "order_id": order_id,
                "event_type": event_type,
                "handed_on": False,
                "expires_at": expires_at,
            }
            return True

    def mark_handed_on(self, provider: str, event_id: str) -> None:
        self.receipts[(provider, event_id)]["handed_on"] = True

    def remember_payment(self, provider: str, reference: str, order_id: str) -> None:
        self.references[(provider, reference)] = order_id

    def order_for_payment(self, provider: str, reference: str) -> str | None:
        return self.references.get((provider, reference))

    def order_for_number(self, number: str) -> str | None:
        return next((o.id for o in self.table.orders.values() if o.number == number), None)


@dataclass
class FakePaymentQueue:
    """FIFO like SQS: messages kept in order; ``failing`` simulates an outage."""

    messages: list[PaymentEvent] = field(default_factory=list)
    failing: bool = False

    def send(self, event: PaymentEvent) -> None:
        if self.failing:
            raise ConnectionError("queue unavailable")
        self.messages.append(event)

    def drain(self) -> list[PaymentEvent]:
        taken, self.messages = self.messages, []
        return taken


def fake_payment_ports(
    table: FakeTable,
    *,
    stripe: PaymentProvider | None = None,
    queue: FakePaymentQueue | None = None,
    records: FakePaymentRecords | None = None,
    stripe_secret: str = "whsec_unit",
    hmac_secret: str = "hmac_unit",
) -> PaymentPorts:
    """The payment ports of a context built on fakes: the fake Stripe (no
    network), manual refunds for bank transfers and the HMAC provider, the
    real callback verifiers with fixed secrets, fake receipts and queue."""
    from chalicelib.payments.fake import FakeStripe
    from chalicelib.payments.hmac_adapter import HmacCallbacks
    from chalicelib.payments.manual import ManualRefunds
    from chalicelib.payments.stripe_callbacks import StripeCallbacks

    manual = ManualRefunds()
    return PaymentPorts(
        providers={
            "stripe": FakeStripe() if stripe is None else stripe,
            "hmac": manual,
            "bank_transfer": manual,
        },
        callbacks={
            "stripe": StripeCallbacks(lambda: [stripe_secret]),
            "hmac": HmacCallbacks(lambda: [hmac_secret]),
        },
        records=FakePaymentRecords(table) if records is None else records,
        queue=FakePaymentQueue() if queue is None else queue,
    )
