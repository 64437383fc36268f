"""The back office's presentation: the Jinja2 pages, their words in German
and English, cookies and forms (docs/back-office.md). No rules live here:
what a role may do is domain/staff.py, what an action does the use cases.

Loaded by the first back-office request only (the route table,
api/routes.py), so the storefront's cold start loads neither Jinja2 nor
these templates.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from chalice import Response
from chalice.app import Request

from chalicelib.api.errors import RequestError
from chalicelib.api.http import raw_body
from chalicelib.domain.staff import Permission, StaffSession, may

TEMPLATES = Path(__file__).parent / "templates" / "back_office"
LOCALES = ("de", "en")
SESSION_COOKIE = "bo_session"
#: With Secure, the ``__Host-`` prefix: the browser then refuses the cookie
#: from any subdomain or path but ours, and over plain HTTP.
SECURE_SESSION_COOKIE = "__Host-bo_session"
LANGUAGE_COOKIE = "bo_lang"

#: Every word of the pages: key -> (German, English).
WORDS: dict[str, tuple[str, str]] = {
    "back_office": ("Backoffice", "Back office"),
    "skip": ("Zum Inhalt springen", "Skip to content"),
    "sign_in": ("Anmelden", "Sign in"),
    "sign_out": ("Abmelden", "Sign out"),
    "email": ("E-Mail-Adresse", "Email address"),
    "password": ("Passwort", "Password"),
    "signed_in_as": ("Angemeldet als", "Signed in as"),
    "role_owner": ("Inhaber", "Owner"),
    "role_staff": ("Mitarbeiter", "Staff"),
    "role_warehouse": ("Lager", "Warehouse"),
    "language": ("Sprache", "Language"),
    "orders": ("Bestellungen", "Orders"),
    "order": ("Bestellung", "Order"),
    "filters": ("Filter", "Filters"),
    "status": ("Status", "Status"),
    "payment_status": ("Zahlungsstatus", "Payment status"),
    "payment_method": ("Zahlungsart", "Payment method"),
    "created_from": ("Bestellt ab", "Ordered from"),
    "created_to": ("Bestellt bis", "Ordered until"),
    "number": ("Bestellnummer", "Order number"),
    "name": ("Kundenname", "Customer name"),
    "any": ("alle", "any"),
    "apply": ("Filtern", "Apply filters"),
    "reset": ("Zurücksetzen", "Reset"),
    "select": ("Auswahl", "Select"),
    "select_order": ("Bestellung auswählen", "Select order"),
    "customer": ("Kunde", "Customer"),
    "delivery": ("Lieferung", "Delivery"),
    "payment": ("Zahlung", "Payment"),
    "city": ("Ort", "City"),
    "total": ("Summe", "Total"),
    "date": ("Datum", "Date"),
    "no_orders": ("Keine Bestellungen zu diesen Filtern.", "No orders match these filters."),
    "next_page": ("Nächste Seite", "Next page"),
    "first_page": ("Erste Seite", "First page"),
    "bulk": ("Ausgewählte Bestellungen", "Selected orders"),
    "bank_reference": ("Referenz der Überweisung", "Bank transfer reference"),
    "mark_paid": ("Als bezahlt markieren", "Mark as paid"),
    "print_slips": ("Lieferscheine drucken", "Print packing slips"),
    "carrier": ("Versanddienstleister", "Carrier"),
    "tracking_number": ("Sendungsnummer", "Tracking number"),
    "tracking_number_of": ("Sendungsnummer für", "Tracking number for"),
    "tracking_url": ("Sendungsverfolgung (URL, optional)", "Tracking link (URL, optional)"),
    "mark_shipped": ("Als versandt markieren", "Mark as shipped"),
    "results": ("Ergebnis", "Result"),
    "back_to_orders": ("Zurück zu den Bestellungen", "Back to the orders"),
    "back_to_order": ("Zurück zur Bestellung", "Back to the order"),
    "lines": ("Positionen", "Lines"),
    "sku": ("Artikelnr.", "SKU"),
    "item": ("Artikel", "Item"),
    "quantity": ("Menge", "Quantity"),
    "shipped": ("Versandt", "Shipped"),
    "returned": ("Zurück", "Returned"),
    "unit_price": ("Einzelpreis", "Unit price"),
    "line_total": ("Gesamt", "Line total"),
    "subtotal": ("Zwischensumme", "Subtotal"),
    "discount": ("Rabatt", "Discount"),
    "shipping": ("Versand", "Shipping"),
    "vat": ("enthaltene MwSt.", "incl. VAT"),
    "addresses": ("Adressen", "Addresses"),
    "shipping_address": ("Lieferadresse", "Shipping address"),
    "billing_address": ("Rechnungsadresse", "Billing address"),
    "pickup_at": ("Abholung in", "Pickup at"),
    "paid_amount": ("Bezahlt", "Paid"),
    "refunded_amount": ("Erstattet", "Refunded"),
    "provider": ("Anbieter", "Provider"),
    "reference": ("Referenz", "Reference"),
    "received": ("Eingegangen", "Received"),
    "shipments": ("Sendungen", "Shipments"),
    "no_shipments": ("Noch nichts versandt.", "Nothing shipped yet."),
    "track": ("Sendung verfolgen", "Track parcel"),
    "history": ("Verlauf", "History"),
    "visible_to_customer": ("für Kunden sichtbar", "visible to the customer"),
    "internal": ("intern", "internal"),
    "by": ("von", "by"),
    "actions": ("Aktionen", "Actions"),
    "add_note": ("Notiz hinzufügen", "Add a note"),
    "note": ("Notiz", "Note"),
    "note_internal": ("Intern (nur für den Shop)", "Internal (the shop only)"),
    "note_customer": (
        "Für Kunden sichtbar (der Kunde erhält sie per E-Mail)",
        "Visible to the customer (emailed to the customer)",
    ),
    "ship": ("Versenden", "Ship"),
    "ship_hint": (
        "Menge je Position; 0 bleibt für eine spätere Sendung.",
        "Quantity per line; 0 stays for a later parcel.",
    ),
    "quantity_of": ("Menge von", "Quantity of"),
    "cancel": ("Stornieren", "Cancel the order"),
    "cancel_hint": (
        "Gibt den Bestand frei; eine Zahlung wird erstattet.",
        "Releases the stock; a payment is refunded.",
    ),
    "reason": ("Grund", "Reason"),
    "refund": ("Erstatten", "Refund"),
    "amount": ("Betrag", "Amount"),
    "amount_hint": ("leer: alles Bezahlte", "empty: everything paid"),
    "return": ("Rücksendung erfassen", "Record a return"),
    "restock": ("wieder einlagern", "back to stock"),
    "restock_of": ("Wieder einlagern:", "Back to stock:"),
    "return_refund": ("Erstattung", "Refund"),
    "surcharge": ("Einbehalt (z. B. Rücksendekosten)", "Withheld (e.g. return shipping)"),
    "done": ("Erledigt.", "Done."),
    "error": ("Das ging nicht", "That did not work"),
    "signed_out": ("Sie sind abgemeldet.", "You are signed out."),
    "not_permitted": ("Ihre Rolle erlaubt das nicht.", "Your role does not allow this."),
    "form_outdated": (
        "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
        "The form has expired. Please reload the page.",
    ),
    "sign_in_failed": (
        "E-Mail-Adresse oder Passwort ist falsch.",
        "The email address or the password is wrong.",
    ),
    "outcome_paid": ("bezahlt", "paid"),
    "outcome_already_paid": ("war schon bezahlt", "was already paid"),
    "outcome_not_found": ("nicht gefunden", "not found"),
    "outcome_not_payable": ("erwartet keine Zahlung", "not awaiting a payment"),
    "outcome_shipped": ("versandt", "shipped"),
    "none_selected": ("Keine Bestellung ausgewählt.", "No order selected."),
}

#: The shop's statuses and methods in words.
VALUES: dict[str, tuple[str, str]] = {
    "pending_payment": ("wartet auf Zahlung", "awaiting payment"),
    "paid": ("bezahlt", "paid"),
    "on_hold": ("angehalten", "on hold"),
    "partially_shipped": ("teilweise versandt", "partially shipped"),
    "shipped": ("versandt", "shipped"),
    "delivered": ("zugestellt", "delivered"),
    "ready_for_pickup": ("abholbereit", "ready for pickup"),
    "picked_up": ("abgeholt", "picked up"),
    "cancelled": ("storniert", "cancelled"),
    "expired": ("abgelaufen", "expired"),
    "unpaid": ("offen", "unpaid"),
    "partially_refunded": ("teilweise erstattet", "partially refunded"),
    "refunded": ("erstattet", "refunded"),
    "unfulfilled": ("nicht versandt", "not shipped"),
    "card": ("Karte", "Card"),
    "paypal": ("PayPal", "PayPal"),
    "bank_transfer": ("Überweisung", "Bank transfer"),
    "label_created": ("Etikett erstellt", "label created"),
    "in_transit": ("unterwegs", "in transit"),
    "out_for_delivery": ("in Zustellung", "out for delivery"),
    "delivery_attempted": ("Zustellversuch", "delivery attempted"),
    "returned": ("zurückgesandt", "returned"),
    "lost": ("verloren", "lost"),
}

ORDER_STATUSES = (
    "pending_payment", "paid", "on_hold", "partially_shipped", "shipped", "delivered",
    "ready_for_pickup", "picked_up", "cancelled", "expired",
)  # fmt: skip
PAYMENT_STATUSES = ("unpaid", "paid", "partially_refunded", "refunded")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer")
CARRIERS = ("dhl", "dpd", "hermes", "ups", "gls")


class Words:
    """The pages' words in one language: ``t.orders``, ``t.value("paid")``."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._i = LOCALES.index(locale)

    def __getattr__(self, key: str) -> str:
        return WORDS[key][self._i]

    def word(self, key: str) -> str:
        """A word by a key built in the template (``"role_" ~ role``); unknown: the key."""
        return WORDS[key][self._i] if key in WORDS else key

    def value(self, value: str) -> str:
        return VALUES[value][self._i] if value in VALUES else value


