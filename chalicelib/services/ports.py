"""The interfaces the services need (ports), and the facts their adapters
report back: storage (DynamoDB adapters in chalicelib/store), the payment
providers and their callbacks (chalicelib/payments), email receipts and the
mailer (chalicelib/store/email_receipts.py, chalicelib/notify/ses.py).
In-memory fakes for unit tests live in tests/fakes.py; fakes and adapters
pass the same contract tests.

The domain's types are imported for type checking only: importing the ports
(as every adapter does) loads none of the domain, so a function that only
moves email receipts or raw events does not build the order domain's classes
at its cold start."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from chalicelib.domain.archive import ArchivedPdf
    from chalicelib.domain.cart import Cart, CartNudge
    from chalicelib.domain.catalog import Product
    from chalicelib.domain.data_requests import DataRequest, StoredItem
    from chalicelib.domain.invoice import Credited, CreditNote, Invoice
    from chalicelib.domain.order import HistoryEntry, Order, OrderChange, Placement
    from chalicelib.domain.pricing import DiscountCode, PickupLocation, ShippingMethod
    from chalicelib.domain.provider_events import PaymentEvent
    from chalicelib.domain.shipment import Shipment
    from chalicelib.domain.staff import StaffSession

T = TypeVar("T")


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first answer to an Idempotency-Key, kept to replay it."""

    key_hash: str  # sha256 of the client's Idempotency-Key
    fingerprint: str  # sha256 of the canonical request
    order_id: str
    token_salt: str  # see domain/ids.py: order_token
    expires_at: int  # epoch seconds


class DuplicateRequest(Exception):
    """The Idempotency-Key was seen before; ``previous`` says for what."""

    def __init__(self, previous: IdempotencyRecord) -> None:
        super().__init__("idempotency key already used")
        self.previous = previous


class OrderNumberTaken(Exception):
    """The random order number collided with an existing one."""


@dataclass(frozen=True)
class OrderRecord:
    """An order with its history, oldest entry first."""

    order: Order
    history: Sequence[HistoryEntry]
    shipments: Sequence[Shipment] = ()  # oldest first (fulfilment)


@dataclass(frozen=True)
class CheckoutTerms:
    """What a checkout is priced from, read in one round trip: the products,
    the chosen shipping method or pickup location and the discount code
    (None: not asked for, or not found)."""

    products: dict[str, Product]
    shipping_method: ShippingMethod | None = None
    discount_code: DiscountCode | None = None
    pickup_location: PickupLocation | None = None


class CatalogStore(Protocol):
    def checkout_terms(
        self,
        skus: Iterable[str],
        *,
        shipping_method: str | None = None,
        discount_code: str | None = None,
        pickup_location: str | None = None,
        fresh: bool = False,
    ) -> CheckoutTerms:
        """The products among ``skus``, the shipping method or pickup
        location and the (normalised) discount code, in one read of what is
        not cached; from the cache unless ``fresh``. The placement
        transaction re-checks the versions of all of them."""
        ...

    def get(self, sku: str) -> Product:
        """The product with its current stock, or ProductNotFound."""
        ...

    def get_many(self, skus: Iterable[str], *, fresh: bool = False) -> dict[str, Product]:
        """The existing products among ``skus``; may be served from a cache
        unless ``fresh``."""
        ...

    def forget(self, skus: Iterable[str]) -> None:
        """Drop cached entries, e.g. after a placement found them stale."""
        ...

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
        """Create or update catalog data (``names`` per locale; none: ``name``
        stands for every locale); bumps the catalog version."""
        ...

    def set_available(self, sku: str, available: int) -> Product:
        """Set the counted sellable stock, recording the adjustment."""
        ...


