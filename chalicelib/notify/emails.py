"""Which emails an event sends, to whom, and their rendered content.

Exactly one email per (order or cart, kind, event): the kind names the
email, the event's ``event_id`` the trigger, and chalicelib/store/email_receipts.py
guards the pair. Everything an email shows comes from the event's detail
(chalicelib/domain/events.py) and the shop's settings, never from a read of
the table: the email tells what was true when the event happened. The one
exception is a secret no event may carry: the pickup code, which the caller
reads from the order and hands in as ``secrets`` (notify/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from chalicelib.domain import events
from chalicelib.domain.errors import InvalidTransferDetails
from chalicelib.notify import formatting
from chalicelib.notify.render import render, render_string
from chalicelib.observability import logger
from chalicelib.services.ports import Email, InlineImage
from chalicelib.settings import NotificationSettings

Recipient = Literal["customer", "merchant"]


@dataclass(frozen=True)
class Kind:
    """One kind of email: its template and who receives it."""

    name: str
    recipient: Recipient
    subject: dict[str, str]  # locale -> one-line Jinja template
    marketing: bool = False  # marketing mail carries the one-click opt-out


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "order_confirmation",
            "customer",
            {
                "de": "Ihre Bestellung {{ order.number }} bei {{ shop.name }}",
                "en": "Your {{ shop.name }} order {{ order.number }}",
            },
        ),
        Kind(
            "new_order",
            "merchant",
            {
                "de": "Neue Bestellung {{ order.number }} über"
                " {{ order.totals.total|money(order.totals.currency) }}",
                "en": "New order {{ order.number }} for"
                " {{ order.totals.total|money(order.totals.currency) }}",
            },
        ),
        Kind(
            "payment_received",
            "customer",
            {
                "de": "Zahlung erhalten für Bestellung {{ order.number }}",
                "en": "Payment received for order {{ order.number }}",
            },
        ),
        Kind(
            "order_shipped",
            "customer",
            {
                "de": "Ihre Bestellung {{ order.number }} ist unterwegs",
                "en": "Your order {{ order.number }} is on its way",
            },
        ),
        Kind(
            "order_delivered",
            "customer",
            {
                "de": "Ihre Bestellung {{ order.number }} wurde zugestellt",
                "en": "Your order {{ order.number }} has been delivered",
            },
        ),
        # Click & collect: where, when and the code (docs/fulfilment.md).
        Kind(
            "ready_for_pickup",
            "customer",
            {
                "de": "Ihre Bestellung {{ order.number }} liegt zur Abholung bereit",
                "en": "Your order {{ order.number }} is ready for pickup",
            },
        ),
        Kind(
            "order_cancelled",
            "customer",
            {
                "de": "Ihre Bestellung {{ order.number }} wurde storniert",
                "en": "Your order {{ order.number }} has been cancelled",
            },
        ),
        Kind(
            "refund_issued",
            "customer",
            {
                "de": "Erstattung zu Ihrer Bestellung {{ order.number }}",
                "en": "Refund for your order {{ order.number }}",
            },
        ),
        Kind(
            "invoice_document",
            "customer",
            {
                "de": "{% if data.kind == 'credit_note' %}Ihre Rechnungskorrektur{% else %}Ihre"
                " Rechnung{% endif %} {{ data.number }} zu Bestellung {{ order.number }}",
                "en": "{% if data.kind == 'credit_note' %}Your credit note{% else %}Your"
                " invoice{% endif %} {{ data.number }} for order {{ order.number }}",
            },
        ),
        Kind(
            "payment_reminder",
            "customer",
            {
                "de": "Erinnerung: Ihre Bestellung {{ order.number }} ist noch nicht bezahlt",
                "en": "Reminder: your order {{ order.number }} is awaiting payment",
            },
        ),
        Kind(
            "order_note",
            "customer",
            {
                "de": "Eine Nachricht zu Ihrer Bestellung {{ order.number }}",
                "en": "A message about your order {{ order.number }}",
            },
        ),
        # Withdrawals (docs/withdrawal.md).
        Kind(
            "withdrawal_received",
            "customer",
            {
                "de": "Eingangsbestätigung Ihres Widerrufs zu Bestellung {{ order.number }}",
                "en": "We received your withdrawal from order {{ order.number }}",
            },
        ),
        Kind(
            "withdrawal_notice",
            "merchant",
            {
                "de": "Widerruf zu Bestellung {{ order.number }}",
                "en": "Withdrawal from order {{ order.number }}",
            },
        ),
        Kind(
            "withdrawal_refund_reminder",
            "merchant",
            {
                "de": "{% if data.kind == 'overdue' %}Erstattung überfällig{% else %}Erstattung"
                " bald fällig{% endif %}: Widerruf zu Bestellung {{ order.number }}",
                "en": "{% if data.kind == 'overdue' %}Refund overdue{% else %}Refund due"
                " soon{% endif %}: withdrawal from order {{ order.number }}",
            },
        ),
        Kind(
            "cart_nudge",
            "customer",
            {
                "de": "Ihr Warenkorb bei {{ shop.name }} wartet auf Sie",
                "en": "You left something in your cart at {{ shop.name }}",
            },
            marketing=True,
        ),
    )
}

#: detail-type -> the kinds of email it sends. Events not listed send none
#: (PaymentFailed: the customer is still on the payment page).
KINDS_BY_EVENT: dict[str, tuple[str, ...]] = {
    "OrderPlaced": ("order_confirmation", "new_order"),
    "OrderPaid": ("payment_received",),
    "OrderShipped": ("order_shipped",),
    "OrderDelivered": ("order_delivered",),
    "OrderReadyForPickup": ("ready_for_pickup",),
    "OrderCancelled": ("order_cancelled",),
    "OrderExpired": ("order_cancelled",),
    "OrderRefunded": ("refund_issued",),
    # The invoice and each credit note, once its PDF is in the archive: the
    # PDF is attached (read from the bucket: ATTACHED_BY_EVENT).
    "DocumentArchived": ("invoice_document",),
    "PaymentReminderDue": ("payment_reminder",),
    "CartAbandoned": ("cart_nudge",),
    # Fulfilment: a customer-visible note is mailed; internal ones never are
    # (emails_for skips customer mail of internal entries).
    "NoteAdded": ("order_note",),
    "WithdrawalReceived": ("withdrawal_received", "withdrawal_notice"),
    "WithdrawalRefundReminder": ("withdrawal_refund_reminder",),
}


@dataclass(frozen=True)
class Seller:
    """Who the customer's contract is with, as the contract confirmation names
    it (Art. 246a § 1 EGBGB; docs/legal.md). Empty fields are left out."""

    legal_name: str = ""
    vat_id: str = ""
    tax_number: str = ""
    register_court: str = ""
    register_number: str = ""
    managing_directors: str = ""


@dataclass(frozen=True)
class Payee:
    """The merchant's account a bank transfer goes to."""

    account_holder: str = ""
    iban: str = ""
    bic: str = ""


