"""One-off: list the documents written before the by_document_month index.

    python -m local.backfill_document_months --table <name> --years 2026 [2027 ...]
        [--series RE GS]

Invoices and credit notes written before the index existed have no
``document_month_key``, so the month's listing and journal
(GET /admin/invoices, /admin/invoices/journal) do not see them. This walks
each series' numbers of each year from 1 to its counter, by key (no Scan:
each number's record names its order), reads the document through the
invoice store and adds the index's attributes where they are missing. Safe
to run again: a document that has them is left alone (a conditional update).

Run it once per stage after deploying the index, with the stage's AWS
credentials and region in the environment. It is a tool, kept out of every
Lambda package. The series default to the settings' (SHOP_INVOICE_SERIES,
SHOP_CREDIT_NOTE_SERIES); a shop that changed its series names the old ones too.
"""

from __future__ import annotations

import argparse
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib import config
from chalicelib.domain.invoice import NUMBER_DIGITS, CreditNote, Invoice, series_key
from chalicelib.settings import InvoiceSettings
from chalicelib.store import keys
from chalicelib.store.attributes import to_dynamo
from chalicelib.store.invoices import DynamoInvoices


def _document(
    store: DynamoInvoices, number: str
) -> tuple[str, Invoice | CreditNote, dict[str, str]] | None:
    """The document holding ``number``, its kind and its table key."""
    record = store.number(number)
    if record is None:
        return None
    if record.kind == "invoice":
        issued = store.invoice_of(record.order_id)
        return (
            None if issued is None else ("invoice", issued.invoice, keys.invoice(record.order_id))
        )
    for note in store.credit_notes_of(record.order_id):
        if note.number == number:
            return "credit_note", note, keys.credit_note(record.order_id, note.source)
    return None


def add_to_month_listing(client: Any, table: str, series: str) -> int:
    """Give every document of one series and year ("RE-2026") that lacks
    them the by_document_month index's attributes; how many it changed."""
    store = DynamoInvoices(client, table)
    changed = 0
    for sequence in range(1, store.last_number(series) + 1):
        found = _document(store, f"{series}-{sequence:0{NUMBER_DIGITS}d}")
        if found is None:
            continue
        kind, document, key = found
        values = {
            ":month": keys.document_month_key(f"{document.issue_date:%Y-%m}"),
            ":key": keys.document_key(kind, document.number),
        }
        try:
            client.update_item(
                TableName=table,
                Key=to_dynamo(key),
                UpdateExpression="SET document_month_key = :month, document_key = :key",
                ConditionExpression=(
                    "attribute_exists(PK) AND attribute_not_exists(document_month_key)"
                ),
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            continue
        changed += 1
    return changed


def backfill(client: Any, table: str, *, series: list[str], years: list[int]) -> dict[str, int]:
    """How many documents each series and year gained the index's attributes."""
    return {
        series_key(name, year): add_to_month_listing(client, table, series_key(name, year))
        for name in series
        for year in years
    }


def main() -> None:
    defaults = config.validate_settings(InvoiceSettings, config.environment())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--years", type=int, nargs="+", required=True)
    parser.add_argument(
        "--series", nargs="+", default=[defaults.invoice_series, defaults.credit_note_series]
    )
    args = parser.parse_args()
    changed = backfill(boto3.client("dynamodb"), args.table, series=args.series, years=args.years)
    for name, count in changed.items():
        print(f"{name}: {count} documents added to the month listing")


if __name__ == "__main__":
    main()