class ShippingAndCodes(Protocol):
    """The merchant's shipping methods, pickup locations and discount codes."""

    def put_shipping_method(self, method: ShippingMethod) -> ShippingMethod:
        """Create or replace a method (its version goes up)."""
        ...

    def shipping_methods(self) -> list[ShippingMethod]:
        """Every method, active or not, by id."""
        ...

    def deactivate_shipping_method(self, method_id: str) -> ShippingMethod:
        """Switch a method off; ShippingMethodUnknown if there is none."""
        ...

    def put_discount_code(self, code: DiscountCode) -> DiscountCode:
        """Create or replace a code's terms; its uses are kept."""
        ...

    def discount_codes(self) -> list[DiscountCode]:
        """Every code, active or not, by code."""
        ...

    def deactivate_discount_code(self, code: str) -> DiscountCode:
        """Switch a code off; DiscountCodeUnknown if there is none."""
        ...

    def put_pickup_location(self, location: PickupLocation) -> PickupLocation:
        """Create or replace a pickup location (its version goes up)."""
        ...

    def pickup_locations(self) -> list[PickupLocation]:
        """Every pickup location, active or not, by id."""
        ...

    def deactivate_pickup_location(self, location_id: str) -> PickupLocation:
        """Switch a location off; PickupLocationUnknown if there is none."""
        ...


class PickupCodes(Protocol):
    """The one read the notifications make of an order: its pickup code,
    which the ready-for-pickup email shows and no event carries."""

    def pickup_code(self, order_id: str) -> str | None:
        """The order's pickup code, None if it has none (or no such order)."""
        ...


class OrderStore(Protocol):
    def place(self, placement: Placement, idempotency: IdempotencyRecord) -> None:
        """Write the order, its number, its first history entry, the
        idempotency record and every reservation, all or nothing.

        Raises InsufficientStock (details name each short SKU), CatalogChanged,
        DuplicateRequest, OrderNumberTaken or ConcurrentUpdate."""
        ...

    def get(self, order_id: str) -> OrderRecord:
        """The order and its history, or OrderNotFound."""
        ...

    def apply(self, change: OrderChange) -> None:
        """Write a change if the order still has the expected status and
        version (else ConcurrentUpdate), with its history and stock moves.

        Also its shipments and claims: a claim that exists already raises
        TrackingNumberInUse (tracking numbers) or AlreadyClaimed (others)."""
        ...

    def shipment_for_tracking(self, carrier: str, tracking_number: str) -> tuple[str, str] | None:
        """(order id, shipment id) of the carrier's tracking number, if any."""
        ...


# --- invoices and credit notes (docs/invoices.md) ------------------------------------


class NumberTaken(Exception):
    """The series' counter moved since it was read: read it again."""


class DocumentExists(Exception):
    """The order's invoice, or the credit note for this source, is issued already."""


@dataclass(frozen=True)
class IssuedInvoice:
    """An order's invoice as issued, with what its credit notes took back
    (``credited``) and how many there are (the next one's condition)."""

    invoice: Invoice
    credited: Credited
    credit_notes: int


@dataclass(frozen=True)
class NumberRecord:
    """Who holds a document number: one per number, written with the document."""

    number: str
    kind: str  # invoice, credit_note
    order_id: str
    issued_at: str


@dataclass(frozen=True)
class DocumentPage:
    """One page of a month's documents, invoices first, each kind in number
    order; ``after`` is where the next page starts (None: the month is done)."""

    documents: Sequence[Invoice | CreditNote]
    after: str | None


