"""What the payment webhook documents and answers.

Apart from payment_schemas.py: a webhook's cold start loads only these two
(docs/performance.md).
"""

# Pydantic models: no `from __future__ import annotations`, whose string
# annotations pydantic compiles one by one (docs/performance.md).

from pydantic import ConfigDict

from chalicelib.api.bodies import Answer


class CallbackAckOut(Answer):
    received: bool = True
    outcome: str
    event_id: str


# --- documented answers (local/openapi_document.py) ----------------------------------


class ProviderEventIn(Answer):
    """The provider's event exactly as it sends it: Stripe's Event object for
    ``stripe``, our documented format for ``hmac`` (docs/payments.md). The
    signature covers the raw bytes."""

    model_config = ConfigDict(extra="allow", defer_build=True)
