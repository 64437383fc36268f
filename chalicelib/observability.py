"""The one Logger and Metrics of the service (powertools).

Logs are JSON. Personal data stays out of them: log order ids and counts,
never emails, names, addresses, tokens or keys.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="orders")
metrics = Metrics(namespace="Shop", service="orders")


def publish_metrics() -> None:
    """Write the metrics gathered so far (as EMF log lines) and start afresh.

    Called once per request/invocation. powertools' own auto-flush only
    triggers at 100 values, so without this the API Lambda would hold metrics
    across requests and publish them late.
    """
    if metrics.metric_set:
        metrics.flush_metrics()
        metrics.clear_metrics()
