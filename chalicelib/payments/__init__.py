"""Payment providers: the port (ports.py) and its adapters (stripe, hmac, fake)."""

#: Stripe's name on our payments, receipts and events. Here, not in either
#: Stripe module, so the checkout adapter and the callback parser share it
#: without one loading the other (a webhook's cold start: docs/performance.md).
STRIPE = "stripe"