# --- the request ----------------------------------------------------------------------


def cookies(request: Request) -> dict[str, str]:
    try:
        jar = SimpleCookie(request.headers.get("cookie", ""))
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def session_id(request: Request) -> str | None:
    jar = cookies(request)
    return jar.get(SECURE_SESSION_COOKIE) or jar.get(SESSION_COOKIE)


def locale_of(request: Request) -> str:
    """The language switch's cookie, else the browser's Accept-Language, else German."""
    chosen = cookies(request).get(LANGUAGE_COOKIE)
    if chosen in LOCALES:
        return chosen
    ranked = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.split("-")[0].lower()))
    for _, language in sorted(ranked, key=lambda pair: -pair[0]):
        if language in LOCALES:
            return language
    return "de"


def form(request: Request) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (size-bounded first)."""
    body = raw_body(request)
    try:
        return parse_qs(body.decode(), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise RequestError(400, "malformed_form", "the form could not be read") from None


def one(fields: Mapping[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise RequestError(400, "repeated_field", "give each field once", field=name)
    return values[0]


_AMOUNT = re.compile(r"^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$")


def amount(text: str | None, *, field: str) -> int | None:
    """Euros as typed (``12,50``, ``12.5``, ``12``) in cents; empty: None."""
    if text is None or not text.strip():
        return None
    found = _AMOUNT.match(text)
    if found is None:
        raise RequestError(422, "invalid_amount", "enter an amount like 12,50", field=field)
    units, cents = found.group(1), (found.group(2) or "0").ljust(2, "0")
    return int(units) * 100 + int(cents)


def quantity(text: str | None, *, field: str) -> int:
    if text is None or not text.strip():
        return 0
    if not text.strip().isdigit() or len(text.strip()) > 6:
        raise RequestError(422, "invalid_quantity", "enter a whole number", field=field)
    return int(text.strip())


def day_start(text: str | None, timezone: str, *, days: int = 0) -> datetime | None:
    """A date input's day (YYYY-MM-DD) as the moment it starts in the shop's time zone."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise RequestError(422, "invalid_date", "enter a date like 2026-12-04") from None
    return datetime.combine(day + timedelta(days=days), time(), ZoneInfo(timezone))


