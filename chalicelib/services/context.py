"""What every use case is handed: the stores, the settings and a clock.

Built from real adapters in chalicelib/bootstrap.py and from fakes in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.clock import utc_now
from chalicelib.payments.ports import PaymentPorts
from chalicelib.services.ports import (
    CartStore,
    CatalogStore,
    OrderDesk,
    OrderStore,
    SuppressionList,
    SweepIndex,
)
from chalicelib.settings import ServiceSettings

if TYPE_CHECKING:
    from chalicelib.services.fulfilment import Refunds


@dataclass(frozen=True)
class Context:
    catalog: CatalogStore
    orders: OrderStore
    settings: ServiceSettings
    clock: Callable[[], datetime] = utc_now
    # Carts, the suppression list and the sweep indexes (schedules); optional
    # so contexts built for other use cases need not provide them.
    carts: CartStore | None = None
    suppressions: SuppressionList | None = None
    sweeps: SweepIndex | None = None
    # Fulfilment: the order desk's listing, and the refund port (None: the
    # merchant refunds outside the system; see services/fulfilment.py).
    desk: OrderDesk | None = None
    refunds: Refunds | None = None
    # Payment providers, callback verifiers, receipts and the payment-event
    # queue (services/payments.py); None where a use case needs none.
    payments: PaymentPorts | None = None
