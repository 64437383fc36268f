"""The one Logger and Metrics of the service (powertools).

Logs are JSON. Personal data stays out of them: log order ids and counts,
never emails, names, addresses, tokens or keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from chalice.app import BaseLambdaEvent

logger = Logger(service="orders")
metrics = Metrics(namespace="Shop", service="orders")

Event = TypeVar("Event", bound="BaseLambdaEvent")
Result = TypeVar("Result")


def publish_metrics() -> None:
    """Write the metrics gathered so far (as EMF log lines) and start afresh.

    Called once per request/invocation. powertools' own auto-flush only
    triggers at 100 values, so without this the API Lambda would hold metrics
    across requests and publish them late.
    """
    if metrics.metric_set:
        metrics.flush_metrics()
        metrics.clear_metrics()


def per_invocation(handler: Callable[[Event], Result]) -> Callable[[Event], Result]:
    """What powertools' ``inject_lambda_context(clear_state=True)`` and
    ``log_metrics`` do for a plain Lambda handler, for a Chalice event
    handler (stream, queue or schedule): each invocation starts with a clean
    logger carrying the Lambda context (function, request id, cold start),
    and its metrics are published when it ends, raised or not.

    Neither powertools decorator fits as is: Chalice hands its handlers one
    event object, and ``log_metrics`` warns on every invocation without
    metrics. Not a Chalice middleware either: each job is its own Lambda
    function whose handler module is imported without app.py, so the app's
    middleware is never attached there. Put it under the Chalice decorator;
    the handler keeps its name (and with it its Lambda function's).
    """

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: a job's
    # event carries customers' emails and addresses.
    @logger.inject_lambda_context(clear_state=True, log_event=False)
    def with_context(event: Event, _lambda_context: Any) -> Result:
        return handler(event)

    @functools.wraps(handler)
    def invoke(event: Event) -> Result:
        try:
            if event.context is None:  # called directly, not by Lambda (or its stand-ins)
                logger.clear_state()
                return handler(event)
            return with_context(event, event.context)
        finally:
            publish_metrics()

    return invoke


def per_lambda_invocation(
    handler: Callable[[dict[str, Any], Any], Result],
) -> Callable[[dict[str, Any], Any], Result]:
    """``per_invocation`` for a plain Lambda handler (``handler(event,
    context)``), one that is not part of the Chalice app (the documents
    function): a clean logger with the Lambda context, metrics published
    when it ends, raised or not."""

    @logger.inject_lambda_context(clear_state=True, log_event=False)
    def with_context(event: dict[str, Any], lambda_context: Any) -> Result:
        return handler(event, lambda_context)

    @functools.wraps(handler)
    def invoke(event: dict[str, Any], lambda_context: Any) -> Result:
        try:
            if lambda_context is None:  # called directly (tests)
                logger.clear_state()
                return handler(event, lambda_context)
            return with_context(event, lambda_context)
        finally:
            publish_metrics()

    return invoke
