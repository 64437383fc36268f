"""Wiring: boto3 clients -> stores -> the services' context.

Everything is built lazily on first use and cached for the warm Lambda.
Nothing is created at import time (a client made at import escapes moto in
tests), except in Lambda's init phase, where each function makes what its
every invocation needs (``prepare_at_init``). ``reset()`` drops the caches
for tests.

Importing this module loads nothing of ours and not pydantic: app.py and
every job module import it, and each function loads only what it uses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    from chalicelib.carriers.signing import CarrierCallbacks
    from chalicelib.notify.service import Notifier
    from chalicelib.payments.fake import FakeStripe
    from chalicelib.payments.stripe_api import StripeApi
    from chalicelib.services.archive import Archiving
    from chalicelib.services.context import Context
    from chalicelib.services.invoices import Invoicing
    from chalicelib.services.ports import (
        AttemptCounter,
        CallbackVerifier,
        CartStore,
        CatalogStore,
        CustomerData,
        DocumentArchive,
        InvoiceStore,
        OrderDesk,
        OrderStore,
        PaymentEventQueue,
        PaymentPorts,
        PaymentProvider,
        PaymentRecords,
        PdfRenderer,
        ShippingAndCodes,
        StaffDirectory,
        StaffSessions,
        SuppressionList,
        SweepIndex,
    )
    from chalicelib.settings import NotificationSettings, ServiceSettings, Settings

T = TypeVar("T")

# Connect and read timeouts well under the Lambda timeout, with botocore's
# standard retry mode (exponential backoff with jitter on throttling).
_RETRIES = {"mode": "standard", "max_attempts": 5}


def prepare_at_init(module: str, prepare: Callable[[], object]) -> None:
    """Run ``prepare`` now if this process is the Lambda function whose
    handler lives in ``module``; otherwise do nothing.

    Lambda imports a function's handler module in its init phase, which AWS
    runs on a full vCPU; invocations get the share of a vCPU the function's
    memory buys (1,769 MB buy one, so 512 MB about 0.29). Importing boto3 and
    making the clients is the same work either way, and several times faster
    at init than in the first request, which a customer waits for.

    ``_HANDLER`` is reserved and set by Lambda to the function's handler
    (``app.app``, ``chalicelib.jobs.outbox.publish_order_events``). Only the
    module holding it prepares: app.py imports every job module, and the API
    function must not make the consumers' clients. Tests and the local stack
    have no ``_HANDLER``, so nothing is made at import there.
    """
    from chalicelib.config import lambda_handler

    handler_module, _, _ = lambda_handler().rpartition(".")
    if handler_module == module:
        prepare()


def get_settings() -> Settings:
    """Every setting (tests, tools). A function's own path asks config.py
    for only the groups it uses (chalicelib/settings.py)."""
    from chalicelib.config import get_settings as every_setting

    return every_setting()


def service_settings() -> ServiceSettings:
    from chalicelib.config import service_settings as cached

    return cached()


def notification_settings() -> NotificationSettings:
    from chalicelib.config import notification_settings as cached

    return cached()


@functools.cache
def aws_client(service: str) -> Any:
    # Imported here, not at module level: a handler that never touches AWS
    # (e.g. a 4xx answered from validation) does not pay for boto3's import.
    import boto3
    from botocore.config import Config

    from chalicelib.config import common_settings

    settings = common_settings()
    config = Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        # A copy: botocore rewrites the dict it is given (max_attempts ->
        # total_max_attempts), which would change the shared default.
        retries=dict(_RETRIES),
    )
    return boto3.client(service, config=config)


@functools.cache
def secure_parameters() -> SSMProvider:
    """powertools' SSM parameter provider on our own boto3 client.

    Not ``parameters.get_parameter``: its default provider makes a boto3
    Session of its own, which reads botocore's endpoint and partition data a
    second time, about 75 ms of the webhook's cold start (docs/performance.md)."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=aws_client("ssm"))


