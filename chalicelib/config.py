"""Settings, read from the environment once and validated at cold start.

This is the only module that reads environment variables. A missing or
malformed setting fails the cold start with a message naming the variable,
instead of failing the first request that happens to need it.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_", frozen=True, extra="ignore")

    stage: Literal["dev", "prod", "local", "test"] = "dev"
    table_name: str = Field(min_length=3, max_length=255)

    # Admin API keys: an SSM SecureString parameter holding a JSON list of the
    # keys' sha256 hex digests. Rotating a key is editing that list.
    admin_keys_parameter: str = "/shop/dev/admin-key-hashes"
    admin_keys_cache_seconds: int = Field(default=300, ge=0)

    # Catalog entries are cached per warm Lambda; the placement transaction
    # re-checks each product's catalog version, so a stale cache can never
    # sell at an old price, it only costs a retry.
    catalog_cache_seconds: float = Field(default=30.0, ge=0)

    # How long an order may wait for its payment, per payment method.
    payment_window_card_minutes: int = Field(default=30, ge=1)
    payment_window_paypal_minutes: int = Field(default=30, ge=1)
    payment_window_bank_transfer_minutes: int = Field(default=7 * 24 * 60, ge=1)

    # Idempotency records live this long; a retry after that places a new order.
    idempotency_ttl_hours: int = Field(default=24, ge=1)

    # Request bodies above this are refused with 413 before parsing.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # --- payments (docs/payments.md) ---
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
    payment_events_queue_name: str = "payment-events.fifo"
    # Where Stripe sends the customer back; "{order_id}" is filled in,
    # Stripe's own "{CHECKOUT_SESSION_ID}" is left for Stripe.
    checkout_success_url: str = "http://127.0.0.1:8000/checkout/success?order={order_id}"
    checkout_cancel_url: str = "http://127.0.0.1:8000/checkout/cancelled?order={order_id}"
    # The fake provider's pay page (the dev server of `make run`).
    fake_pay_page_url: str = "http://127.0.0.1:8001"
    # The merchant's account for bank transfers (shown to the customer).
    bank_account_holder: str = ""
    bank_iban: str = ""
    bank_bic: str = ""

    def payment_window_minutes(self, method: str) -> int:
        return {
            "card": self.payment_window_card_minutes,
            "paypal": self.payment_window_paypal_minutes,
            "bank_transfer": self.payment_window_bank_transfer_minutes,
        }[method]


@functools.cache
def get_settings() -> Settings:
    # pydantic-settings reads the environment; a ValidationError here names
    # the missing or invalid SHOP_* variable.
    return Settings()