@dataclass(frozen=True)
class Shop:
    """The shop as its emails present it (from SHOP_ settings)."""

    name: str
    postal_address: str
    support_email: str
    logo_url: str
    timezone: str
    merchant_email: str
    merchant_locale: str
    phone: str = ""  # the seller's, for customers (empty: none given)
    seller: Seller = Seller()
    payee: Payee = Payee()
    #: The storefront's withdrawal page; "{number}" becomes the order number.
    withdrawal_url: str = ""
    returns_paid_by_shop: bool = False

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> Shop:
        return cls(
            name=settings.display_name,
            postal_address=settings.postal_address,
            support_email=settings.support_email,
            logo_url=settings.logo_url,
            timezone=settings.timezone,
            merchant_email=settings.merchant_email,
            merchant_locale=settings.merchant_locale,
            phone=settings.phone,
            seller=Seller(
                legal_name=settings.legal_name,
                vat_id=settings.vat_id,
                tax_number=settings.tax_number,
                register_court=settings.register_court,
                register_number=settings.register_number,
                managing_directors=settings.managing_directors,
            ),
            payee=Payee(
                account_holder=settings.bank_account_holder,
                iban=settings.bank_iban,
                bic=settings.bank_bic,
            ),
            withdrawal_url=settings.withdrawal_url,
            returns_paid_by_shop=settings.returns_paid_by_shop,
        )


#: The emails that ask for a bank transfer carry its details and the GiroCode.
ASKS_FOR_TRANSFER = frozenset({"order_confirmation", "payment_reminder"})
#: The confirmation of the contract (§ 312f (2) BGB): seller, terms, withdrawal.
CONFIRMS_CONTRACT = frozenset({"order_confirmation"})
GIROCODE_CID = "girocode@{domain}"


@dataclass(frozen=True)
class BankTransferDetails:
    """What the customer needs to pay by bank transfer, as the email shows it."""

    account_holder: str
    iban: str  # grouped in fours, as people read it
    bic: str
    amount: int
    currency: str
    reference: str  # the order number
    due_at: datetime
    girocode_cid: str | None  # the inline image, when the details make one


#: detail-type -> the kinds of email that carry the archived PDF the event
#: names (notify/service.py reads it from the invoices bucket).
ATTACHED_BY_EVENT: dict[str, frozenset[str]] = {"DocumentArchived": frozenset({"invoice_document"})}

#: detail-type -> the secret its email shows, which the event must not carry.
SECRETS_BY_EVENT: dict[str, str] = {"OrderReadyForPickup": "pickup_code"}


def emails_for(
    detail_type: str, detail: BaseModel, shop: Shop, secrets: dict[str, str] | None = None
) -> list[Email]:
    """Every email the event sends, rendered. Internal events send none to
    the customer."""
    out = []
    for name in KINDS_BY_EVENT.get(detail_type, ()):
        kind = KINDS[name]
        if kind.recipient == "customer" and getattr(detail, "visibility", "") == "internal":
            continue
        out.append(build(kind, detail_type, detail, shop, secrets))
    return out


