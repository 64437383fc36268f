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
