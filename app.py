"""The Chalice app: creation, middleware and blueprints only (and, in Lambda,
what the API function prepares at init: chalicelib/bootstrap.py)."""

from chalice import Chalice

from chalicelib import bootstrap
from chalicelib.api.admin import admin
from chalicelib.api.admin_orders import admin_orders
from chalicelib.api.admin_payments import admin_payments
from chalicelib.api.auth import admin_auth
from chalicelib.api.carrier_webhooks import carrier_webhooks
from chalicelib.api.carts import cart_routes
from chalicelib.api.docs import api_docs
from chalicelib.api.errors import register_middleware
from chalicelib.api.storefront import storefront
from chalicelib.api.webhooks import webhooks
from chalicelib.api.wiring import wire
from chalicelib.jobs.notifications import notifications
from chalicelib.jobs.outbox import outbox
from chalicelib.jobs.payment_events import payment_jobs
from chalicelib.jobs.schedules import schedules

app = Chalice(app_name="shop-orders")
# Looked up on every call, not bound once: a test (or the local stack) that puts
# another context behind bootstrap.context reaches the views too.
wire(lambda: bootstrap.context())  # noqa: PLW0108 - late binding, as said
register_middleware(app)
app.register_blueprint(admin_auth)
app.register_blueprint(storefront)
app.register_blueprint(admin)
app.register_blueprint(outbox)
app.register_blueprint(notifications)
app.register_blueprint(cart_routes)
app.register_blueprint(schedules)
app.register_blueprint(admin_orders)
app.register_blueprint(carrier_webhooks)
app.register_blueprint(webhooks)
app.register_blueprint(admin_payments)
app.register_blueprint(payment_jobs)
app.register_blueprint(api_docs)


def prepare() -> None:
    """The stores and their DynamoDB client, and email-validator, which the
    checkout's first validation would load (~25 ms of regular expressions)."""
    import email_validator  # noqa: F401

    bootstrap.context()


bootstrap.prepare_at_init(__name__, prepare)