def secret_parameter(name: str, *, max_age: int, transform: Literal["json"] | None = None) -> Any:
    """A SecureString parameter, decrypted and cached for ``max_age`` seconds
    per warm Lambda (rotation takes that long to reach every instance)."""
    return secure_parameters().get(name, max_age=max_age, transform=transform, decrypt=True)


class _Deferred:
    """Stands in for an adapter until its first use, then builds it once and
    passes every attribute through to it.

    The context names every store and port a use case may need, but a
    request needs one or two of them: GET /products reads the catalog, a
    payment callback the payment records. Building them all at a cold start
    imported every store and adapter (and through them most of the domain and
    the Stripe adapter's models) whatever the route (docs/performance.md).
    """

    __slots__ = ("_build", "_built", "_lock")

    def __init__(self, build: Callable[[], object]) -> None:
        import threading

        self._build = build
        self._built: object | None = None
        # Chalice's local server answers each request on its own thread.
        self._lock = threading.Lock()

    def _adapter(self) -> object:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter(), name)


def build_now(*adapters: object) -> None:
    """Build these members of the context now: what a function's every
    invocation uses, made at its init (``prepare_at_init``)."""
    for adapter in adapters:
        if isinstance(adapter, _Deferred):
            adapter._adapter()


def _deferred(build: Callable[[], T]) -> T:
    """``build()`` on first use (``_Deferred``), typed as what it builds."""
    return cast("T", _Deferred(build))


@functools.cache
def context() -> Context:
    """The use cases' context. Each store and port is built on first use
    (``_deferred``), so a request imports only the adapters its use case
    touches; all of them share one DynamoDB client."""
    from chalicelib.services.context import Context

    settings = service_settings()
    table = settings.table_name

    def catalog() -> CatalogStore:
        from chalicelib.store.catalog import DynamoCatalog

        return DynamoCatalog(aws_client("dynamodb"), table, settings.catalog_cache_seconds)

    def orders() -> OrderStore:
        from chalicelib.store.orders import DynamoOrders

        return DynamoOrders(aws_client("dynamodb"), table)

    def carts() -> CartStore:
        from chalicelib.store.carts import DynamoCarts

        return DynamoCarts(aws_client("dynamodb"), table)

    def suppressions() -> SuppressionList:
        from chalicelib.store.suppressions import DynamoSuppressions

        return DynamoSuppressions(aws_client("dynamodb"), table)

    def sweeps() -> SweepIndex:
        from chalicelib.store.sweeps import DynamoSweepIndex

        return DynamoSweepIndex(aws_client("dynamodb"), table)

    def desk() -> OrderDesk:
        from chalicelib.store.desk import DynamoOrderDesk

        return DynamoOrderDesk(aws_client("dynamodb"), table)

    def attempts() -> AttemptCounter:
        from chalicelib.store.attempts import DynamoAttemptCounter

        return DynamoAttemptCounter(aws_client("dynamodb"), table)

    def terms() -> ShippingAndCodes:
        from chalicelib.store.checkout_terms import DynamoShippingAndCodes

        return DynamoShippingAndCodes(aws_client("dynamodb"), table)

    def customer_data() -> CustomerData:
        from chalicelib.store.customer_data import DynamoCustomerData

        return DynamoCustomerData(aws_client("dynamodb"), table)

    def invoices() -> InvoiceStore:
        from chalicelib.store.invoices import DynamoInvoices

        return DynamoInvoices(aws_client("dynamodb"), table)

    def staff() -> StaffDirectory:
        from chalicelib.identity.cognito import CognitoStaff

        return CognitoStaff(
            aws_client("cognito-idp"),
            user_pool_id=settings.staff_user_pool_id,
            client_id=settings.staff_user_pool_client_id,
        )

    def sessions() -> StaffSessions:
        from chalicelib.store.sessions import DynamoStaffSessions

        return DynamoStaffSessions(aws_client("dynamodb"), table)

    return Context(
        catalog=_deferred(catalog),
        orders=_deferred(orders),
        settings=settings,
        carts=_deferred(carts),
        suppressions=_deferred(suppressions),
        sweeps=_deferred(sweeps),
        desk=_deferred(desk),
        payments=_deferred(payment_ports),
        carrier_callbacks=_deferred(carrier_callbacks),
        attempts=_deferred(attempts),
        terms=_deferred(terms),
        customer_data=_deferred(customer_data),
        invoices=_deferred(invoices),
        staff=_deferred(staff),
        sessions=_deferred(sessions),
        archive=_deferred(lambda: document_archive(settings.invoice_bucket)),
    )


