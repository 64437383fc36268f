"""Wiring: boto3 clients -> stores -> the services' context.

Everything is built lazily on first use and cached for the warm Lambda;
nothing is created at import time (a client made at import escapes moto in
tests and slows every cold start). ``reset()`` drops the caches for tests.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.config import get_settings
from chalicelib.services.context import Context

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
    )


def reset() -> None:
    """Forget every cached client, store and setting (tests)."""
    from aws_lambda_powertools.utilities import parameters

    aws_client.cache_clear()
    context.cache_clear()
    get_settings.cache_clear()
    parameters.clear_caches()
