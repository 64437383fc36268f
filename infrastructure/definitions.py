"""Every AWS resource the system needs besides its functions, as plain data.

One source for two consumers: the CDK app (infrastructure/app.py) declares the
deployed resources from these definitions, and the local stack (local/)
creates the same resources on the embedded moto server. Nothing here imports
CDK or boto3, so both sides can read it cheaply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from chalicelib.store import schema
from chalicelib.triggers import PAYMENT_EVENTS, SCHEDULE_MINUTES

TABLE = schema
EVENT_BUS = "orders"
EVENT_SOURCE = "shop.orders"


@dataclass(frozen=True)
class Queue:
    """An SQS queue with its dead-letter queue.

    ``consumer_timeout`` is the consuming function's timeout in seconds; the
    visibility timeout is six times that, as AWS recommends for Lambda event
    source mappings, so a message is not redelivered while a retry of its
    batch is still running.
    """

    name: str
    consumer: str  # the Chalice handler (function) that consumes it
    fifo: bool = False
    consumer_timeout: int = 30
    max_receive_count: int = 5
    batch_size: int = 10
    #: False: the consumer is a function of its own, outside the Chalice app
    #: (``OWN_FUNCTIONS``), which the stack builds and binds itself.
    in_chalice_app: bool = True

    @property
    def visibility_timeout(self) -> int:
        return 6 * self.consumer_timeout

    @property
    def queue_name(self) -> str:
        return f"{self.name}.fifo" if self.fifo else self.name

    @property
    def dlq_name(self) -> str:
        return f"{self.name}-dlq.fifo" if self.fifo else f"{self.name}-dlq"


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule on the orders bus that routes events to a queue."""

    name: str
    queue: str
    detail_types: tuple[str, ...] = ()  # empty: every event from EVENT_SOURCE

    @property
    def pattern(self) -> dict[str, object]:
        pattern: dict[str, object] = {"source": [EVENT_SOURCE]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        return pattern


@dataclass(frozen=True)
class Schedule:
    """A scheduled job: the Chalice handler and how often it runs."""

    handler: str
    every_minutes: int


@dataclass(frozen=True)
class Parameter:
    """An SSM SecureString parameter; ``local_value`` is what `make run` uses."""

    env: str  # the setting in chalicelib/config.py that names it
    name: str  # with {stage} filled in per stage
    local_value: str
    description: str = ""


QUEUES: tuple[Queue, ...] = (
    # Payment callbacks, grouped by order so one order's events apply in order.
    Queue(PAYMENT_EVENTS, consumer="apply_payment_events", fifo=True),
    Queue("notifications", consumer="send_notifications"),
    # Invoices and credit notes (docs/invoices.md).
    Queue("invoices", consumer="issue_invoices"),
    # The invoices' and credit notes' PDFs into the archive (docs/invoices.md):
    # rendering takes seconds on a cold start, so the timeout is longer.
    Queue("documents", consumer="render_documents", consumer_timeout=60, in_chalice_app=False),
    # The warehouse hand-off; consumed by the warehouse, not by us.
    Queue("fulfilment", consumer=""),
)

RULES: tuple[Rule, ...] = (
    Rule("notify-on-order-events", queue="notifications"),
    Rule("fulfil-paid-orders", queue="fulfilment", detail_types=("OrderPaid",)),
    # What issues an invoice (payment, or the first shipment) or a credit note
    # (a refund); chalicelib/services/invoices.py INVOICE_EVENTS.
    Rule(
        "invoice-order-events",
        queue="invoices",
        detail_types=("OrderPaid", "OrderShipped", "OrderRefunded"),
    ),
    # Each issued document is rendered and archived; chalicelib/services/archive.py
    # ARCHIVE_EVENTS.
    Rule(
        "archive-invoice-documents",
        queue="documents",
        detail_types=("InvoiceIssued", "CreditNoteIssued"),
    ),
)


@dataclass(frozen=True)
class OwnFunction:
    """A function outside the Chalice app, with a package of its own
    (infrastructure/documents_package.py builds it at synth)."""

    name: str  # as a Chalice handler's: the Lambda function is <app>-<stage>-<name>
    handler: str  # module.function inside the package
    requirements: str  # its runtime, installed for Lambda's platform
    sources: tuple[str, ...]  # the packages (directories) of ours it ships
    memory_mb: int = 1024


#: The documents renderer: fpdf2 and fontTools would break the API's 5 MB
#: budget (invoice_pdf/README.md).
DOCUMENTS_FUNCTION = OwnFunction(
    name="render_documents",
    handler="invoice_pdf.handler.render_documents",
    requirements="invoice_pdf/requirements.txt",
    sources=("invoice_pdf", "chalicelib"),
)
OWN_FUNCTIONS: tuple[OwnFunction, ...] = (DOCUMENTS_FUNCTION,)

SCHEDULES: tuple[Schedule, ...] = tuple(
    Schedule(handler, every_minutes=minutes) for handler, minutes in SCHEDULE_MINUTES.items()
)

#: Hashes only: a leaked parameter does not leak a usable key.
ADMIN_KEY_HASHES = Parameter(
    env="SHOP_ADMIN_KEYS_PARAMETER",
    name="/shop/{stage}/admin-key-hashes",
    # The documented local admin key, `local-admin-key`, hashed.
    local_value=json.dumps([hashlib.sha256(b"local-admin-key").hexdigest()]),
    description="JSON list of sha256 hex digests of the admin API keys",
)


#: Payment callback signing secrets, as JSON lists: every listed secret is
#: accepted, so a rotation adds the new secret, switches the provider over,
#: then drops the old one (docs/payments.md).
STRIPE_WEBHOOK_SECRETS = Parameter(
    env="SHOP_STRIPE_WEBHOOK_SECRETS_PARAMETER",
    name="/shop/{stage}/stripe-webhook-secrets",
    local_value=json.dumps(["whsec_local"]),
    description="JSON list of the active Stripe webhook signing secrets (whsec_...)",
)
HMAC_WEBHOOK_SECRETS = Parameter(
    env="SHOP_HMAC_WEBHOOK_SECRETS_PARAMETER",
    name="/shop/{stage}/hmac-webhook-secrets",
    local_value=json.dumps(["hmac_local"]),
    description="JSON list of the active secrets of the generic HMAC payment callbacks",
)
#: Not used by local runs (they replace Stripe's API with the fake provider).
STRIPE_API_KEY = Parameter(
    env="SHOP_STRIPE_API_KEY_PARAMETER",
    name="/shop/{stage}/stripe-api-key",
    local_value="sk_test_local_unused",
    description="Stripe secret API key (sk_live_... / sk_test_...), plain text",
)

PARAMETERS: tuple[Parameter, ...] = (
    ADMIN_KEY_HASHES,
    STRIPE_WEBHOOK_SECRETS,
    HMAC_WEBHOOK_SECRETS,
    STRIPE_API_KEY,
)

#: Fulfilment: the signing secret of carrier tracking callbacks
#: (docs/fulfilment.md). One secret as plain text, or a JSON list of secrets
#: while rotating. Locally the documented `carrier_local`.
CARRIER_WEBHOOK_SECRETS = Parameter(
    env="SHOP_CARRIER_WEBHOOK_SECRETS_PARAMETER",
    name="/shop/{stage}/carrier-webhook-secrets",
    local_value="carrier_local",
    description="Signing secret(s) of the carrier tracking callbacks (plain text or JSON list)",
)
PARAMETERS = (*PARAMETERS, CARRIER_WEBHOOK_SECRETS)


@dataclass(frozen=True)
class Stage:
    """Settings of one deployed stage that are not the app's own config.

    The stages themselves are the keys of ``stages`` in .chalice/config.json,
    which also carries each stage's payment windows as environment variables;
    what the infrastructure must know to create resources (the sender
    identity, where alarms go, whether the table may be deleted) lives here.
    The CDK app hands ``shop_name`` and ``sender_email`` to the functions as
    SHOP_DISPLAY_NAME and SHOP_EMAIL_SENDER ("Shop name <address>").
    """

    name: str
    shop_name: str
    #: The From address of every email; SES must verify it (or its domain).
    sender_email: str
    region: str = "eu-central-1"
    #: Where CloudWatch alarms are emailed; empty: the SNS topic only.
    alarm_email: str = ""
    #: Production data survives `cdk destroy` and console accidents.
    protect_data: bool = False
    log_retention_days: int = 30
    #: API Gateway throttling for the whole stage (requests per second and
    #: burst): a runaway client gets 429s before it exhausts Lambda.
    api_rate_limit: int = 50
    api_burst_limit: int = 100


STAGES: dict[str, Stage] = {
    "dev": Stage(
        name="dev",
        shop_name="Example Shop (dev)",
        sender_email="orders@dev.shop.example",
        log_retention_days=14,
    ),
    "prod": Stage(
        name="prod",
        shop_name="Example Shop",
        sender_email="orders@shop.example",
        protect_data=True,
        log_retention_days=90,
    ),
}


@dataclass(frozen=True)
class Definitions:
    bus: str = EVENT_BUS
    queues: tuple[Queue, ...] = QUEUES
    rules: tuple[Rule, ...] = RULES
    schedules: tuple[Schedule, ...] = SCHEDULES
    parameters: tuple[Parameter, ...] = PARAMETERS
