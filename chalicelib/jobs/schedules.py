"""The scheduled jobs. Each handler becomes a Lambda function of its name;
how often each runs is defined once, in chalicelib/triggers.py, which
infrastructure/definitions.py (SCHEDULES) reads too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib import bootstrap
from chalicelib.observability import per_invocation
from chalicelib.triggers import SCHEDULE_MINUTES

if TYPE_CHECKING:
    from chalicelib.services.sweeps import SweepReport

# The sweeps (and through them every use case and the domain) are imported
# by the handlers, not here: app.py imports this module to register the
# schedules, and the API function must not pay for the jobs' code at its
# cold start (docs/performance.md). This function loads them at init.

schedules = Blueprint(__name__)


def every(job: str) -> Rate:
    return Rate(SCHEDULE_MINUTES[job], unit=Rate.MINUTES)


@schedules.schedule(every("expire_unpaid_orders"), name="expire_unpaid_orders")
@per_invocation
def expire_unpaid_orders(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.services import sweeps

    return summary(sweeps.expire_unpaid_orders(bootstrap.context()))


@schedules.schedule(every("send_payment_reminders"), name="send_payment_reminders")
@per_invocation
def send_payment_reminders(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.services import sweeps

    return summary(sweeps.send_payment_reminders(bootstrap.context()))


@schedules.schedule(every("nudge_abandoned_carts"), name="nudge_abandoned_carts")
@per_invocation
def nudge_abandoned_carts(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.services import sweeps

    return summary(sweeps.nudge_abandoned_carts(bootstrap.context()))


@schedules.schedule(every("send_withdrawal_reminders"), name="send_withdrawal_reminders")
@per_invocation
def send_withdrawal_reminders(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.services import sweeps

    return summary(sweeps.send_withdrawal_reminders(bootstrap.context()))


def summary(report: SweepReport) -> dict[str, int]:
    return {
        "found": report.found,
        "acted": report.acted,
        "skipped": report.skipped,
        "errors": report.errors,
        "items_read": report.items_read,
    }


def prepare() -> None:
    """The sweeps and the stores they use, made at init
    (bootstrap.prepare_at_init)."""
    import chalicelib.services.sweeps  # noqa: F401

    ctx = bootstrap.context()
    bootstrap.build_now(ctx.sweeps, ctx.orders)


bootstrap.prepare_at_init(__name__, prepare)
