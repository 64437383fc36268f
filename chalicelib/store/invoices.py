"""Invoices, credit notes and their number series in DynamoDB (docs/invoices.md).

A document and its number are written in ONE transaction: the series'
counter moves from the value read to the next only if nobody moved it
meanwhile (the condition), the document is written only if the order has
none yet (invoice) or its source was not credited yet (credit note), and the
number's own record and the history entry (InvoiceIssued, CreditNoteIssued:
the outbox publishes it) go with them. All or nothing: a crash, a lost race
or a duplicate event leaves the counter where it was, so a number is never
taken without its document, and numbers have no gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.archive import ArchivedPdf
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.invoice import (
    BankDetails,
    Buyer,
    Credited,
    CreditNote,
    CreditReason,
    DocumentKind,
    Invoice,
    InvoiceLine,
    LineKind,
    PaymentTerms,
    RateAmounts,
    Seller,
)
from chalicelib.domain.order import HistoryEntry, Order, PaymentMethod
from chalicelib.services.ports import (
    DocumentExists,
    DocumentPage,
    IssuedInvoice,
    NumberRecord,
    NumberTaken,
    PdfRecorded,
)
from chalicelib.store import keys, schema
from chalicelib.store.attributes import from_dynamo, to_dynamo
from chalicelib.store.errors import RETRYABLE_CANCELLATION_CODES, cancellation_reasons
from chalicelib.store.mapping import history_to_item

#: History entry indexes at the order's version: the invoice's, then one per
#: credit note (their own keys: an order change writes from 00).
INVOICE_ENTRY_INDEX = 50


# --- documents as plain values and back -----------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def document_to_plain(document: Invoice | CreditNote) -> dict[str, Any]:
    return dict(_plain(asdict(document)))


def _lines(values: list[dict[str, Any]]) -> tuple[InvoiceLine, ...]:
    return tuple(InvoiceLine(**{**v, "kind": LineKind(v["kind"])}) for v in values)


def _rates(values: list[dict[str, Any]]) -> tuple[RateAmounts, ...]:
    return tuple(RateAmounts(**v) for v in values)


def _payment(value: dict[str, Any]) -> PaymentTerms:
    bank = value.get("bank")
    paid_at = value.get("paid_at")
    return PaymentTerms(
        method=PaymentMethod(value["method"]),
        paid_at=datetime.fromisoformat(paid_at) if paid_at else None,
        bank=BankDetails(**bank) if bank else None,
    )


def _common(value: dict[str, Any]) -> dict[str, Any]:
    seller = value["seller"]
    buyer = value["buyer"]
    return {
        "seller": Seller(**{**seller, "address": tuple(seller["address"])}),
        "buyer": Buyer(**{**buyer, "address": tuple(buyer["address"])}),
        "lines": _lines(value["lines"]),
        "rates": _rates(value["rates"]),
        "payment": _payment(value["payment"]),
        "issued_at": datetime.fromisoformat(value["issued_at"]),
        "issue_date": date.fromisoformat(value["issue_date"]),
    }


def invoice_from_plain(value: dict[str, Any]) -> Invoice:
    delivery = value.get("delivery_date")
    return Invoice(
        **{
            **value,
            **_common(value),
            "delivery_date": date.fromisoformat(delivery) if delivery else None,
        }
    )


def credit_note_from_plain(value: dict[str, Any]) -> CreditNote:
    return CreditNote(
        **{
            **value,
            **_common(value),
            "invoice_date": date.fromisoformat(value["invoice_date"]),
            "reason": CreditReason(value["reason"]),
        }
    )


def _month_listing(kind: DocumentKind, document: Invoice | CreditNote) -> dict[str, str]:
    """The by_document_month index's attributes: the issue date's month
    (already in the shop's timezone) and the kind's rank with the number."""
    return {
        "document_month_key": keys.document_month_key(f"{document.issue_date:%Y-%m}"),
        "document_key": keys.document_key(kind.value, document.number),
    }


def document_from_item(item: dict[str, Any]) -> Invoice | CreditNote:
    """An invoice or credit note item (the table's or the index's) as its document."""
    if item["entity"] == "credit_note":
        return credit_note_from_plain(item["document"])
    return invoice_from_plain(item["document"])


def pdf_to_plain(pdf: ArchivedPdf) -> dict[str, Any]:
    return dict(_plain(asdict(pdf)))


def pdf_from_plain(value: dict[str, Any] | None) -> ArchivedPdf | None:
    if not value:
        return None
    return ArchivedPdf(
        key=value["key"],
        version_id=value["version_id"],
        sha256=value["sha256"],
        size=int(value["size"]),
        stored_at=datetime.fromisoformat(value["stored_at"]),
    )


# --- the adapter ------------------------------------------------------------------------


class DynamoInvoices:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def last_number(self, series: str) -> int:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.invoice_series(series)), ConsistentRead=True
        )
        return int(from_dynamo(response.get("Item", {})).get("last", 0))

    def issue_invoice(
        self, invoice: Invoice, *, series: str, sequence: int, order: Order, entry: HistoryEntry
    ) -> None:
        item = {
            **keys.invoice(order.id),
            "entity": "invoice",
            "number": invoice.number,
            **_month_listing(DocumentKind.INVOICE, invoice),
            "document": document_to_plain(invoice),
            "credited_gross": {},
            "credited_tax": {},
            "credit_notes": 0,
        }
        self._issue(
            [
                self._take(series, sequence),
                self._put(item),
                self._put(self._number_item(invoice.number, DocumentKind.INVOICE, invoice)),
                self._put(history_to_item(order, entry, INVOICE_ENTRY_INDEX)),
            ],
            order_id=order.id,
        )

    def issue_credit_note(
        self,
        note: CreditNote,
        *,
        series: str,
        sequence: int,
        credit_notes: int,
        credited: Credited,
        order: Order,
        entry: HistoryEntry,
    ) -> None:
        item = {
            **keys.credit_note(order.id, note.source),
            "entity": "credit_note",
            "number": note.number,
            **_month_listing(DocumentKind.CREDIT_NOTE, note),
            "document": document_to_plain(note),
        }
        self._issue(
            [
                self._take(series, sequence),
                self._put(item),
                self._put(self._number_item(note.number, DocumentKind.CREDIT_NOTE, note)),
                self._put(history_to_item(order, entry, INVOICE_ENTRY_INDEX + 1 + credit_notes)),
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_dynamo(keys.invoice(order.id)),
                        "UpdateExpression": (
                            "SET credited_gross = :gross, credited_tax = :tax, credit_notes = :next"
                        ),
                        "ConditionExpression": "credit_notes = :count",
                        "ExpressionAttributeValues": to_dynamo(
                            {
                                ":gross": dict(credited.gross),
                                ":tax": dict(credited.tax),
                                ":next": credit_notes + 1,
                                ":count": credit_notes,
                            }
                        ),
                    }
                },
            ],
            order_id=order.id,
        )

    def invoice_of(self, order_id: str) -> IssuedInvoice | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.invoice(order_id)), ConsistentRead=True
        )
        item = from_dynamo(response.get("Item", {}))
        if not item:
            return None
        return IssuedInvoice(
            invoice=invoice_from_plain(item["document"]),
            credited=Credited(gross=item["credited_gross"], tax=item["credited_tax"]),
            credit_notes=item["credit_notes"],
        )

    def credit_notes_of(self, order_id: str) -> Sequence[CreditNote]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_dynamo(
                {":pk": keys.order_partition(order_id), ":prefix": keys.CREDIT_NOTE_PREFIX}
            ),
            "ConsistentRead": True,
        }
        notes: list[CreditNote] = []
        while True:
            response = self._client.query(**request)
            notes.extend(
                credit_note_from_plain(from_dynamo(item)["document"])
                for item in response.get("Items", [])
            )
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(notes, key=lambda note: note.number)

    def number(self, number: str) -> NumberRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_dynamo(keys.document_number(number))
        )
        item = from_dynamo(response.get("Item", {}))
        if not item:
            return None
        return NumberRecord(
            number=number, kind=item["kind"], order_id=item["order_id"], issued_at=item["issued_at"]
        )

    def documents_of_month(self, month: str, *, after: str | None, limit: int) -> DocumentPage:
        index = schema.BY_DOCUMENT_MONTH
        names = {"#month": index.partition_key}
        values: dict[str, Any] = {":month": keys.document_month_key(month)}
        condition = "#month = :month"
        if after is not None:
            names["#key"] = index.sort_key
            values[":after"] = after
            condition += " AND #key > :after"
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_dynamo(values),
            "Limit": limit,
        }
        found: list[Invoice | CreditNote] = []
        last: str | None = None
        while len(found) < limit:
            response = self._client.query(**request)
            items = [from_dynamo(item) for item in response.get("Items", [])]
            found.extend(document_from_item(item) for item in items)
            if items:
                last = items[-1][index.sort_key]
            if "LastEvaluatedKey" not in response:
                return DocumentPage(documents=found, after=None)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            request["Limit"] = limit - len(found)
        return DocumentPage(documents=found, after=last)

    # --- the archived PDF (docs/invoices.md) -----------------------------------------

    def archived_pdf(self, order_id: str, number: str) -> ArchivedPdf | None:
        invoice = from_dynamo(
            self._client.get_item(
                TableName=self._table, Key=to_dynamo(keys.invoice(order_id)), ConsistentRead=True
            ).get("Item", {})
        )
        if not invoice:
            return None
        if invoice["number"] == number:
            return pdf_from_plain(invoice.get("pdf"))
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": to_dynamo(
                {":pk": keys.order_partition(order_id), ":prefix": keys.CREDIT_NOTE_PREFIX}
            ),
            "ProjectionExpression": "#number, pdf",
            "ExpressionAttributeNames": {"#number": "number"},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**request)
            for item in response.get("Items", []):
                note = from_dynamo(item)
                if note["number"] == number:
                    return pdf_from_plain(note.get("pdf"))
            if "LastEvaluatedKey" not in response:
                return None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_pdf(
        self,
        document: Invoice | CreditNote,
        pdf: ArchivedPdf,
        *,
        order: Order,
        entry: HistoryEntry,
        entry_index: int,
    ) -> None:
        key = (
            keys.credit_note(order.id, document.source)
            if isinstance(document, CreditNote)
            else keys.invoice(order.id)
        )
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": to_dynamo(key),
                    "UpdateExpression": "SET pdf = :pdf",
                    # The number too: the key names the document it was rendered from.
                    "ConditionExpression": (
                        "attribute_exists(PK) AND #number = :number AND attribute_not_exists(pdf)"
                    ),
                    "ExpressionAttributeNames": {"#number": "number"},
                    "ExpressionAttributeValues": to_dynamo(
                        {":pdf": pdf_to_plain(pdf), ":number": document.number}
                    ),
                }
            },
            self._put(history_to_item(order, entry, entry_index)),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                raise PdfRecorded(document.number) from exc
            if any(r.get("Code") in RETRYABLE_CANCELLATION_CODES for r in reasons) or (
                reasons[1].get("Code") == "ConditionalCheckFailed"
            ):
                raise ConcurrentUpdate("the order's history moved", order_id=order.id) from exc
            raise

    # --- the transaction ------------------------------------------------------------

    def _issue(self, items: list[dict[str, Any]], *, order_id: str) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if not reasons:
                raise
            failed = [r.get("Code") == "ConditionalCheckFailed" for r in reasons]
            # The document first: a duplicate event usually finds the counter moved too.
            if failed[1]:
                raise DocumentExists(order_id) from exc
            if failed[0] or failed[2]:
                raise NumberTaken(order_id) from exc
            if any(r.get("Code") in RETRYABLE_CANCELLATION_CODES for r in reasons) or any(
                failed[3:]
            ):
                raise ConcurrentUpdate("the invoice changed meanwhile", order_id=order_id) from exc
            raise

    def _take(self, series: str, sequence: int) -> dict[str, Any]:
        """The counter moves to ``sequence`` only from ``sequence - 1``."""
        condition = "#last = :previous" if sequence > 1 else "attribute_not_exists(#last)"
        values: dict[str, Any] = {":sequence": sequence, ":entity": "invoice_series"}
        if sequence > 1:
            values[":previous"] = sequence - 1
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_dynamo(keys.invoice_series(series)),
                "UpdateExpression": "SET #last = :sequence, entity = :entity",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#last": "last"},
                "ExpressionAttributeValues": to_dynamo(values),
            }
        }

    def _number_item(
        self, number: str, kind: DocumentKind, document: Invoice | CreditNote
    ) -> dict[str, Any]:
        return {
            **keys.document_number(number),
            "entity": "invoice_number",
            "kind": kind.value,
            "order_id": document.order_id,
            "issued_at": document.issued_at.isoformat(),
        }

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_dynamo(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
