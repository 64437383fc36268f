"""Wiring: boto3 clients -> stores -> the services' context.

Everything is built lazily on first use and cached for the warm Lambda;
nothing is created at import time (a client made at import escapes moto in
tests and slows every cold start). ``reset()`` drops the caches for tests.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalicelib.config import get_settings
from chalicelib.services.context import Context

if TYPE_CHECKING:
    from chalicelib.notify.service import Notifier

# Connect and read timeouts well under the Lambda timeout, with botocore's
# standard retry mode (exponential backoff with jitter on throttling).
_CLIENT_CONFIG = {
    "connect_timeout": 3,
    "read_timeout": 5,
    "retries": {"mode": "standard", "max_attempts": 5},
}


@functools.cache
def aws_client(service: str) -> Any:
    # Imported here, not at module level: a handler that never touches AWS
    # (e.g. a 4xx answered from validation) does not pay for boto3's import.
    import boto3
    from botocore.config import Config

    return boto3.client(service, config=Config(**_CLIENT_CONFIG))


@functools.cache
def context() -> Context:
    from chalicelib.store.carts import DynamoCarts
    from chalicelib.store.catalog import DynamoCatalog
    from chalicelib.store.desk import DynamoOrderDesk
    from chalicelib.store.orders import DynamoOrders
    from chalicelib.store.suppressions import DynamoSuppressions
    from chalicelib.store.sweeps import DynamoSweepIndex

    settings = get_settings()
    client = aws_client("dynamodb")
    return Context(
        catalog=DynamoCatalog(client, settings.table_name, settings.catalog_cache_seconds),
        orders=DynamoOrders(client, settings.table_name),
        settings=settings,
        carts=DynamoCarts(client, settings.table_name),
        suppressions=DynamoSuppressions(client, settings.table_name),
        sweeps=DynamoSweepIndex(client, settings.table_name),
        desk=DynamoOrderDesk(client, settings.table_name),
    )


@functools.cache
def notifier() -> Notifier:
    from chalicelib.notify.emails import Shop
    from chalicelib.notify.receipts import DynamoEmailReceipts
    from chalicelib.notify.service import Notifier
    from chalicelib.notify.ses import SesMailer

    settings = get_settings()
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
    )


def reset() -> None:
    """Forget every cached client, store and setting (tests)."""
    from aws_lambda_powertools.utilities import parameters

    aws_client.cache_clear()
    context.cache_clear()
    notifier.cache_clear()
    get_settings.cache_clear()
    parameters.clear_caches()