class InvoiceStore(Protocol):
    def last_number(self, series: str) -> int:
        """The last number taken in ``series`` (e.g. "RE-2026"), 0 if none."""
        ...

    def issue_invoice(
        self, invoice: Invoice, *, series: str, sequence: int, order: Order, entry: HistoryEntry
    ) -> None:
        """Write the invoice, its number and its history entry (InvoiceIssued)
        in one transaction that takes ``sequence`` from ``series`` only if
        the counter is still at ``sequence - 1``: all or nothing, so a number
        is never taken without its document. DocumentExists if the order has
        an invoice already; NumberTaken if the counter moved (read again)."""
        ...

    def invoice_of(self, order_id: str) -> IssuedInvoice | None:
        """The order's invoice, if one was issued."""
        ...

    def issue_credit_note(
        self,
        note: CreditNote,
        *,
        series: str,
        sequence: int,
        credit_notes: int,
        credited: Credited,
        order: Order,
        entry: HistoryEntry,
    ) -> None:
        """As ``issue_invoice``, and in the same transaction set its invoice's
        credited amounts to ``credited`` (what all its notes take back, this
        one included) only if the invoice still has ``credit_notes`` notes
        (else ConcurrentUpdate). DocumentExists if the note's source was
        credited already."""
        ...

    def credit_notes_of(self, order_id: str) -> Sequence[CreditNote]:
        """The order's credit notes, oldest first."""
        ...

    def number(self, number: str) -> NumberRecord | None:
        """Who holds a document number (the auditor's question)."""
        ...

    def documents_of_month(self, month: str, *, after: str | None, limit: int) -> DocumentPage:
        """Up to ``limit`` documents issued in ``month`` ("2026-12", the issue
        date's month), after the position ``after`` of an earlier page: the
        by_document_month index, never a Scan."""

    def archived_pdf(self, order_id: str, number: str) -> ArchivedPdf | None:
        """The stored PDF recorded on the order's document of this number;
        None while it is not archived (or there is no such document)."""
        ...

    def record_pdf(
        self,
        document: Invoice | CreditNote,
        pdf: ArchivedPdf,
        *,
        order: Order,
        entry: HistoryEntry,
        entry_index: int,
    ) -> None:
        """Record ``pdf`` on the document and write its history entry
        (DocumentArchived) in one transaction, only if the document has no
        PDF recorded yet (else PdfRecorded): one entry, so one email, per
        document."""
        ...


class PdfRecorded(Exception):
    """The document's PDF was recorded already (an earlier delivery)."""


class ArchiveConflict(Exception):
    """The archive holds other bytes under the document's key than the ones
    rendered now: never overwritten (the lock forbids it anyway); an operator
    must look."""


#: Renders an issued document as its PDF; the same document, the same bytes
#: (invoice_pdf/render.py, outside the API's package).
PdfRenderer = Callable[["Invoice | CreditNote"], bytes]


class DocumentArchive(Protocol):
    """The invoices bucket: each PDF written once, read back by its version."""

    def store(
        self, key: str, pdf: bytes, *, sha256: str, at: datetime, retain_until: datetime
    ) -> ArchivedPdf:
        """Put ``pdf`` under ``key`` only if no object is there, locked in
        compliance mode until ``retain_until``. If one is
        (a repeated delivery after a crash), the stored object is answered
        when it holds these bytes, else ArchiveConflict; never a second version."""
        ...

    def read(self, pdf: ArchivedPdf) -> bytes:
        """The archived bytes of that version."""
        ...

    def link(self, pdf: ArchivedPdf, *, filename: str, seconds: int) -> str:
        """A URL that serves that version for ``seconds`` (a presigned GET)."""
        ...


# --- carts, suppression list and the sweep indexes (schedules) ----------------------


class AddressSuppressed(Exception):
    """The cart's address is on the suppression list: it must not be emailed."""


@dataclass(frozen=True)
class DuePage(Generic[T]):
    """Candidates from a sparse sweep index, and how many index items the
    query read (what the sweep pays for, and what the benchmark checks)."""

    items: Sequence[T]
    items_read: int


class CartStore(Protocol):
    def create(self, cart: Cart) -> None:
        """Write a new cart (its id must be new)."""
        ...

    def get(self, cart_id: str) -> Cart:
        """The cart, read consistently, or CartNotFound."""
        ...

    def save(self, cart: Cart, expected_version: int) -> None:
        """Replace the cart if it is still open at ``expected_version``; else
        CartConverted (it became an order) or ConcurrentUpdate."""
        ...

    def nudge(self, nudge: CartNudge) -> None:
        """Write the nudged cart, its CartAbandoned event and its opt-out token
        in one transaction, only if the cart is unchanged and its address is
        not suppressed; else ConcurrentUpdate or AddressSuppressed."""
        ...


