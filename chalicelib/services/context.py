"""What every use case is handed: the stores, the payment ports, the
settings and a clock.

Built from real adapters in chalicelib/bootstrap.py and from fakes in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.clock import utc_now

if TYPE_CHECKING:
    # Annotations only: a use case that reads one store (a product lookup)
    # need not load every port's definition.
    from chalicelib.services.ports import (
        AttemptCounter,
        CarrierCallbackVerifier,
        CartStore,
        CatalogStore,
        CustomerData,
        DocumentArchive,
        InvoiceStore,
        OrderDesk,
        OrderStore,
        PaymentPorts,
        ShippingAndCodes,
        StaffDirectory,
        StaffSessions,
        SuppressionList,
        SweepIndex,
    )
    from chalicelib.settings import ServiceSettings


@dataclass(frozen=True)
class Context:
    """Everything a use case needs: the ports, the settings and the clock."""

    catalog: CatalogStore
    orders: OrderStore
    settings: ServiceSettings
    # Payment providers, callback verifiers, receipts and the payment-event
    # queue (services/payments.py).
    payments: PaymentPorts
    clock: Callable[[], datetime] = utc_now
    # Carts, the suppression list and the sweep indexes (schedules); optional
    # so contexts built for other use cases need not provide them.
    carts: CartStore | None = None
    suppressions: SuppressionList | None = None
    sweeps: SweepIndex | None = None
    # Fulfilment: the order desk's listing, and the carriers' signed callbacks.
    desk: OrderDesk | None = None
    carrier_callbacks: CarrierCallbackVerifier | None = None
    # Withdrawals: the lookup's attempt counters (the throttle).
    attempts: AttemptCounter | None = None
    # Checkout: the merchant's shipping methods and discount codes.
    terms: ShippingAndCodes | None = None
    # Data subject requests (docs/gdpr.md): what the table holds about an address.
    customer_data: CustomerData | None = None
    # Invoices and credit notes (docs/invoices.md): the customer's listing.
    invoices: InvoiceStore | None = None
    # The back office (docs/back-office.md): sign-in and the sessions.
    staff: StaffDirectory | None = None
    sessions: StaffSessions | None = None
    # The invoices bucket: the downloads' links to the archived PDFs.
    archive: DocumentArchive | None = None