def back_office_prefix(request: Request) -> str:
    """Where the pages live in the URL: API Gateway's stage (``/api``) comes first
    on an execute-api address, not on a custom domain or the local server."""
    context = request.context or {}
    stage, path = context.get("stage", ""), context.get("path", "")
    return f"/{stage}" if stage and path.startswith(f"/{stage}/") else ""


def page_path(request: Request) -> str:
    """The path asked for, without the stage's prefix (where to come back to)."""
    path = str((request.context or {}).get("path", ""))
    return path.removeprefix(back_office_prefix(request))


def safe_next(target: str | None) -> str:
    """A path inside the back office to go back to (never another site)."""
    if target and target.startswith("/backoffice") and "//" not in target and "\\" not in target:
        return target
    return "/backoffice/orders"


# --- the answer ------------------------------------------------------------------------


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


#: What every page may be shown in and load: nothing from elsewhere, no frames.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def page(
    request: Request,
    template: str,
    *,
    session: StaffSession | None,
    status: int = 200,
    headers: Mapping[str, str | list[str]] | None = None,
    **values: Any,
) -> Response:
    locale = locale_of(request)
    prefix = back_office_prefix(request)
    html = (
        _environment()
        .get_template(template)
        .render(
            t=Words(locale),
            locale=locale,
            session=session,
            may=lambda permission: (
                session is not None and may(session.role, Permission(permission))
            ),
            url=lambda path, **query: (
                prefix + path + (f"?{urlencode(query, doseq=True)}" if query else "")
            ),
            here=page_path(request),
            **values,
        )
    )
    return Response(
        body=html,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS, **(headers or {})},
    )


def redirect(request: Request, path: str, *, cookies: list[str] | None = None) -> Response:
    headers: dict[str, str | list[str]] = {
        "Location": back_office_prefix(request) + path,
        "Cache-Control": "no-store",
    }
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=303, headers=headers)


def session_cookie(request: Request, value: str, *, secure: bool, max_age: int) -> str:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax (sent on a
    link from elsewhere, never on another site's form post), Secure outside the
    local stack. ``max_age`` 0 deletes it."""
    name = SECURE_SESSION_COOKIE if secure else SESSION_COOKIE
    # __Host- cookies must have Path=/ (and no Domain).
    path = "/" if secure else (back_office_prefix(request) + "/backoffice")
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def language_cookie(request: Request, locale: str, *, secure: bool) -> str:
    path = back_office_prefix(request) + "/backoffice"
    parts = [f"{LANGUAGE_COOKIE}={locale}", f"Path={path}", "Max-Age=31536000", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