class SuppressionList(Protocol):
    """Addresses that opted out of marketing email, by sha256 of the
    lower-cased address; opt-out links carry a token, never the address."""

    def opt_out(self, opt_out_token_hash: str, *, at: datetime, source: str) -> bool:
        """Suppress the address the token was issued for (idempotent). False
        when the token is unknown or expired."""
        ...

    def knows_token(self, opt_out_token_hash: str, *, at: datetime) -> bool:
        """Whether the opt-out token is valid (read only)."""
        ...

    def suppress(self, email_hash: str, *, at: datetime, source: str) -> None:
        """Put the address on the list (idempotent: the first moment and
        source are kept); a data request's erasure or restriction."""
        ...

    def is_suppressed(self, email_hash: str) -> bool:
        """Whether the address is on the list (read consistently)."""
        ...


class SweepIndex(Protocol):
    """Reads of the sparse sweep indexes (eventually consistent: every
    candidate is re-checked by a conditional write)."""

    def orders_due(self, *, until: datetime, limit: int) -> DuePage[Order]:
        """Orders awaiting payment whose deadline is at or before ``until``,
        oldest deadline first per shard, at most ``limit`` of them."""
        ...

    def orders_to_remind(self, *, after: datetime, until: datetime, limit: int) -> DuePage[Order]:
        """Bank-transfer orders not yet reminded whose deadline lies in
        (``after``, ``until``]."""
        ...

    def carts_due(self, *, until: datetime, limit: int) -> DuePage[Cart]:
        """Carts whose nudge falls due at or before ``until``."""
        ...

    def open_withdrawals(self, *, limit: int) -> DuePage[Order]:
        """Orders with a withdrawal whose refund is open (by_withdrawal),
        at most ``limit`` of them."""
        ...


class AttemptCounter(Protocol):
    """Fixed-window counters of a client's attempts (the withdrawal lookup's
    throttle)."""

    def count(self, scope: str, client_hash: str, *, window_start: int, expires_at: int) -> int:
        """Add one attempt to the window starting at ``window_start`` (epoch
        seconds) and return the window's count, this one included. The item
        expires (TTL) at ``expires_at``."""
        ...


# --- data subject requests (docs/gdpr.md) ---------------------------------------------


class CustomerData(Protocol):
    """Everything the table holds about one email address, found without a
    Scan (the by_customer and by_subject indexes, then the partitions and
    items they lead to), and the records of data requests."""

    def find(self, email: str) -> Sequence[StoredItem]:
        """Every item about the (normalised) address: its orders with their
        history, shipments, numbers, payment references, webhook receipts,
        tracking claims and email receipts; its carts with their events and
        email receipts; its opt-out links, its suppression entry and the
        records of earlier requests."""
        ...

    def delete(self, items: Sequence[StoredItem]) -> int:
        """Delete these items (a missing one is no error); how many were asked."""
        ...

    def record(self, request: DataRequest) -> None:
        """Write the record of a request (a hash of the address, never the
        address), deleted by TTL at ``request.expires_at``."""
        ...


# --- the back office: sign-in and sessions (docs/back-office.md) ----------------------


@dataclass(frozen=True)
class SignedIn:
    """Who the identity provider signed in: its subject id, user name and groups."""

    subject: str
    username: str  # what the provider's admin calls take (Cognito: may be a UUID)
    groups: tuple[str, ...]
    email: str = ""  # what the pages show


class StaffDirectory(Protocol):
    """The merchant's users (Cognito in production and locally on moto)."""

    def sign_in(self, username: str, password: str) -> SignedIn:
        """Check the password; raises SignInFailed (no detail of why)."""
        ...

    def sign_out_everywhere(self, username: str) -> None:
        """End every token the provider issued the user (global sign-out)."""
        ...


