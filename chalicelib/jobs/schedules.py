"""The scheduled jobs. Each handler becomes a Lambda function of its name;
how often each runs is declared in infrastructure/definitions.py (SCHEDULES)
and mirrored in RATE_MINUTES below (a test keeps the two equal)."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import per_invocation
from chalicelib.services import sweeps

schedules = Blueprint(__name__)

RATE_MINUTES = {
    "expire_unpaid_orders": 5,
    "send_payment_reminders": 60,
    "nudge_abandoned_carts": 60,
}


@schedules.schedule(
    Rate(RATE_MINUTES["expire_unpaid_orders"], unit=Rate.MINUTES), name="expire_unpaid_orders"
)
@per_invocation
def expire_unpaid_orders(event: CloudWatchEvent) -> dict[str, int]:
    return summary(sweeps.expire_unpaid_orders(bootstrap.context()))


@schedules.schedule(
    Rate(RATE_MINUTES["send_payment_reminders"], unit=Rate.MINUTES), name="send_payment_reminders"
)
@per_invocation
def send_payment_reminders(event: CloudWatchEvent) -> dict[str, int]:
    return summary(sweeps.send_payment_reminders(bootstrap.context()))


@schedules.schedule(
    Rate(RATE_MINUTES["nudge_abandoned_carts"], unit=Rate.MINUTES), name="nudge_abandoned_carts"
)
@per_invocation
def nudge_abandoned_carts(event: CloudWatchEvent) -> dict[str, int]:
    return summary(sweeps.nudge_abandoned_carts(bootstrap.context()))


def summary(report: sweeps.SweepReport) -> dict[str, int]:
    return {
        "found": report.found,
        "acted": report.acted,
        "skipped": report.skipped,
        "errors": report.errors,
        "items_read": report.items_read,
    }


bootstrap.prepare_at_init(__name__, bootstrap.context)
