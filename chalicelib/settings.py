"""The settings, in groups per concern, composed per Lambda function.

Every setting is the environment variable SHOP_<FIELD NAME>. A function
validates only the groups it uses (chalicelib/config.py reads the
environment and caches each validated model): the notifications function
never sees a Stripe parameter name, the outbox only its event bus.

Why these compositions: the use cases share one ``Context`` (services/
context.py), whose settings span orders, payments, schedules and
fulfilment. So the functions that run use cases (the API, the
payment-events consumer, the schedules) validate ``ServiceSettings``; the
outbox and the notifications function run none and validate only their
own; the API adds its request and admin-key settings.

Plain pydantic models read by ``config.validate_settings`` rather than
pydantic-settings: that library costs ~75 ms of import on every cold start
for features (dotenv, CLI, secrets dirs) a Lambda never uses.
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.triggers import PAYMENT_EVENTS_QUEUE


class SettingsGroup(BaseModel):
    """A group of settings, or a composition of groups (by inheritance).

    Built on first validation (``defer_build``): a function validates one
    composition, and building the dozen others at import would cost every
    cold start about 10 ms (docs/performance.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# --- the groups ------------------------------------------------------------------


class CommonSettings(SettingsGroup):
    """What every function uses: the stage, the table, the AWS clients."""

    stage: Literal["dev", "prod", "local", "test"] = "dev"
    table_name: str = Field(min_length=3, max_length=255)

    # AWS SDK timeouts: well under the Lambda timeout, so a stuck call is
    # retried (standard retry mode) instead of eating the invocation. The
    # local stack raises the read timeout: its emulator serves one request at
    # a time and takes seconds under a load test.
    aws_connect_timeout_seconds: float = Field(default=3, gt=0)
    aws_read_timeout_seconds: float = Field(default=5, gt=0)


class ApiSettings(SettingsGroup):
    """The HTTP API's own: admin keys and request bounds (docs/api.md)."""

    # Admin API keys: an SSM SecureString parameter holding a JSON list of the
    # keys' sha256 hex digests. Rotating a key is editing that list.
    admin_keys_parameter: str = "/shop/dev/admin-key-hashes"
    admin_keys_cache_seconds: int = Field(default=300, ge=0)

    # Request bodies above this are refused with 413 before parsing.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)


class OrderSettings(SettingsGroup):
    """Checkout and the catalog."""

    # Catalog entries are cached per warm Lambda; the placement transaction
    # re-checks each product's catalog version, so a stale cache can never
    # sell at an old price, it only costs a retry.
    catalog_cache_seconds: float = Field(default=30.0, ge=0)

    # How long an order may wait for its payment, per payment method.
    # Fractions are allowed so a demo (`make run ARGS=--speed 60`) can shrink them.
    payment_window_card_minutes: float = Field(default=30, gt=0)
    payment_window_paypal_minutes: float = Field(default=30, gt=0)
    payment_window_bank_transfer_minutes: float = Field(default=7 * 24 * 60, gt=0)

    # Idempotency records live this long; a retry after that places a new order.
    idempotency_ttl_hours: int = Field(default=24, ge=1)

    def payment_window_minutes(self, method: str) -> float:
        return {
            "card": self.payment_window_card_minutes,
            "paypal": self.payment_window_paypal_minutes,
            "bank_transfer": self.payment_window_bank_transfer_minutes,
        }[method]


class ShopSettings(SettingsGroup):
    """The shop as its emails and packing slips present it, and the seller's
    identity the contract confirmation must carry (Art. 246a § 1 EGBGB,
    docs/legal.md). The defaults are neutral samples: a shop sets its own."""

    display_name: str = Field(default="Shop", min_length=1, max_length=100)
    postal_address: str = Field(default="Musterstr. 1, 10115 Berlin", max_length=300)
    support_email: str = "support@example.com"
    logo_url: str = ""
    timezone: str = "Europe/Berlin"

    # The seller: the legal name (with its legal form), how to reach it, and
    # what the Impressum names. Empty optional fields are left out of the emails.
    legal_name: str = Field(default="Muster Shop GmbH", min_length=1, max_length=200)
    phone: str = Field(default="+49 30 12345678", max_length=40)
    vat_id: str = Field(default="DE123456789", max_length=20, description="USt-IdNr.")
    tax_number: str = Field(default="", max_length=30, description="Steuernummer")
    register_court: str = Field(default="Amtsgericht Berlin-Charlottenburg", max_length=100)
    register_number: str = Field(default="HRB 000000", max_length=40)
    managing_directors: str = Field(default="Max Mustermann", max_length=200)

    # The terms (AGB) a checkout must accept: the version the storefront shows
    # (templates/legal/<locale>/terms.* carry the text). A checkout that sends
    # another version is refused (terms_version_outdated). The pattern is
    # domain/order.py's TERMS_VERSION_PATTERN, the one the API checks.
    terms_version: str = Field(default="2026-06-19", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
    # The storefront's page with the "Vertrag widerrufen" button (docs/withdrawal.md);
    # the confirmation links it. "{number}" is filled in with the order number.
    withdrawal_url: str = "http://127.0.0.1:8000/withdrawal?order={number}"
    # Whether the shop pays for returning withdrawn goods (the withdrawal notice says so).
    returns_paid_by_shop: bool = False


class BankSettings(SettingsGroup):
    """The merchant's account for bank transfers (Vorkasse): the checkout's
    payment instructions and the emails that ask for the transfer show it."""

    bank_account_holder: str = ""
    bank_iban: str = ""
    bank_bic: str = ""


class EventSettings(SettingsGroup):
    """The outbox's (docs/events.md)."""

    event_bus_name: str = "orders"


class EmailSettings(SettingsGroup):
    """Sending the emails (docs/events.md)."""

    # Who sends (a verified SES identity), into which configuration set
    # (bounces, complaints and delivery events), and who hears of new orders.
    email_sender: str = "Shop <shop@example.com>"
    ses_configuration_set: str = "shop-emails"
    merchant_email: str = "orders@example.com"
    merchant_locale: Literal["de", "en"] = "de"
    # A claimed-but-unfinished send is retried only after this lease (longer
    # than one SES call with its retries), so two deliveries never both send.
    email_send_lease_seconds: int = Field(default=120, ge=10)
    email_receipt_ttl_days: int = Field(default=30, ge=15)


class ScheduleSettings(SettingsGroup):
    """The scheduled jobs and carts (docs/schedules.md)."""

    # An order whose payment the provider reported as started waits this long
    # after that report before the expiry sweep may expire it.
    payment_attempt_grace_minutes: int = Field(default=30, ge=0)
    # Bank-transfer orders get one reminder this long before their deadline.
    payment_reminder_lead_hours: int = Field(default=48, ge=1)
    # A cart untouched this long (with items, address and consent) is nudged once.
    cart_nudge_delay_hours: float = Field(default=10, gt=0)
    # Candidates each sweep run takes at most; the rest wait for the next run.
    sweep_batch_size: int = Field(default=200, ge=1, le=5000)
    # Links in the nudge email: the storefront's cart page ({cart_id} and
    # {token} are filled in) and this API's public base URL (opt-out link).
    cart_link_template: str = "http://127.0.0.1:8000/carts/{cart_id}?token={token}"
    public_api_url: str = "http://127.0.0.1:8000"


class FulfilmentSettings(SettingsGroup):
    """Fulfilment and the order desk (docs/fulfilment.md)."""

    # SSM SecureString: a JSON list of the carrier callbacks' signing secrets
    # (several while rotating).
    carrier_webhook_secrets_parameter: str = "/shop/dev/carrier-webhook-secrets"
    carrier_secrets_cache_seconds: int = Field(default=300, ge=0)
    # The order desk's listing without a date range or other key walks this
    # many months back (one index partition per month).
    desk_lookback_months: int = Field(default=36, ge=1, le=240)


class PaymentSettings(BankSettings):
    """Payment providers, callbacks and the payment-events queue (docs/payments.md)."""

    # "fake" replaces Stripe's API with chalicelib/payments/fake.py (local
    # runs and tests: no network); callbacks keep Stripe's format either way.
    payment_provider_api: Literal["stripe", "fake"] = "stripe"
    # SSM SecureString parameters: the Stripe secret key (plain text), and
    # JSON lists of the active webhook signing secrets (several during a
    # rotation, see infrastructure/definitions.py).
    stripe_api_key_parameter: str = "/shop/dev/stripe-api-key"
    stripe_webhook_secrets_parameter: str = "/shop/dev/stripe-webhook-secrets"
    hmac_webhook_secrets_parameter: str = "/shop/dev/hmac-webhook-secrets"
    payment_secrets_cache_seconds: int = Field(default=300, ge=0)
    # Stripe retries a callback for up to three days; receipts outlive that.
    webhook_receipt_ttl_days: int = Field(default=30, ge=4)
    payment_events_queue_name: str = PAYMENT_EVENTS_QUEUE
    # Where Stripe sends the customer back; "{order_id}" is filled in,
    # Stripe's own "{CHECKOUT_SESSION_ID}" is left for Stripe.
    checkout_success_url: str = "http://127.0.0.1:8000/checkout/success?order={order_id}"
    checkout_cancel_url: str = "http://127.0.0.1:8000/checkout/cancelled?order={order_id}"
    # The fake provider's pay page (the dev server of `make run`).
    fake_pay_page_url: str = "http://127.0.0.1:8001"


class InvoiceSettings(SettingsGroup):
    """Invoices and credit notes (docs/invoices.md)."""

    # When an order's invoice is issued: when it is paid, or at its first shipment.
    invoice_issued_at: Literal["payment", "first_shipment"] = "payment"
    # The number series: <series>-<year>-<5 digits>, counted from 1 every year.
    invoice_series: str = Field(default="RE", pattern=r"^[A-Z]{1,4}$")
    credit_note_series: str = Field(default="GS", pattern=r"^[A-Z]{1,4}$")
    # The seller's contact point the e-invoice names (BT-41; XRechnung requires
    # one): a person or a department. Its phone and email are the shop's.
    invoice_contact: str = Field(default="Buchhaltung", min_length=1, max_length=100)


#: "19=8400,7=8300": VAT rate = account (or tax key), comma-separated.
_RATE_MAP = r"^$|^[0-9]{1,2}([.][0-9]{1,2})?=[0-9]{1,9}(,[0-9]{1,2}([.][0-9]{1,2})?=[0-9]{1,9})*$"


class TaxExportSettings(SettingsGroup):
    """The month's export for the tax advisor (docs/invoices.md): the DATEV
    client the booking batch is for and its accounts. The defaults are
    neutral samples: the advisor names the real values."""

    datev_consultant_number: int = Field(default=1001, ge=1001, le=9_999_999)  # Beraternummer
    datev_client_number: int = Field(default=1, ge=1, le=99_999)  # Mandantennummer
    datev_fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    datev_account_length: int = Field(default=4, ge=4, le=8)  # Sachkontenlänge
    datev_chart: Literal["SKR03", "SKR04"] = "SKR03"
    # The customer account every document is booked on (a Sammeldebitor).
    datev_customer_account: str = Field(default="10000", pattern=r"^[0-9]{4,9}$")
    # Revenue account per VAT rate, over the chart's automatic accounts
    # (SKR03 19=8400,7=8300; SKR04 19=4400,7=4300), e.g. "0=8338".
    datev_revenue_accounts: str = Field(default="", pattern=_RATE_MAP)
    # BU-Schlüssel per rate, for revenue accounts that are not automatic.
    datev_tax_keys: str = Field(default="", pattern=_RATE_MAP)


class ArchiveSettings(SettingsGroup):
    """The invoices bucket: the PDFs of every invoice and credit note (docs/invoices.md)."""

    # Versioned, with Object Lock (compliance mode, eight years: section 147 AO).
    invoice_bucket: str = Field(default="shop-invoices", min_length=3, max_length=63)
    # A download answers a presigned link to the archived PDF, valid this long.
    document_link_seconds: int = Field(default=60, ge=10, le=3600)


class WithdrawalSettings(SettingsGroup):
    """The withdrawal function and its refund reminders (docs/withdrawal.md)."""

    # The form's order lookup: this many attempts per client (source IP) in
    # one fixed window; the next is a 429 until the window ends.
    withdrawal_lookup_attempts: int = Field(default=10, ge=1)
    withdrawal_lookup_window_minutes: int = Field(default=15, ge=1)
    # The merchant is reminded this long before a withdrawal's refund deadline.
    withdrawal_reminder_lead_hours: int = Field(default=72, ge=1)


class BackOfficeSettings(SettingsGroup):
    """The merchant's back office (docs/back-office.md): its Cognito user pool and sessions."""

    # The user pool whose groups (owner, staff, warehouse) grant the roles, and
    # the app client the server signs in with (USER_PASSWORD_AUTH, no secret).
    staff_user_pool_id: str = "eu-central-1_unset"
    staff_user_pool_client_id: str = "unset"
    # A session ends this long after the sign-in, or after this long without a request.
    back_office_session_hours: float = Field(default=10, gt=0, le=24)
    back_office_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)


# --- per function ----------------------------------------------------------------


class ServiceSettings(
    CommonSettings,
    OrderSettings,
    PaymentSettings,
    ScheduleSettings,
    FulfilmentSettings,
    ShopSettings,
    WithdrawalSettings,
    TaxExportSettings,
    BackOfficeSettings,
    ArchiveSettings,
):
    """What the use cases read from their Context: the API, the
    payment-events consumer and the schedules."""


class NotificationSettings(
    CommonSettings, BankSettings, ShopSettings, EmailSettings, ArchiveSettings
):
    """The notifications function's (it attaches the archived PDFs)."""


class OutboxSettings(CommonSettings, EventSettings):
    """The outbox function's."""


class InvoicingSettings(CommonSettings, BankSettings, ShopSettings, InvoiceSettings):
    """The invoices function's: the seller, the bank account, the series."""


class DocumentSettings(CommonSettings, ArchiveSettings):
    """The documents function's: the table and the bucket."""


class Settings(
    ServiceSettings, NotificationSettings, OutboxSettings, ApiSettings, InvoicingSettings
):
    """Every setting: tests, the local stack's tools and email previews."""
