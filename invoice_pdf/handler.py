"""The documents function: InvoiceIssued and CreditNoteIssued in, the
document's PDF into the invoices bucket (invoice_pdf/README.md, docs/invoices.md).

A plain Lambda handler, not part of the Chalice app: Chalice bundles one
package for all of an app's functions, and the renderer's dependencies would
break the API's 5 MB budget. The CDK stack builds this function's own package
from invoice_pdf/requirements.txt and deploys it as ``render_documents``.

The entry point only: each SQS message (one EventBridge event) goes to one
use case, services/archive.py:archive_document, with the renderer handed in
(render.py); failures are reported per message (partial batch response) and
retried alone, then dead-lettered.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib import bootstrap
from chalicelib.jobs import batches
from chalicelib.jobs.batches import QueueMessage
from chalicelib.observability import per_lambda_invocation
from chalicelib.services.archive import archive_document
from invoice_pdf.render import render


def handle_record(record: QueueMessage) -> None:
    """One SQS message holding one EventBridge event."""
    envelope = json.loads(record.body)
    archive_document(envelope["detail-type"], envelope["detail"], bootstrap.archiving(render))


@per_lambda_invocation
def render_documents(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.process(event, handle_record)


def prepare() -> None:
    """The stores, the bucket's client and the fonts' module, made at init."""
    bootstrap.archiving(render)


bootstrap.prepare_at_init(__name__, prepare)
