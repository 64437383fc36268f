"""One-off: list the documents written before the by_document_month index.

    python -m local.backfill_document_months --table <name> --years 2026 [2027 ...]
        [--series RE GS]

Invoices and credit notes written before the index existed have no
``document_month_key``, so the month's listing and journal
(GET /admin/invoices, /admin/invoices/journal) do not see them. This walks
each series' numbers of each year from 1 to its counter, by key (no Scan:
each number's record names its order, store/invoices.py
``add_to_month_listing``), and adds the index's attributes to the documents
that lack them. Safe to run again: a document that has them is left alone.

Run it once per stage after deploying the index, with the stage's AWS
credentials and region in the environment (it is a tool, not part of any
Lambda package). The series default to the settings' (SHOP_INVOICE_SERIES,
SHOP_CREDIT_NOTE_SERIES); a shop that changed its series names the old ones too.
"""

from __future__ import annotations

import argparse

import boto3

from chalicelib import config
from chalicelib.domain.invoice import series_key
from chalicelib.settings import InvoiceSettings
from chalicelib.store.invoices import DynamoInvoices


def backfill(client: object, table: str, *, series: list[str], years: list[int]) -> dict[str, int]:
    """How many documents each series and year gained the index's attributes."""
    store = DynamoInvoices(client, table)
    return {
        series_key(name, year): store.add_to_month_listing(series_key(name, year))
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
