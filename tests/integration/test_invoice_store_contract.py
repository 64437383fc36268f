"""One contract for the invoice store: the fake (tests/fake_invoices.py) and
DynamoDB (store/invoices.py) issue, refuse and number documents alike."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import date, timedelta
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.domain import invoice as documents
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.invoice import Credited, CreditReason
from chalicelib.services import invoices as service
from chalicelib.services.ports import DocumentExists, NumberTaken
from chalicelib.settings import InvoicingSettings
from chalicelib.store.invoices import DynamoInvoices
from chalicelib.store.orders import DynamoOrders
from tests.fake_invoices import FakeInvoices
from tests.fakes import FakeTable
from tests.invoice_samples import AT, invoice_of, paid_order


@pytest.fixture(params=["fake", "dynamodb"])
def store(request):
    if request.param == "fake":
        return FakeInvoices(FakeTable())
    name = request.getfixturevalue("table")
    return DynamoInvoices(boto3.client("dynamodb"), name)


def issue(store, order, sequence=1):
    invoice = invoice_of(order, documents.document_number("RE", 2026, sequence))
    entry = documents.invoice_entry(invoice, trigger="payment", at=AT)
    store.issue_invoice(invoice, series="RE-2026", sequence=sequence, order=order, entry=entry)
    return invoice


def credit(store, order, amount, source, sequence, credit_notes):
    issued = store.invoice_of(order.id)
    note = documents.credit_note_for(
        issued.invoice,
        number=documents.document_number("GS", 2026, sequence),
        amount=amount,
        credited=issued.credited,
        reason=CreditReason.REFUND,
        source=source,
        issued_at=AT,
        issue_date=date(2026, 12, 4),
    )
    store.issue_credit_note(
        note,
        series="GS-2026",
        sequence=sequence,
        credit_notes=credit_notes,
        credited=issued.credited.plus(note),
        order=order,
        entry=documents.credit_note_entry(note, at=AT),
    )
    return note


def test_an_issued_invoice_reads_back_as_it_was_issued(store):
    order = paid_order()
    invoice = issue(store, order)
    issued = store.invoice_of(order.id)
    assert issued.invoice == invoice
    assert (issued.credited, issued.credit_notes) == (Credited.nothing(), 0)
    assert store.last_number("RE-2026") == 1
    record = store.number("RE-2026-00001")
    assert (record.kind, record.order_id) == ("invoice", order.id)


def test_an_order_has_one_invoice(store):
    order = paid_order()
    issue(store, order)
    with pytest.raises(DocumentExists):
        issue(store, order, sequence=2)
    assert store.last_number("RE-2026") == 1
    assert store.number("RE-2026-00002") is None


def test_a_number_is_taken_only_from_the_counter_as_read(store):
    issue(store, paid_order(order_id="o-1"))
    with pytest.raises(NumberTaken):
        issue(store, paid_order(order_id="o-2"), sequence=1)
    with pytest.raises(NumberTaken):
        issue(store, paid_order(order_id="o-2"), sequence=3)
    issue(store, paid_order(order_id="o-2"), sequence=2)
    assert store.last_number("RE-2026") == 2


def test_credit_notes_add_up_on_their_invoice_once_per_source(store):
    order = paid_order()
    issue(store, order)
    first = credit(store, order, 1000, "evt-1", sequence=1, credit_notes=0)
    with pytest.raises(DocumentExists):
        credit(store, order, 1000, "evt-1", sequence=2, credit_notes=1)
    with pytest.raises(ConcurrentUpdate):
        credit(store, order, 500, "evt-2", sequence=2, credit_notes=0)
    second = credit(store, order, 500, "evt-2", sequence=2, credit_notes=1)
    issued = store.invoice_of(order.id)
    assert issued.credit_notes == 2
    assert issued.credited == Credited.nothing().plus(first).plus(second)
    assert store.credit_notes_of(order.id) == [first, second]
    assert store.last_number("GS-2026") == 2


def test_a_months_documents_are_listed_invoices_first_in_number_order_and_paged(store):
    # Three invoices in December, one in November, two credit notes in
    # December: the index lists December's only, whatever the partitions' order.
    for sequence in (1, 2, 3):
        issue(store, paid_order(order_id=f"o-{sequence}"), sequence=sequence)
    november = paid_order(order_id="o-nov")
    early = replace(invoice_of(november, "RE-2026-00004"), issue_date=date(2026, 11, 30))
    store.issue_invoice(early, series="RE-2026", sequence=4, order=november,
                        entry=documents.invoice_entry(early, trigger="payment", at=AT))  # fmt: skip
    credit(store, paid_order(order_id="o-1"), 500, "evt-1", sequence=1, credit_notes=0)
    credit(store, paid_order(order_id="o-3"), 700, "evt-3", sequence=2, credit_notes=0)
    numbers, after, pages = [], None, 0
    while True:
        page = store.documents_of_month("2026-12", after=after, limit=2)
        numbers.extend(d.number for d in page.documents)
        pages += 1
        if page.after is None:
            break
        after = page.after
    assert numbers == ["RE-2026-00001", "RE-2026-00002", "RE-2026-00003",
                       "GS-2026-00001", "GS-2026-00002"]  # fmt: skip
    assert pages in (3, 4)  # a full last page may name an end with nothing after it
    whole = store.documents_of_month("2026-12", after=None, limit=100)
    assert whole.after is None and [d.number for d in whole.documents] == numbers
    assert whole.documents[3] == store.credit_notes_of("o-1")[0]
    assert whole.documents[0] == store.invoice_of("o-1").invoice
    assert [d.number for d in store.documents_of_month("2026-11", after=None, limit=9).documents
            ] == ["RE-2026-00004"]  # fmt: skip
    assert store.documents_of_month("2027-01", after=None, limit=9).documents == []


@pytest.fixture(scope="module")
def moto_server():
    # A real moto server behind the local stack's lock: the race tested is
    # our conditional transaction, not the in-process emulator's thread safety.
    from local.aws import EmbeddedAWS

    server = EmbeddedAWS(port=0).start()
    yield server
    server.stop()


@pytest.fixture(params=["fake", "moto server"])
def racing_store(request):
    if request.param == "fake":
        return FakeInvoices(FakeTable())
    from local.resources import create_table

    server = request.getfixturevalue("moto_server")
    client = boto3.client("dynamodb", endpoint_url=server.url)
    name = f"race-{uuid.uuid4().hex[:8]}"
    create_table(client, name)
    return DynamoInvoices(client, name)


def test_racing_writers_never_share_a_number(racing_store):
    store = racing_store
    orders = [paid_order(order_id=f"o-{n}") for n in range(6)]
    numbers, barrier = {}, threading.Barrier(len(orders))

    def take(order):
        barrier.wait()
        for _ in range(50):
            sequence = store.last_number("RE-2026") + 1
            try:
                numbers[order.id] = issue(store, order, sequence).number
                return
            except (NumberTaken, ConcurrentUpdate):
                continue

    threads = [threading.Thread(target=take, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers.values()) == [f"RE-2026-{n:05d}" for n in range(1, 7)]
    assert store.last_number("RE-2026") == 6


# --- a crash between the number and the document -------------------------------------


def invoicing_on_dynamodb(table):
    client = boto3.client("dynamodb")
    orders, store = DynamoOrders(client, table), DynamoInvoices(client, table)
    settings = InvoicingSettings(table_name=table)
    return client, orders, store, service.Invoicing(orders, store, settings, clock=lambda: AT)


def put_order(client, table, order):
    from chalicelib.store.attributes import to_dynamo
    from chalicelib.store.mapping import order_to_item

    client.put_item(TableName=table, Item=to_dynamo(order_to_item(order)))


def test_a_crash_at_the_write_takes_no_number_and_leaves_no_gap(table):
    client, _, store, invoicing = invoicing_on_dynamodb(table)
    put_order(client, table, paid_order())
    real = client.transact_write_items
    with mock.patch.object(
        client,
        "transact_write_items",
        side_effect=EndpointConnectionError(endpoint_url="https://dynamodb"),
    ):
        with pytest.raises(EndpointConnectionError):
            service.issue_documents("OrderPaid", {"order": {"id": "o-1"}}, invoicing)
    assert store.last_number("RE-2026") == 0
    assert store.invoice_of("o-1") is None
    assert client.transact_write_items == real
    assert service.issue_documents("OrderPaid", {"order": {"id": "o-1"}}, invoicing) == [
        "RE-2026-00001"
    ]


def test_a_crash_after_the_write_lets_the_redelivery_find_the_invoice(table):
    client, _, store, invoicing = invoicing_on_dynamodb(table)
    put_order(client, table, paid_order())
    real = client.transact_write_items

    def written_then_lost(**request):
        real(**request)
        raise EndpointConnectionError(endpoint_url="https://dynamodb")  # the answer is lost

    with mock.patch.object(client, "transact_write_items", side_effect=written_then_lost):
        with pytest.raises(EndpointConnectionError):
            service.issue_documents("OrderPaid", {"order": {"id": "o-1"}}, invoicing)
    assert service.issue_documents("OrderPaid", {"order": {"id": "o-1"}}, invoicing) == []
    assert store.invoice_of("o-1").invoice.number == "RE-2026-00001"
    assert store.last_number("RE-2026") == 1
    put_order(client, table, paid_order(order_id="o-2"))
    assert service.issue_documents("OrderPaid", {"order": {"id": "o-2"}}, invoicing) == [
        "RE-2026-00002"
    ]


def test_a_refused_transaction_for_another_reason_is_not_mistaken(table):
    client, _, store, _ = invoicing_on_dynamodb(table)
    error = ClientError({"Error": {"Code": "ValidationException", "Message": "x"}}, "Transact")
    with mock.patch.object(client, "transact_write_items", side_effect=error):
        with pytest.raises(ClientError):
            issue(store, paid_order())
    assert store.last_number("RE-2026") == 0


def test_the_delivery_month_follows_the_issue_when_nothing_shipped(table):
    client, _, store, invoicing = invoicing_on_dynamodb(table)
    put_order(client, table, paid_order())
    service.issue_documents("OrderPaid", {"order": {"id": "o-1"}}, invoicing)
    invoice = store.invoice_of("o-1").invoice
    assert invoice.delivery_date is None and invoice.delivery_month == "2026-12"
    assert invoice.issued_at == AT and invoice.issue_date == (AT + timedelta(0)).date()


def test_documents_written_before_the_month_index_are_added_to_it_once(table):
    from local.backfill_document_months import backfill

    client = boto3.client("dynamodb")
    store = DynamoInvoices(client, table)
    for sequence in (1, 2):
        issue(store, paid_order(order_id=f"o-{sequence}"), sequence=sequence)
    credit(store, paid_order(order_id="o-2"), 300, "evt-2", sequence=1, credit_notes=0)
    listed = [d.number for d in store.documents_of_month("2026-12", after=None, limit=9).documents]
    # As they were before the index: without its attributes.
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if "document_month_key" in item:
                client.update_item(
                    TableName=table,
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="REMOVE document_month_key, document_key",
                )
    assert store.documents_of_month("2026-12", after=None, limit=9).documents == []
    changed = backfill(client, table, series=["RE", "GS"], years=[2025, 2026])
    assert changed == {"RE-2025": 0, "RE-2026": 2, "GS-2025": 0, "GS-2026": 1}
    again = [d.number for d in store.documents_of_month("2026-12", after=None, limit=9).documents]
    assert again == listed == ["RE-2026-00001", "RE-2026-00002", "GS-2026-00001"]
    assert backfill(client, table, series=["RE", "GS"], years=[2026]) == {
        "RE-2026": 0,
        "GS-2026": 0,
    }
