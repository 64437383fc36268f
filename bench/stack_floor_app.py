"""The stack's floor for bench/cold_start.py: the minimal app's handlers and
AWS calls (bench/minimal_app.py, packaged beside this as chalicelib/minimal.py),
plus the two things every handler of ours must do with the stack we chose,
and nothing of the shop:

- parse its input with a pydantic v2 model (the developers' guide's parser);
- log one structured line through powertools' Logger (the guide's logging).

So (floor / minimal) is what the stack costs a cold start before a line of
ours runs, and (ours / floor) is what our own code adds. It is a floor: one
generic model, no settings, no batch utility, no metrics, no secrets.
"""

from typing import Any

from aws_lambda_powertools import Logger
from chalice.app import Request
from chalicelib.minimal import (  # noqa: F401  (the handlers Lambda calls)
    app,
    apply_payment_events,
    expire_unpaid_orders,
    publish_order_events,
    send_notifications,
)
from pydantic import BaseModel, ConfigDict

logger = Logger(service="stack-floor")


class Input(BaseModel):
    """Any JSON object: what a handler's own model would check, at its
    smallest."""

    model_config = ConfigDict(extra="allow", frozen=True)


@app.middleware("all")
def parsed_and_logged(event: Any, get_response: Any) -> Any:
    if isinstance(event, Request):
        raw = event.raw_body or b"{}"
        parsed = Input.model_validate_json(raw)
    else:
        parsed = Input.model_validate(event.to_dict())
    logger.info("handled", extra={"fields": len(parsed.model_extra or {})})
    return get_response(event)