class StaffSessions(Protocol):
    """Back-office sessions, kept by the hash of their id (TTL at the absolute expiry)."""

    def create(self, session: StaffSession) -> None: ...

    def get(self, id_hash: str) -> StaffSession | None:
        """The session, or None if there is none (or the TTL has not yet removed it)."""
        ...

    def touch(self, id_hash: str, at: datetime) -> None:
        """Record a request (the idle expiry counts from it); a deleted session stays deleted."""
        ...

    def delete(self, id_hash: str) -> None: ...


# --- the order desk (fulfilment) -------------------------------------------------------


@dataclass(frozen=True)
class DeskQuery:
    """Filters of the merchant's order listing; all optional, combined with AND.
    ``created_from`` is inclusive, ``created_to`` exclusive."""

    status: str | None = None
    payment_status: str | None = None
    payment_method: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    email: str | None = None
    number: str | None = None
    withdrawal: str | None = None  # "open": a withdrawal's refund is not made yet
    # Part of the customer's name, as written (a filter on the page read, not a key).
    name: str | None = None


@dataclass(frozen=True)
class DeskPosition:
    """Where a page ended: the month partition (by_month only) and the
    ``listed_at`` of the last item read (None: from the month's start)."""

    month: str | None
    after: str | None


@dataclass(frozen=True)
class DeskPage:
    """One page of the order desk's listing and where the next one starts."""

    orders: Sequence[Order]
    next: DeskPosition | None  # None: no more pages
    items_read: int  # index items read for this page (what it cost)
    index: str  # the key or index that served it


class OrderDesk(Protocol):
    def search(
        self,
        query: DeskQuery,
        *,
        limit: int,
        start: DeskPosition | None,
        newest_month: str,
        oldest_month: str,
    ) -> DeskPage:
        """Orders matching ``query``, newest first, at most ``limit``; reads
        at most a bounded multiple of ``limit`` items, so a page may hold
        fewer orders and still have a next position. When no filter but the
        dates applies, months (yyyy-mm) are walked from ``newest_month`` back
        to ``oldest_month``."""
        ...


# --- payment providers and their callbacks (docs/payments.md) ------------------------


@dataclass(frozen=True)
class CheckoutRequest:
    """What a provider needs to open its payment page for an order."""

    order: Order
    success_url: str
    cancel_url: str
    expires_at: datetime | None  # None: the provider's default lifetime


@dataclass(frozen=True)
class Checkout:
    """The provider's payment page for an order."""

    session_id: str
    redirect_url: str


@dataclass(frozen=True)
class RefundResult:
    """A refund the provider accepted."""

    refund_id: str
    # The payment's cumulative refunded amount as the provider now reports it;
    # None when the provider does not say (the caller adds the amount).
    refunded_total: int | None


class PaymentProvider(Protocol):
    """Outbound: the provider's API."""

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """A hosted payment page for the order. Idempotent per order: asking
        twice returns the same session. Raises PaymentProviderUnavailable."""
        ...

    def refund(
        self, *, reference: str, amount: int | None, currency: str, idempotency_key: str
    ) -> RefundResult:
        """Return ``amount`` of the payment ``reference`` (None: all that is
        left of it). The same
        ``idempotency_key`` makes the refund at most once. Raises
        PaymentProviderUnavailable."""
        ...


@dataclass(frozen=True)
class VerifiedCallback:
    """A callback whose signature checked out.

    ``event`` is None for event types we do not act on; its ``order_id`` is
    empty when the provider's object does not name the order (Stripe's
    charges): the service then finds the order by ``event.reference``.
    """

    event_id: str
    event_type: str
    event: PaymentEvent | None


