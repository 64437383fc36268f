"""Shared fixtures. Unit tests use fakes and no sockets; integration tests
share one moto mock per session and get a fresh table per test."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from local.aws import LOCAL_CREDENTIALS

# Tests never talk to real AWS: fixed fake credentials and no endpoint
# override leaking in from a developer's shell.
os.environ.update(LOCAL_CREDENTIALS)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ShopTest")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

ADMIN_KEY = "test-admin-key-0123456789"
ADMIN_KEYS_PARAMETER = "/shop/dev/admin-key-hashes"  # the dev stage's, as .chalice/config.json says


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: Any) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> Any:
    from chalicelib.config import Settings

    return Settings(table_name="shop-test", stage="test")


def address(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Erika Mustermann",
        "line1": "Hauptstr. 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        **overrides,
    }


#: The shop's current terms version (ShopSettings' default), which every
#: checkout must accept.
TERMS_VERSION = "2026-06-19"
TERMS_ACCEPTED = {"version": TERMS_VERSION}


def order_body(lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
    return {
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "shipping_address": address(),
        "payment_method": "card",
        "locale": "de",
        "terms_accepted": TERMS_ACCEPTED,
        **overrides,
    }


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


# --- moto (in process) ------------------------------------------------------------


@pytest.fixture(scope="session")
def aws() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def table(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from open_table(monkeypatch)


def open_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh table with the admin key, payment secrets and queue, deleted
    afterwards; for fixtures of any scope (the moto mock must be running)."""
    import boto3

    from chalicelib import bootstrap
    from local.resources import create_table, put_admin_key_hashes

    name = f"shop-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("SHOP_TABLE_NAME", name)
    monkeypatch.setenv("SHOP_STAGE", "test")
    monkeypatch.setenv("SHOP_ADMIN_KEYS_PARAMETER", ADMIN_KEYS_PARAMETER)
    dynamodb = boto3.client("dynamodb")
    create_table(dynamodb, name)
    put_admin_key_hashes(
        boto3.client("ssm"),
        ADMIN_KEYS_PARAMETER,
        json.dumps([hashlib.sha256(ADMIN_KEY.encode()).hexdigest()]),
    )
    _payment_resources(monkeypatch, name)
    bootstrap.reset()
    yield name
    bootstrap.reset()
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def invoice_bucket(table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh invoices bucket as deployed (versioned, Object Lock in
    compliance mode) for this test; the moto mock keeps it for the session
    (locked objects cannot be deleted, on moto as on S3)."""
    import boto3

    from chalicelib import bootstrap
    from local.resources import create_invoice_bucket

    name = f"invoices-{uuid.uuid4().hex[:12]}"
    create_invoice_bucket(boto3.client("s3"), name)
    monkeypatch.setenv("SHOP_INVOICE_BUCKET", name)
    bootstrap.reset()
    return name


STRIPE_SECRETS = ["whsec_test_old", "whsec_test_new"]  # two active: a rotation
HMAC_SECRETS = ["hmac_test"]


def _payment_resources(monkeypatch: pytest.MonkeyPatch, table_name: str) -> None:
    """The fake Stripe API, the webhook secrets and a payment-events queue of
    this test's own (the moto mock, and so its queues, live per session)."""
    import boto3

    from local.resources import create_queue

    ssm = boto3.client("ssm")
    for setting, values in (
        ("SHOP_STRIPE_WEBHOOK_SECRETS_PARAMETER", STRIPE_SECRETS),
        ("SHOP_HMAC_WEBHOOK_SECRETS_PARAMETER", HMAC_SECRETS),
    ):
        parameter = f"/shop/test/{table_name}/{setting.lower()}"
        ssm.put_parameter(Name=parameter, Value=json.dumps(values), Type="SecureString")
        monkeypatch.setenv(setting, parameter)
    queue = f"payment-events-{table_name}.fifo"
    create_queue(boto3.client("sqs"), queue, fifo=True)
    monkeypatch.setenv("SHOP_PAYMENT_EVENTS_QUEUE_NAME", queue)
    monkeypatch.setenv("SHOP_PAYMENT_PROVIDER_API", "fake")
    monkeypatch.setenv("SHOP_BANK_IBAN", "DE89370400440532013000")
    monkeypatch.setenv("SHOP_BANK_BIC", "COBADEFFXXX")
    monkeypatch.setenv("SHOP_BANK_ACCOUNT_HOLDER", "Teeladen GmbH")


def table_snapshot(table_name: str) -> list[dict[str, Any]]:
    """Every item of a test table (a Scan is fine in a test)."""
    import boto3

    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


class Api:
    """The Chalice app through chalice.test.Client, with JSON helpers."""

    def __init__(self, client: Any) -> None:
        self.http = client.http

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self.http.request(
            method, path, headers={"Content-Type": "application/json", **(headers or {})}, body=data
        )
        response.json = json.loads(response.body) if response.body else None
        return response

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, path, body, {"Authorization": f"Bearer {ADMIN_KEY}"})

    def add_product(
        self,
        sku: str,
        available: int,
        price: int = 1999,
        currency: str = "EUR",
        tax_rate: str = "19",
    ) -> None:
        r = self.admin(
            "PUT",
            f"/admin/products/{sku}",
            {"name": f"Product {sku}", "price": price, "currency": currency, "tax_rate": tax_rate},
        )
        assert r.status_code == 200, r.json
        r = self.admin("PUT", f"/admin/stock/{sku}", {"available": available})
        assert r.status_code == 200, r.json

    def place(self, body: dict[str, Any], key: str | None = None) -> Any:
        return self.call("POST", "/orders", body, {"Idempotency-Key": key or new_key()})

    def cancel(self, placed: dict[str, Any], reason: str | None = None) -> Any:
        """The customer cancels ``placed`` (the placement's answer) with its token."""
        body = None if reason is None else {"reason": reason}
        headers = {"Authorization": f"Bearer {placed['token']}"}
        return self.call("POST", f"/orders/{placed['id']}/cancel", body, headers)

    def stock(self, sku: str) -> dict[str, Any]:
        r = self.admin("GET", f"/admin/stock/{sku}")
        assert r.status_code == 200, r.json
        return r.json


@pytest.fixture
def api(table: str) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as client:
        yield Api(client)


def tax(rate: str, gross: int) -> int:
    from chalicelib.domain.money import included_tax

    return included_tax(gross, Decimal(rate))
