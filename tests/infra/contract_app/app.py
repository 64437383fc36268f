"""The handler registrations the infrastructure binds to, and nothing else.

The infra tests synthesise this app as well as the project's own app.py, so
the bindings (queue mappings, stream, schedules, authorizer, roles) are
proven even while app.py is still growing. Each decorator below is the form
app.py (or its blueprints) must use; the bodies are deliberately empty.
"""

from chalice import AuthResponse, Chalice, Rate

from chalicelib.triggers import PAYMENT_EVENTS_QUEUE, SCHEDULE_MINUTES

app = Chalice(app_name="shop-orders")

# The deployment replaces this with the table's real stream ARN, which does
# not exist before the first deploy; chalice only needs a well-formed ARN.
STREAM_ARN_PLACEHOLDER = (
    "arn:aws:dynamodb:eu-central-1:000000000000:table/orders/stream/1970-01-01T00:00:00.000"
)


@app.authorizer()
def admin_key_authorizer(auth_request):
    return AuthResponse(routes=[], principal_id="nobody")


@app.route("/admin/orders", authorizer=admin_key_authorizer)
def list_orders():
    return {}


@app.route("/products/{sku}")
def get_product(sku):
    return {}


@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100)
def publish_order_events(event):
    return None


@app.on_sqs_message(queue=PAYMENT_EVENTS_QUEUE, batch_size=10)
def apply_payment_events(event):
    return {"batchItemFailures": []}


@app.on_sqs_message(queue="notifications", batch_size=10)
def send_notifications(event):
    return {"batchItemFailures": []}


@app.on_sqs_message(queue="invoices", batch_size=10)
def issue_invoices(event):
    return {"batchItemFailures": []}


@app.schedule(Rate(SCHEDULE_MINUTES["expire_unpaid_orders"], unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    return None


# The Chalice name is what binds: name= may differ from the function's.
@app.schedule(
    Rate(SCHEDULE_MINUTES["send_payment_reminders"], unit=Rate.MINUTES),
    name="send_payment_reminders",
)
def remind_unpaid_orders(event):
    return None


@app.schedule(Rate(SCHEDULE_MINUTES["nudge_abandoned_carts"], unit=Rate.MINUTES))
def nudge_abandoned_carts(event):
    return None


@app.schedule(
    Rate(SCHEDULE_MINUTES["send_withdrawal_reminders"], unit=Rate.MINUTES),
    name="send_withdrawal_reminders",
)
def send_withdrawal_reminders(event):
    return None
