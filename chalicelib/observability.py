"""The one Logger and Metrics of the service (powertools).

Logs are JSON. Personal data stays out of them: log order ids and counts,
never emails, names, addresses, tokens or keys.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="orders")
metrics = Metrics(namespace="Shop", service="orders")