class CallbackVerifier(Protocol):
    """Inbound: a provider's signed callbacks."""

    def verify(
        self, raw_body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        """Check the signature over the raw body, then parse it. Raises
        InvalidSignature, StaleSignature or MalformedEvent; never writes."""
        ...


class CarrierCallbackVerifier(Protocol):
    """Inbound: a carrier's signed tracking callbacks (docs/fulfilment.md)."""

    def verify(self, raw_body: bytes, header: str | None, now: datetime) -> None:
        """Raise InvalidCarrierSignature unless an active secret signed this
        body within the tolerance window; never writes."""
        ...


class PaymentRecords(Protocol):
    """What the payment flows keep in the table besides orders."""

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
        """Record that a callback arrived (one conditional write). False when
        the same event was received and handed on before: a duplicate. True
        for a new event, and for one received before but never handed on
        (the earlier attempt failed half way; the caller finishes it)."""
        ...

    def mark_handed_on(self, provider: str, event_id: str) -> None:
        """The event is on the queue: a repeat is now a duplicate."""
        ...

    def remember_payment(self, provider: str, reference: str, order_id: str) -> None:
        """Which order a provider payment belongs to (refund events name the
        payment, not the order). Idempotent."""
        ...

    def order_for_payment(self, provider: str, reference: str) -> str | None: ...

    def order_for_number(self, number: str) -> str | None:
        """The order id of a human order number (bank transfer references)."""
        ...


class PaymentEventQueue(Protocol):
    def send(self, event: PaymentEvent) -> None:
        """Hand the event on, in order per order (FIFO grouped by order id),
        deduplicated by provider event id."""
        ...


@dataclass(frozen=True)
class PaymentPorts:
    """Everything the payment services are handed (see services/context.py)."""

    providers: Mapping[str, PaymentProvider]  # by Payment.provider: stripe, hmac, bank_transfer
    callbacks: Mapping[str, CallbackVerifier]  # by webhook path: /webhooks/payments/{name}
    records: PaymentRecords
    queue: PaymentEventQueue


# --- email: receipts (one email per event) and the mailer ------------------------------


@dataclass(frozen=True)
class ReceiptKey:
    """Identifies one email sent for one event (the receipts' key)."""

    subject_id: str  # the order's or the cart's id
    kind: str
    event_id: str


class AlreadySent(Exception):
    """This email was sent before; the duplicate event is acknowledged."""


class SendInProgress(Exception):
    """Another worker holds the claim; the event is retried after its lease."""


class EmailReceipts(Protocol):
    def claim(self, key: ReceiptKey, *, now: int, lease_seconds: int, ttl_seconds: int) -> str:
        """Claim the right to send; returns the claim's token. Raises
        AlreadySent, or SendInProgress while another unexpired claim exists."""
        ...

    def release(self, key: ReceiptKey, token: str) -> None:
        """Give up our claim after a failed send (no-op if it is not ours)."""
        ...

    def complete(self, key: ReceiptKey, token: str, *, message_id: str, now: int) -> None:
        """Record that the email went out."""
        ...


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows by ``<img src="cid:<content_id>">``, sent
    as a related part of it (the GiroCode of a bank transfer)."""

    content_id: str  # without the angle brackets
    subtype: str  # image/<subtype>: "png"
    data: bytes


@dataclass(frozen=True)
class Attachment:
    """A file the email carries (the invoice's PDF)."""

    filename: str
    maintype: str  # "application"
    subtype: str  # "pdf"
    data: bytes


@dataclass(frozen=True)
class Email:
    """One rendered email, as the mailer sends it (chalicelib/notify/emails.py
    builds them)."""

    kind: str
    subject_id: str  # the order's or the cart's id
    event_id: str
    to: str
    locale: str
    subject: str
    html: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    images: tuple[InlineImage, ...] = ()
    attachments: tuple[Attachment, ...] = ()


class SendFailed(Exception):
    """SES did not accept the email; the event is retried."""


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Hand the email to the mail service; returns its message id or
        raises SendFailed."""
        ...