def build(
    kind: Kind,
    detail_type: str,
    detail: BaseModel,
    shop: Shop,
    secrets: dict[str, str] | None = None,
) -> Email:
    order = getattr(detail, "order", None)
    cart = getattr(detail, "cart", None)
    subject_id = order.id if order is not None else cart.id  # type: ignore[union-attr]
    if kind.recipient == "merchant":
        to, locale = shop.merchant_email, shop.merchant_locale
    elif order is not None:
        to, locale = order.customer.email, order.locale
    else:
        to, locale = cart.email, cart.locale  # type: ignore[union-attr]
    locale = formatting.supported_locale(locale)
    values: dict[str, Any] = {
        "shop": shop,
        "order": order,
        "cart": cart,
        "data": detail.data,  # type: ignore[attr-defined]
        "detail_type": detail_type,
        "occurred_at": detail.occurred_at,  # type: ignore[attr-defined]
        "unsubscribe_url": None,
        **(secrets or {}),
    }
    headers: dict[str, str] = {}
    if kind.marketing:
        unsubscribe_url = detail.data.unsubscribe_url  # type: ignore[attr-defined]
        values["unsubscribe_url"] = unsubscribe_url
        # RFC 8058 one-click unsubscribe, as Gmail and Yahoo require of bulk senders.
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    images: tuple[InlineImage, ...] = ()
    if order is not None and kind.name in CONFIRMS_CONTRACT:
        values.update(contract_values(order, detail.data, shop))  # type: ignore[attr-defined]
    if order is not None and kind.name in ASKS_FOR_TRANSFER:
        transfer, image = bank_transfer(order, detail.data, shop)  # type: ignore[attr-defined]
        values["bank_transfer"] = transfer
        images = (image,) if image is not None else ()
    html, text = render(kind.name, locale, values)
    return Email(
        kind=kind.name,
        subject_id=subject_id,
        event_id=detail.event_id,  # type: ignore[attr-defined]
        to=to,
        locale=locale,
        subject=render_string(kind.subject[locale], locale, values),
        html=html,
        text=text,
        headers=headers,
        images=images,
    )


def contract_values(order: Any, data: Any, shop: Shop) -> dict[str, Any]:
    """What the contract confirmation adds: the terms accepted (from the
    OrderPlaced event; an order placed before checkout recorded them has
    none), the withdrawal page of this order and who pays for returns."""
    return {
        "terms_version": getattr(data, "terms_version", None),
        "terms_accepted_at": getattr(data, "terms_accepted_at", None),
        "withdrawal_url": shop.withdrawal_url.replace("{number}", order.number),
        "returns_paid_by_shop": shop.returns_paid_by_shop,
    }


def bank_transfer(
    order: Any, data: Any, shop: Shop
) -> tuple[BankTransferDetails | None, InlineImage | None]:
    """The transfer an unpaid bank-transfer order asks for, and its GiroCode
    (EPC069-12) as an inline PNG; (None, None) for any other order. The
    deadline is the reminder's when it is one, else the order's."""
    if order.payment_method != "bank_transfer" or order.payment_status != "unpaid":
        return None, None
    payee = shop.payee
    image = _girocode(order, shop)
    details = BankTransferDetails(
        account_holder=payee.account_holder,
        iban=_grouped(payee.iban),
        bic=payee.bic,
        amount=order.totals.total,
        currency=order.totals.currency,
        reference=order.number,
        due_at=getattr(data, "payment_due_at", None) or order.payment_due_at,
        girocode_cid=image.content_id if image is not None else None,
    )
    return details, image


def _girocode(order: Any, shop: Shop) -> InlineImage | None:
    """The EPC QR code of the transfer, or None (logged) when the shop's bank
    details or the order cannot make one: the email gives them as text anyway."""
    from chalicelib.payments import girocode

    if order.totals.currency != "EUR":
        logger.warning("no girocode", order_id=order.id, field="currency")
        return None
    payee = shop.payee
    transfer = girocode.Transfer(
        beneficiary=payee.account_holder,
        iban=payee.iban,
        bic=payee.bic,
        amount=order.totals.total,
        text=order.number,  # unstructured remittance: what the customer's bank shows us
    )
    try:
        png = girocode.png(girocode.payload(transfer))
    except InvalidTransferDetails as exc:
        logger.warning("no girocode", order_id=order.id, field=exc.details.get("field"))
        return None
    domain = shop.support_email.rpartition("@")[2] or "shop"
    return InlineImage(content_id=GIROCODE_CID.format(domain=domain), subtype="png", data=png)


def _grouped(iban: str) -> str:
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def parse(detail_type: str, detail: dict[str, Any]) -> BaseModel | None:
    """The validated detail of an event that sends email, else None."""
    if detail_type not in KINDS_BY_EVENT:
        return None
    return events.parse_detail(detail_type, detail)