@functools.cache
def notifier() -> Notifier:
    from chalicelib.notify.emails import Shop
    from chalicelib.notify.service import Notifier
    from chalicelib.notify.ses import SesMailer
    from chalicelib.store.email_receipts import DynamoEmailReceipts
    from chalicelib.store.pickup_codes import DynamoPickupCodes
    from chalicelib.store.suppressions import DynamoSuppressions

    settings = notification_settings()
    return Notifier(
        receipts=DynamoEmailReceipts(aws_client("dynamodb"), settings.table_name),
        mailer=SesMailer(
            aws_client("sesv2"),
            sender=settings.email_sender,
            reply_to=settings.support_email,
            configuration_set=settings.ses_configuration_set,
        ),
        shop=Shop.from_settings(settings),
        settings=settings,
        suppressions=DynamoSuppressions(aws_client("dynamodb"), settings.table_name),
        pickup_codes=DynamoPickupCodes(aws_client("dynamodb"), settings.table_name),
        archive=_deferred(lambda: document_archive(settings.invoice_bucket)),
    )


@functools.cache
def document_archive(bucket: str) -> DocumentArchive:
    """The invoices bucket (docs/invoices.md)."""
    from chalicelib.store.archive import S3DocumentArchive

    return S3DocumentArchive(aws_client("s3"), bucket)


@functools.cache
def archiving(render: PdfRenderer) -> Archiving:
    """The documents function's: the documents, the bucket and the renderer
    its entry point hands in (invoice_pdf/, which chalicelib never imports)."""
    from chalicelib.config import document_settings
    from chalicelib.services.archive import Archiving
    from chalicelib.store.invoices import DynamoInvoices
    from chalicelib.store.orders import DynamoOrders

    settings = document_settings()
    client = aws_client("dynamodb")
    return Archiving(
        orders=DynamoOrders(client, settings.table_name),
        invoices=DynamoInvoices(client, settings.table_name),
        archive=document_archive(settings.invoice_bucket),
        render=render,
    )


@functools.cache
def invoicing() -> Invoicing:
    """The invoices function's stores and settings (docs/invoices.md)."""
    from chalicelib.config import invoicing_settings
    from chalicelib.services.invoices import Invoicing
    from chalicelib.store.invoices import DynamoInvoices
    from chalicelib.store.orders import DynamoOrders

    settings = invoicing_settings()
    client = aws_client("dynamodb")
    return Invoicing(
        orders=DynamoOrders(client, settings.table_name),
        invoices=DynamoInvoices(client, settings.table_name),
        settings=settings,
    )


