"""The invoices' PDFs into the archive on moto: InvoiceIssued and
CreditNoteIssued through the rule ``archive-invoice-documents`` and the
documents queue to ``render_documents`` (invoice_pdf/handler.py), the PDF into
a versioned, Object Lock bucket, its record on the document, and the
DocumentArchived event on to the customer's email with the PDF attached."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.domain import archive as archived
from infrastructure.definitions import RULES
from invoice_pdf.handler import render_documents
from invoice_pdf.render import render
from local.delivery import sqs_lambda_event
from tests.integration.test_invoice_flow import InvoiceQueue, paid_bank_transfer


class DocumentQueue:
    """The documents queue on the pipeline's bus, with the deployed rule."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(
            QueueName=f"documents-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "0"}
        )["QueueUrl"]
        self.arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule = next(r for r in RULES if r.queue == "documents")
        events = boto3.client("events")
        events.put_rule(
            Name=rule.name, EventBusName=pipeline.bus, EventPattern=json.dumps(rule.pattern)
        )
        events.put_targets(
            Rule=rule.name, EventBusName=pipeline.bus, Targets=[{"Id": "docs", "Arn": self.arn}]
        )

    def flow(self):
        """Stream -> bus -> this queue; the SQS event that arrived."""
        self.pipeline.publish(self.pipeline.new_stream_records())
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        return sqs_lambda_event(messages, self.arn)

    def consume(self, event):
        """Runs the handler; deletes what succeeded, as Lambda does. The ids
        reported as failed."""
        failed = [f["itemIdentifier"] for f in render_documents(event, None)["batchItemFailures"]]
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=record["receiptHandle"])
        return failed


@pytest.fixture
def issued(api, pipeline, invoice_bucket):
    """A paid order whose InvoiceIssued waits in the documents queue."""
    invoices = InvoiceQueue(pipeline)
    documents = DocumentQueue(pipeline)
    order = paid_bank_transfer(api)
    assert invoices.consume(invoices.flow()) == []
    event = documents.flow()
    assert [json.loads(r["body"])["detail-type"] for r in event["Records"]] == ["InvoiceIssued"]
    number = bootstrap.invoicing().invoices.invoice_of(order["id"]).invoice.number
    return order, number, event, documents, invoices


