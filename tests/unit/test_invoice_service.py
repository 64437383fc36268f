"""Issuing invoices and credit notes from order events (services/invoices.py), on fakes."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.order import OrderStatus, PaymentMethod
from chalicelib.services import invoices as service
from chalicelib.settings import InvoicingSettings
from tests.fake_invoices import FakeInvoices
from tests.fakes import FakeOrders, FakeTable
from tests.invoice_samples import AT, paid_order


class World:
    def __init__(self, **settings):
        self.table = FakeTable()
        self.store = FakeInvoices(self.table)
        self.now = AT + timedelta(hours=1)
        self.invoicing = service.Invoicing(
            orders=FakeOrders(self.table),
            invoices=self.store,
            settings=InvoicingSettings(
                table_name="shop-test", bank_iban="DE89370400440532013000", **settings
            ),
            clock=lambda: self.now,
        )

    def add(self, order):
        self.table.orders[order.id] = order
        self.table.history.setdefault(order.id, [])
        return order

    def event(self, detail_type, order_id="o-1", event_id="evt-1", **data):
        detail = {"event_id": event_id, "order": {"id": order_id}, "data": data}
        return service.issue_documents(detail_type, detail, self.invoicing)

    def events_of(self, order_id="o-1"):
        return [e.event for e in self.table.history[order_id]]


@pytest.fixture
def world():
    return World()


def test_a_paid_order_gets_its_invoice_once_however_often_the_event_comes(world):
    world.add(paid_order())
    assert world.event("OrderPaid") == ["RE-2026-00001"]
    assert world.event("OrderPaid") == []
    assert world.event("OrderPaid", event_id="evt-again") == []
    assert world.store.last_number("RE-2026") == 1
    assert world.events_of() == ["InvoiceIssued"]


def test_numbers_increase_order_by_order_and_name_their_holder(world):
    for n in range(1, 4):
        world.add(paid_order(order_id=f"o-{n}"))
        assert world.event("OrderPaid", order_id=f"o-{n}") == [f"RE-2026-{n:05d}"]
    record = world.store.number("RE-2026-00002")
    assert record is not None and (record.kind, record.order_id) == ("invoice", "o-2")


def test_a_new_year_starts_its_series_at_one(world):
    world.add(paid_order(order_id="o-1"))
    world.event("OrderPaid", order_id="o-1")
    world.now = world.now.replace(year=2027, month=1, day=2)
    world.add(paid_order(order_id="o-2"))
    assert world.event("OrderPaid", order_id="o-2") == ["RE-2027-00001"]


def test_concurrent_deliveries_of_one_payment_issue_one_invoice_and_take_one_number(world):
    world.add(paid_order())
    results, barrier = [], threading.Barrier(8)

    def deliver():
        barrier.wait()
        results.append(world.event("OrderPaid"))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(tuple, results)) == [()] * 7 + [("RE-2026-00001",)]
    assert world.store.last_number("RE-2026") == 1


def test_an_unpaid_order_is_not_invoiced(world):
    order = paid_order()
    world.add(replace(order, payments=(), status=OrderStatus.PENDING_PAYMENT))
    assert world.event("OrderPaid") == []
    assert world.store.invoice_of("o-1") is None


def test_a_refund_after_invoicing_yields_a_credit_note_that_names_the_invoice(world):
    order = world.add(paid_order())
    world.event("OrderPaid")
    assert world.event("OrderRefunded", event_id="evt-r1", amount=1000, reference="pi_1") == [
        "GS-2026-00001"
    ]
    (note,) = world.store.credit_notes_of("o-1")
    invoice = world.store.invoice_of("o-1")
    assert invoice is not None
    assert note.invoice_number == "RE-2026-00001"
    assert note.invoice_date == invoice.invoice.issue_date
    assert note.gross == -1000 and all(rate.gross < 0 for rate in note.rates)
    assert invoice.credited.gross and invoice.credit_notes == 1
    assert world.events_of() == ["InvoiceIssued", "CreditNoteIssued"]
    # The same refund again credits nothing twice.
    assert world.event("OrderRefunded", event_id="evt-r1", amount=1000, reference="pi_1") == []
    assert world.store.last_number("GS-2026") == 1
    del order


def test_a_refund_seen_before_the_payment_issues_the_invoice_first(world):
    world.add(paid_order())
    world.event("OrderRefunded", event_id="evt-r1", amount=500, reference="pi_1")
    assert world.event("OrderPaid") == []
    issued = world.store.invoice_of("o-1")
    assert issued is not None and issued.invoice.number == "RE-2026-00001"
    assert [n.number for n in world.store.credit_notes_of("o-1")] == ["GS-2026-00001"]


def test_refunds_beyond_the_invoice_credit_what_is_left_and_then_nothing(world):
    order = world.add(paid_order())
    world.event("OrderPaid")
    total = order.totals.total
    world.event("OrderRefunded", event_id="evt-r1", amount=total - 100, reference="pi_1")
    world.event("OrderRefunded", event_id="evt-r2", amount=500, reference="pi_1")
    assert world.event("OrderRefunded", event_id="evt-r3", amount=1, reference="pi_1") == []
    notes = world.store.credit_notes_of("o-1")
    assert [n.gross for n in notes] == [-(total - 100), -100]


def test_giving_refused_money_back_issues_no_credit_note(world):
    order = paid_order()
    duplicate = replace(order.payments[0], reference="pi_2", refund_due=True)
    world.add(replace(order, payments=(*order.payments, duplicate)))
    world.event("OrderPaid")
    assert world.event("OrderRefunded", event_id="evt-r1", amount=100, reference="pi_2") == []
    assert world.store.credit_notes_of("o-1") == []


def test_a_cancellation_after_payment_is_credited_as_a_cancellation(world):
    order = world.add(paid_order())
    world.event("OrderPaid")
    world.add(replace(order, status=OrderStatus.CANCELLED))
    world.event("OrderRefunded", event_id="evt-r1", amount=order.totals.total, reference="pi_1")
    (note,) = world.store.credit_notes_of("o-1")
    assert note.reason.value == "cancellation"
    assert note.gross == -order.totals.total


def test_a_shop_may_invoice_at_the_first_shipment_instead():
    world = World(invoice_issued_at="first_shipment")
    world.add(paid_order())
    assert world.event("OrderPaid") == []
    assert world.event("OrderShipped") == ["RE-2026-00001"]
    assert world.event("OrderShipped", event_id="evt-2") == []


def test_a_bank_transfer_invoice_names_the_account_and_the_reference(world):
    world.add(paid_order(method=PaymentMethod.BANK_TRANSFER))
    world.event("OrderPaid")
    issued = world.store.invoice_of("o-1")
    assert issued is not None and issued.invoice.payment.bank is not None
    assert issued.invoice.payment.bank.iban == "DE89370400440532013000"
    assert issued.invoice.payment.bank.reference == "7K3M-9Q2X"


def test_a_crash_while_issuing_takes_no_number_and_the_retry_issues_the_next_one(world):
    world.add(paid_order())

    def crash():
        raise RuntimeError("the Lambda died here")

    world.store.before_write = crash
    with pytest.raises(RuntimeError):
        world.event("OrderPaid")
    assert world.store.last_number("RE-2026") == 0
    world.store.before_write = None
    assert world.event("OrderPaid") == ["RE-2026-00001"]


def test_the_dates_are_the_shops_days_not_utcs(world):
    order = paid_order()
    late = replace(order.payments[0], received_at=AT.replace(hour=23, minute=30))
    world.add(replace(order, payments=(late,)))
    world.now = AT.replace(hour=23, minute=45)  # 00:45 on 4 December in Berlin
    world.event("OrderPaid")
    invoice = world.store.invoice_of("o-1").invoice
    assert invoice.issue_date.isoformat() == "2026-12-04"
    assert invoice.payment.paid_at.date().isoformat() == "2026-12-04"


def test_the_seller_block_is_the_shops_settings():
    world = World(
        legal_name="Teeladen Beispiel GmbH",
        postal_address="Teestraße 5, 20095 Hamburg, DE",
        vat_id="DE999999999",
        tax_number="",
        register_court="Amtsgericht Hamburg",
        register_number="HRB 1",
        managing_directors="Erika Beispiel",
    )
    world.add(paid_order())
    world.event("OrderPaid")
    seller = world.store.invoice_of("o-1").invoice.seller
    assert seller.legal_name == "Teeladen Beispiel GmbH"
    assert seller.address == ("Teestraße 5", "20095 Hamburg", "DE")
    assert (seller.vat_id, seller.tax_number) == ("DE999999999", "")
    assert seller.register == "Amtsgericht Hamburg, HRB 1"
    assert seller.managing_directors == "Erika Beispiel"
