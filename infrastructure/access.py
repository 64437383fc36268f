"""Who may do what: the IAM grants of each function, by Chalice handler name.

Each function gets a role of its own holding only these grants (plus writing
to its own log group). A handler the table does not name gets no data access
at all, so a new handler fails loudly in its first test deploy instead of
quietly inheriting someone else's rights. Grants are named by capability;
stack.py turns each into actions on the exact resource ARNs.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.triggers import PAYMENT_EVENTS
from infrastructure import definitions

#: Chalice names the REST API's function "api_handler".
API_HANDLER = "api_handler"


@dataclass(frozen=True)
class Access:
    """What one function may touch."""

    read_table: bool = False
    write_table: bool = False
    read_stream: bool = False
    publish_events: bool = False
    send_email: bool = False
    consume_queues: tuple[str, ...] = ()  # Queue.name
    send_to_queues: tuple[str, ...] = ()  # Queue.name
    read_secrets: tuple[str, ...] = ()  # Parameter.env
    # The back office's sign-out ends the user's tokens at Cognito
    # (AdminUserGlobalSignOut); the sign-in itself needs no IAM grant.
    sign_out_staff: bool = False
    #: The invoices bucket: read the archived PDFs (the downloads' presigned
    #: links are signed with the API's role; the emails attach them).
    read_documents: bool = False
    #: Put new PDFs (only new keys: the put is conditional) and read them back.
    write_documents: bool = False


def _consumed_by(handler: str) -> tuple[str, ...]:
    return tuple(q.name for q in definitions.QUEUES if q.consumer == handler)


TABLE_READ_WRITE = {"read_table": True, "write_table": True}

FUNCTIONS: dict[str, Access] = {
    # Storefront, admin API and signed callbacks: callbacks are verified with
    # the webhook secrets and handed to the payment-events queue.
    API_HANDLER: Access(
        **TABLE_READ_WRITE,
        read_documents=True,
        send_to_queues=(PAYMENT_EVENTS,),
        read_secrets=(
            definitions.STRIPE_WEBHOOK_SECRETS.env,
            definitions.HMAC_WEBHOOK_SECRETS.env,
            # Checkout sessions, and refunds when a paid order is cancelled.
            definitions.STRIPE_API_KEY.env,
            # Signed tracking callbacks from carriers.
            definitions.CARRIER_WEBHOOK_SECRETS.env,
        ),
        sign_out_staff=True,
    ),
    # Reads nothing but the admin key hashes.
    "admin_key_authorizer": Access(read_secrets=(definitions.ADMIN_KEY_HASHES.env,)),
    # The outbox relay: stream in, bus out. It never touches the table itself.
    "publish_order_events": Access(read_stream=True, publish_events=True),
    # Refunds a payment that arrived for an expired or cancelled order.
    "apply_payment_events": Access(
        **TABLE_READ_WRITE,
        consume_queues=_consumed_by("apply_payment_events"),
        read_secrets=(definitions.STRIPE_API_KEY.env,),
    ),
    # Writes email receipts (dedupe) to the table before sending.
    "send_notifications": Access(
        **TABLE_READ_WRITE,
        send_email=True,
        read_documents=True,
        consume_queues=_consumed_by("send_notifications"),
    ),
    # Reads the order, writes its invoice, credit notes and number series.
    "issue_invoices": Access(**TABLE_READ_WRITE, consume_queues=_consumed_by("issue_invoices")),
    # Reads the documents and the order, renders the PDF, puts it into the
    # invoices bucket and records it on the document (definitions.OWN_FUNCTIONS).
    "render_documents": Access(
        **TABLE_READ_WRITE,
        write_documents=True,
        consume_queues=_consumed_by("render_documents"),
    ),
    # The sweeps change orders and carts; the emails they cause travel as
    # events through the outbox, so they need no SES rights of their own.
    "expire_unpaid_orders": Access(**TABLE_READ_WRITE),
    "send_payment_reminders": Access(**TABLE_READ_WRITE),
    "nudge_abandoned_carts": Access(**TABLE_READ_WRITE),
    "send_withdrawal_reminders": Access(**TABLE_READ_WRITE),
}


def access_of(handler: str) -> Access:
    """The grants of ``handler``; none for a handler not listed above."""
    return FUNCTIONS.get(handler, Access())
