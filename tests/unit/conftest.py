"""Unit tests: pure Python and fakes. Sockets are disabled, so a test that
accidentally reaches for AWS fails loudly instead of going slow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.services.context import Context
from tests.fakes import (
    FakeCarts,
    FakeCatalog,
    FakeOrderDesk,
    FakeOrders,
    FakeSuppressions,
    FakeSweepIndex,
    FakeTable,
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


@pytest.fixture
def ctx(fake_table: FakeTable, settings: Any, clock: Any) -> Context:
    return Context(
        catalog=FakeCatalog(fake_table),
        orders=FakeOrders(fake_table),
        settings=settings,
        clock=clock,
        carts=FakeCarts(fake_table),
        suppressions=FakeSuppressions(fake_table),
        sweeps=FakeSweepIndex(fake_table),
        desk=FakeOrderDesk(fake_table),
    )


# --- payments ---------------------------------------------------------------------

STRIPE_SECRET = "whsec_unit"
HMAC_SECRET = "hmac_unit"


@pytest.fixture
def fake_stripe() -> Any:
    from chalicelib.payments.fake import FakeStripe

    return FakeStripe()


@pytest.fixture
def payment_queue() -> Any:
    from tests.fakes import FakePaymentQueue

    return FakePaymentQueue()


@pytest.fixture
def payment_records(fake_table: FakeTable) -> Any:
    from tests.fakes import FakePaymentRecords

    return FakePaymentRecords(fake_table)


@pytest.fixture
def pay_ctx(ctx: Context, fake_stripe: Any, payment_queue: Any, payment_records: Any) -> Context:
    """The unit context with payments: fake Stripe, fake receipts and queue."""
    from dataclasses import replace

    from chalicelib.payments.hmac_adapter import HmacCallbacks
    from chalicelib.payments.manual import ManualRefunds
    from chalicelib.payments.ports import PaymentPorts
    from chalicelib.payments.stripe_adapter import StripeCallbacks

    manual = ManualRefunds()
    ports = PaymentPorts(
        providers={"stripe": fake_stripe, "hmac": manual, "bank_transfer": manual},
        callbacks={
            "stripe": StripeCallbacks(lambda: [STRIPE_SECRET]),
            "hmac": HmacCallbacks(lambda: [HMAC_SECRET]),
        },
        records=payment_records,
        queue=payment_queue,
    )
    return replace(ctx, payments=ports)
