"""The Chalice app: creation, middleware and blueprints only (and, in Lambda,
what the API function prepares at init: chalicelib/bootstrap.py).

The route blueprints are registered on first use (chalicelib/api/routes.py):
a cold start imports only the module of the route it answers.
"""

from chalice import Chalice

from chalicelib import bootstrap
from chalicelib.api.auth import admin_auth
from chalicelib.api.errors import register_middleware
from chalicelib.api.routes import TABLE, LazyRoutes
from chalicelib.api.wiring import wire
from chalicelib.jobs.invoices import invoice_jobs
from chalicelib.jobs.notifications import notifications
from chalicelib.jobs.outbox import outbox
from chalicelib.jobs.payment_events import payment_jobs
from chalicelib.jobs.schedules import schedules

app = Chalice(app_name="shop-orders")
app.routes = LazyRoutes(app.register_blueprint, TABLE)
# Looked up on every call, not bound once: a test (or the local stack) that puts
# another context behind bootstrap.context reaches the views too.
wire(lambda: bootstrap.context())  # noqa: PLW0108 - late binding, as said
register_middleware(app)
app.register_blueprint(admin_auth)
app.register_blueprint(outbox)
app.register_blueprint(notifications)
app.register_blueprint(schedules)
app.register_blueprint(payment_jobs)
app.register_blueprint(invoice_jobs)


def prepare() -> None:
    """The DynamoDB client every route uses. The stores are built by the
    first request that uses them (bootstrap.context), and email-validator by
    the first address a checkout validates: most cold starts answer a
    product page, which needs neither (docs/performance.md)."""
    bootstrap.aws_client("dynamodb")


bootstrap.prepare_at_init(__name__, prepare)
