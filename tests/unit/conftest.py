"""Unit tests: pure Python and fakes. Sockets are disabled, so a test that
accidentally reaches for AWS fails loudly instead of going slow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.payments.fake import FakeStripe
from chalicelib.services.context import Context
from tests.fakes import (
    FakeAttemptCounter,
    FakeCarts,
    FakeCatalog,
    FakeCustomerData,
    FakeOrderDesk,
    FakeOrders,
    FakePaymentQueue,
    FakePaymentRecords,
    FakeShippingAndCodes,
    FakeSuppressions,
    FakeSweepIndex,
    FakeTable,
    fake_payment_ports,
)


class _NoSockets(socket.socket):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("unit tests must not open sockets")


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket, "socket", _NoSockets)
    yield


@pytest.fixture
def fake_table() -> FakeTable:
    return FakeTable()


# --- the context: fakes, payments included -------------------------------------

STRIPE_SECRET = "whsec_unit"
HMAC_SECRET = "hmac_unit"


@pytest.fixture
def fake_stripe() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def payment_queue() -> FakePaymentQueue:
    return FakePaymentQueue()


@pytest.fixture
def payment_records(fake_table: FakeTable) -> FakePaymentRecords:
    return FakePaymentRecords(fake_table)


@pytest.fixture
def ctx(
    fake_table: FakeTable,
    settings: Any,
    clock: Any,
    fake_stripe: FakeStripe,
    payment_queue: FakePaymentQueue,
    payment_records: FakePaymentRecords,
) -> Context:
    return Context(
        catalog=FakeCatalog(fake_table),
        orders=FakeOrders(fake_table),
        settings=settings,
        payments=fake_payment_ports(
            fake_table,
            stripe=fake_stripe,
            queue=payment_queue,
            records=payment_records,
            stripe_secret=STRIPE_SECRET,
            hmac_secret=HMAC_SECRET,
        ),
        clock=clock,
        carts=FakeCarts(fake_table),
        suppressions=FakeSuppressions(fake_table),
        sweeps=FakeSweepIndex(fake_table),
        desk=FakeOrderDesk(fake_table),
        attempts=FakeAttemptCounter(),
        terms=FakeShippingAndCodes(fake_table),
        customer_data=FakeCustomerData(fake_table),
    )


@pytest.fixture
def pay_ctx(ctx: Context) -> Context:
    """The unit context, named for tests about payments (fake Stripe, fake
    receipts and queue)."""
    return ctx