def versions(bucket, key):
    listed = boto3.client("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return listed.get("Versions", [])


def history(api, order):
    return [e for e in api.admin("GET", f"/admin/orders/{order['id']}").json["history"]]


def test_an_issued_invoice_is_archived_once_locked_for_its_retention(api, issued, invoice_bucket):
    order, number, event, documents, _ = issued
    assert documents.consume(event) == []
    assert documents.consume(event) == []  # SQS delivers it again (received before the delete)

    pdf = bootstrap.invoicing().invoices.archived_pdf(order["id"], number)
    assert pdf is not None and pdf.key == f"invoices/{number[3:7]}/{number}.pdf"
    (version,) = versions(invoice_bucket, pdf.key)  # the repeat added no version
    assert version["VersionId"] == pdf.version_id
    s3 = boto3.client("s3")
    stored = s3.get_object(Bucket=invoice_bucket, Key=pdf.key, VersionId=pdf.version_id)
    body = stored["Body"].read()
    assert body.startswith(b"%PDF-") and len(body) == pdf.size
    assert hashlib.sha256(body).hexdigest() == pdf.sha256
    assert stored["ContentType"] == "application/pdf"
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    issue_year = int(number[3:7])
    assert stored["ObjectLockRetainUntilDate"] == datetime(issue_year + 9, 1, 1, tzinfo=UTC)
    # The document's own rendering, byte for byte.
    invoice = bootstrap.invoicing().invoices.invoice_of(order["id"]).invoice
    assert render(invoice) == body
    entries = [e for e in history(api, order) if e["event"] == "DocumentArchived"]
    assert len(entries) == 1


def test_a_repeat_after_a_crash_between_the_put_and_the_record_records_the_stored_pdf(
    issued, invoice_bucket
):
    order, number, event, documents, _ = issued
    invoice = bootstrap.invoicing().invoices.invoice_of(order["id"]).invoice
    pdf = render(invoice)
    # The first delivery stored the PDF, then died before recording it.
    first = bootstrap.document_archive(invoice_bucket).store(
        archived.pdf_key(invoice),
        pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        at=datetime.now(UTC),
        retain_until=archived.retain_until(invoice),
    )
    assert documents.consume(event) == []

    recorded = bootstrap.invoicing().invoices.archived_pdf(order["id"], number)
    assert recorded.version_id == first.version_id
    assert len(versions(invoice_bucket, first.key)) == 1


def test_other_bytes_under_the_key_are_never_overwritten_nor_recorded(issued, invoice_bucket):
    order, number, event, documents, _ = issued
    invoice = bootstrap.invoicing().invoices.invoice_of(order["id"]).invoice
    key = archived.pdf_key(invoice)
    boto3.client("s3").put_object(Bucket=invoice_bucket, Key=key, Body=b"%PDF- something else")

    assert documents.consume(event) == [event["Records"][0]["messageId"]]
    assert bootstrap.invoicing().invoices.archived_pdf(order["id"], number) is None
    assert len(versions(invoice_bucket, key)) == 1


def test_a_credit_note_is_archived_beside_its_invoice(api, issued, invoice_bucket):
    order, number, event, documents, invoices = issued
    assert documents.consume(event) == []
    r = api.admin("POST", f"/admin/orders/{order['id']}/refunds", {"amount": 1000})
    assert r.status_code == 200, r.json
    assert invoices.consume(invoices.flow()) == []
    event = documents.flow()
    assert [json.loads(r["body"])["detail-type"] for r in event["Records"]] == ["CreditNoteIssued"]
    assert documents.consume(event) == []

    (note,) = bootstrap.invoicing().invoices.credit_notes_of(order["id"])
    pdf = bootstrap.invoicing().invoices.archived_pdf(order["id"], note.number)
    assert pdf.key == f"credit-notes/{note.number[3:7]}/{note.number}.pdf"
    assert bootstrap.invoicing().invoices.archived_pdf(order["id"], number).key != pdf.key
    archived_entries = [e for e in history(api, order) if e["event"] == "DocumentArchived"]
    assert len(archived_entries) == 2


def invoice_mails(pipeline, number):
    return [m for m in pipeline.mails() if number in m.subject]


def test_the_customer_is_mailed_the_archived_pdf_once_in_the_orders_language(
    pipeline, issued, invoice_bucket
):
    order, number, event, documents, _ = issued
    assert documents.consume(event) == []
    pipeline.run_until_quiet()

    (mail,) = invoice_mails(pipeline, number)
    assert mail.to == order["customer"]["email"]
    assert mail.locale == "de" and mail.subject.startswith("Ihre Rechnung")
    (attachment,) = list(mail.headers.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{number}.pdf"
    pdf = bootstrap.invoicing().invoices.archived_pdf(order["id"], number)
    assert hashlib.sha256(attachment.get_content()).hexdigest() == pdf.sha256
    assert number in mail.text and number in mail.html


def test_a_repeated_archive_event_sends_no_second_email(pipeline, issued, invoice_bucket):
    _, number, event, documents, _ = issued
    assert documents.consume(event) == []
    records = pipeline.new_stream_records()
    archived_records = [
        r
        for r in records
        if r["dynamodb"]["NewImage"].get("event", {}).get("S") == "DocumentArchived"
    ]
    assert len(archived_records) == 1
    # The stream and the bus deliver at least once: the event arrives twice.
    pipeline.publish(records)
    pipeline.publish(archived_records)
    pipeline.run_until_quiet()

    assert len(invoice_mails(pipeline, number)) == 1
