"""What starts the job functions, defined once: the payment-events queue
and how often each scheduled job runs.

The handlers (chalicelib/jobs/), the settings' defaults, the deployment
(infrastructure/definitions.py) and the local stack all read these. Plain
constants with no imports, so the infrastructure reads them without
loading boto3 or pydantic.
"""

from __future__ import annotations

#: The payment-events FIFO queue's definition name (infrastructure/definitions.py
#: QUEUES) and its SQS name, which a FIFO queue must end in ".fifo".
PAYMENT_EVENTS = "payment-events"
PAYMENT_EVENTS_QUEUE = f"{PAYMENT_EVENTS}.fifo"

#: Each scheduled job (its Chalice handler name) -> every how many minutes it runs.
SCHEDULE_MINUTES: dict[str, int] = {
    "expire_unpaid_orders": 5,
    "send_payment_reminders": 60,
    "nudge_abandoned_carts": 60,
    "send_withdrawal_reminders": 60,
}