@functools.cache
def payment_ports() -> PaymentPorts:
    """Providers, callback verifiers, receipts and the queue (docs/payments.md).

    Each is built on first use: a checkout needs one provider, a callback
    one verifier and the queue, a refund one provider; none needs the others'
    modules (the Stripe webhook models, the signature schemes, SQS)."""
    from chalicelib.services.ports import PaymentPorts

    settings = service_settings()
    max_age = settings.payment_secrets_cache_seconds

    def stripe() -> PaymentProvider:
        if settings.payment_provider_api == "fake":
            return fake_stripe()
        from chalicelib.payments.stripe_adapter import StripeProvider

        return StripeProvider(stripe_client)

    def manual() -> PaymentProvider:
        from chalicelib.payments.manual import ManualRefunds

        return ManualRefunds()

    def stripe_callbacks() -> CallbackVerifier:
        from chalicelib.payments.stripe_callbacks import StripeCallbacks

        return StripeCallbacks(
            lambda: secret_list(settings.stripe_webhook_secrets_parameter, max_age=max_age)
        )

    def hmac_callbacks() -> CallbackVerifier:
        from chalicelib.payments.hmac_adapter import HmacCallbacks

        return HmacCallbacks(
            lambda: secret_list(settings.hmac_webhook_secrets_parameter, max_age=max_age)
        )

    def records() -> PaymentRecords:
        from chalicelib.store.payments import DynamoPaymentRecords

        return DynamoPaymentRecords(aws_client("dynamodb"), settings.table_name)

    def queue() -> PaymentEventQueue:
        from chalicelib.payments.queue import SqsPaymentEvents

        return SqsPaymentEvents(lambda: aws_client("sqs"), settings.payment_events_queue_name)

    refunds_by_hand = _deferred(manual)
    return PaymentPorts(
        providers={
            "stripe": _deferred(stripe),
            "hmac": refunds_by_hand,
            "bank_transfer": refunds_by_hand,
        },
        callbacks={"stripe": _deferred(stripe_callbacks), "hmac": _deferred(hmac_callbacks)},
        records=_deferred(records),
        queue=_deferred(queue),
    )


@functools.cache
def carrier_callbacks() -> CarrierCallbacks:
    """The carriers' signed tracking callbacks (docs/fulfilment.md)."""
    from chalicelib.carriers.signing import CarrierCallbacks

    settings = service_settings()
    return CarrierCallbacks(
        lambda: secret_list(
            settings.carrier_webhook_secrets_parameter,
            max_age=settings.carrier_secrets_cache_seconds,
        )
    )


@functools.cache
def fake_stripe() -> FakeStripe:
    """The one fake Stripe of a local run: its pay page and the API share it."""
    from chalicelib.payments.fake import FakeStripe

    return FakeStripe(pay_page_url=service_settings().fake_pay_page_url)


@functools.cache
def stripe_client() -> StripeApi:
    from chalicelib.payments.stripe_api import StripeApi

    # Read once per warm Lambda: a rotated API key arrives with a new instance.
    settings = service_settings()
    api_key = secret_parameter(
        settings.stripe_api_key_parameter, max_age=settings.payment_secrets_cache_seconds
    )
    return StripeApi(str(api_key))


def secret_list(parameter: str, *, max_age: int) -> list[str]:
    """A SecureString parameter holding secrets (webhook secrets, admin key
    hashes), read with ``parse_secret_list``: rotation is editing the list,
    adding the new value and later dropping the old one."""
    return parse_secret_list(str(secret_parameter(parameter, max_age=max_age)))


def parse_secret_list(value: str) -> list[str]:
    """The one reading of a secrets parameter: a JSON list of values, or one
    value as plain text; blank values are dropped (never a usable secret)."""
    import json

    if value.lstrip().startswith("["):
        return [str(v) for v in json.loads(value) if str(v).strip()]
    return [value.strip()] if value.strip() else []


def reset() -> None:
    """Forget every cached client, store, secret and setting (tests)."""
    from chalicelib.config import settings_of

    aws_client.cache_clear()
    secure_parameters.cache_clear()
    context.cache_clear()
    notifier.cache_clear()
    invoicing.cache_clear()
    archiving.cache_clear()
    document_archive.cache_clear()
    payment_ports.cache_clear()
    carrier_callbacks.cache_clear()
    fake_stripe.cache_clear()
    stripe_client.cache_clear()
    settings_of.cache_clear()
