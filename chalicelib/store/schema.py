"""The single DynamoDB table: keys and indexes, defined once.

This module is the one source of the table's shape. The store layer builds
keys from it, the local stack (local/) creates the table from it, and the CDK
app (infrastructure/) declares the deployed table from it, so the three can
never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

PARTITION_KEY = "PK"
SORT_KEY = "SK"
#: Epoch seconds; DynamoDB's TTL deletes idempotency records and webhook receipts.
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class Index:
    """A global secondary index. Every index is sparse: an item appears in it
    only while it carries the index's partition attribute."""

    name: str
    partition_key: str
    sort_key: str
    purpose: str


#: Orders by status, newest first (admin listing). Key: STATUS#<status>.
BY_STATUS = Index("by_status", "status_key", "listed_at", "admin: orders by status")
#: Orders by customer email (lower-cased), newest first.
BY_CUSTOMER = Index("by_customer", "customer_key", "listed_at", "admin: orders by email")
#: Orders awaiting payment by deadline. The key exists only while the order is
#: pending_payment and is sharded (DUE#0..DUE#n-1) so a burst of checkouts does
#: not write to one hot partition.
PAYMENT_DUE = Index("payment_due", "due_shard", "payment_due_at", "sweep: unpaid past deadline")
#: Carts that may be nudged, keyed by when the nudge falls due; present only
#: while a cart has an address, consent, items, no order and no nudge yet.
NUDGE_DUE = Index("nudge_due", "nudge_shard", "nudge_due_at", "sweep: abandoned carts")

INDEXES: tuple[Index, ...] = (BY_STATUS, BY_CUSTOMER, PAYMENT_DUE, NUDGE_DUE)

# The order desk (fulfilment): every filter of GET /admin/orders is served by
# a key or one of these indexes, newest first by ``listed_at``.
#: Orders by payment status. Key: PAYSTATUS#<payment_status>.
BY_PAYMENT_STATUS = Index(
    "by_payment_status", "payment_status_key", "listed_at", "admin: orders by payment status"
)
#: Orders by payment method. Key: PAYMETHOD#<payment_method>.
BY_PAYMENT_METHOD = Index(
    "by_payment_method", "payment_method_key", "listed_at", "admin: orders by payment method"
)
#: All orders by creation month (UTC). Key: MONTH#<yyyy-mm>; date ranges and
#: the unfiltered listing walk the months, one partition per month.
BY_MONTH = Index("by_month", "month_key", "listed_at", "admin: all orders by creation time")
INDEXES = (*INDEXES, BY_PAYMENT_STATUS, BY_PAYMENT_METHOD, BY_MONTH)
#: Orders with a withdrawal whose refund is open (the desk's `withdrawal=open`
#: and the refund reminders). Key: WITHDRAWAL#open, present only while one is open.
BY_WITHDRAWAL = Index(
    "by_withdrawal", "withdrawal_key", "listed_at", "admin, job: open withdrawals"
)
INDEXES = (*INDEXES, BY_WITHDRAWAL)
#: What the shop holds about one email address besides its orders (those are
#: in by_customer): carts and opt-out links, keyed by the address's hash
#: (SUBJECT#<sha256>), and payment callbacks' receipts, keyed by their order
#: (SUBJECT#ORDER#<id>), so a data request finds them without a Scan
#: (docs/gdpr.md). Sort key: the item's PK.
BY_SUBJECT = Index("by_subject", "subject_key", "subject_item", "gdpr: an address's carts")
INDEXES = (*INDEXES, BY_SUBJECT)
#: Invoices and credit notes by the calendar month of their issue date (the
#: shop's timezone, as printed on the document), invoices first, each kind in
#: number order (docs/invoices.md, "The month's export"). Key:
#: DOCMONTH#<yyyy-mm>; only document items carry it. Sort key: <rank>#<number>.
BY_DOCUMENT_MONTH = Index(
    "by_document_month", "document_month_key", "document_key", "admin: a month's documents"
)
INDEXES = (*INDEXES, BY_DOCUMENT_MONTH)

#: Shards of the sparse sweep indexes. Four shards spread a write peak over
#: four partitions; the sweeps query each shard, so reads stay proportional
#: to the due items, not to the table.
SWEEP_SHARDS = 4


def attribute_definitions() -> list[dict[str, str]]:
    """All key attributes (table and indexes); every one is a string."""
    names = [PARTITION_KEY, SORT_KEY]
    for index in INDEXES:
        for name in (index.partition_key, index.sort_key):
            if name not in names:
                names.append(name)
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def create_table_request(table_name: str) -> dict[str, object]:
    """The CreateTable request for boto3 (used by the local stack and tests)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": attribute_definitions(),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
