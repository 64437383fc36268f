"""What a function's cold start loads, checked in a fresh interpreter: the
consumers handle their batches without powertools' batch utility, which
loads asyncio and every event data class (chalicelib/jobs/batches.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.bytecode import is_loaded_powertools

ROOT = Path(__file__).resolve().parents[2]
PARSER_MODELS = "aws_lambda_powertools.utilities.parser.models"
BATCH_UTILITY = "aws_lambda_powertools.utilities.batch"


#: One SQS message no consumer can read: it fails without any AWS call.
UNREADABLE = {
    "Records": [
        {
            "messageId": "m-1",
            "receiptHandle": "r-1",
            "body": "not json",
            "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": "order-1"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:q",
            "awsRegion": "eu-central-1",
        }
    ]
}


FAILED = [{"itemIdentifier": "m-1"}]


def loaded_after(code: str) -> set[str]:
    """The modules loaded once ``code`` has run in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    ["chalicelib.jobs.notifications", "chalicelib.jobs.payment_events", "chalicelib.jobs.invoices"],
)
def test_a_consumer_module_loads_no_pydantic(module: str) -> None:
    assert "pydantic" not in loaded_after(f"import {module}")


@pytest.mark.parametrize(
    ("module", "process", "outcome"),
    [
        ("chalicelib.jobs.notifications", "process", repr({"batchItemFailures": FAILED})),
        # A FIFO batch that failed whole is raised (the batch is retried).
        ("chalicelib.jobs.payment_events", "process_batch", "BatchFailed"),
    ],
)  # fmt: skip
def test_a_consumers_first_batch_loads_no_batch_utility_asyncio_or_parser_models(
    module: str, process: str, outcome: str
) -> None:
    loaded = loaded_after(
        f"import {module} as consumer\n"
        "try:\n"
        f"    answer = repr(consumer.{process}({json.dumps(UNREADABLE)}))\n"
        "except Exception as error:\n"
        "    answer = type(error).__name__\n"
        f"assert answer == {outcome!r}, answer\n"
    )

    assert "pydantic" in loaded  # the message was read, and failed
    assert BATCH_UTILITY not in loaded
    assert "asyncio" not in loaded
    assert PARSER_MODELS not in loaded


def test_the_api_loads_no_batch_utility() -> None:
    loaded = loaded_after("import app")

    assert BATCH_UTILITY not in loaded
    assert PARSER_MODELS not in loaded


def test_the_api_does_not_load_the_jobs_use_cases_or_the_event_models() -> None:
    """app.py imports every job module to register its handler; their use
    cases (the sweeps, and through them every service) and the event models
    load in their own functions, not in the API's cold start."""
    loaded = loaded_after("import app")

    assert "chalicelib.services.sweeps" not in loaded
    assert "chalicelib.domain.events" not in loaded
    assert "chalicelib.services.context" not in loaded


def test_a_catalog_read_builds_no_other_store_or_payment_adapter() -> None:
    """The context builds each store on first use: reading the catalog (GET
    /products) imports neither the order store nor the payment adapters."""
    loaded = loaded_after(
        "import os\n"
        "os.environ.setdefault('AWS_DEFAULT_REGION', 'eu-central-1')\n"
        "os.environ.setdefault('SHOP_TABLE_NAME', 'shop-unit')\n"
        "from chalicelib import bootstrap\n"
        "bootstrap.context().catalog.forget(['TEA-1'])\n"
    )

    assert "chalicelib.store.catalog" in loaded
    assert "chalicelib.store.orders" not in loaded
    assert "chalicelib.store.carts" not in loaded
    assert "chalicelib.payments.stripe_adapter" not in loaded
    assert "chalicelib.carriers.signing" not in loaded


def test_sending_emails_does_not_load_the_order_domain() -> None:
    """The notifications function works from the events alone; the order
    domain and services (~100 dataclasses) are another function's cold start."""
    loaded = loaded_after(
        "import chalicelib.jobs.notifications as consumer\n"
        "from chalicelib.notify.service import send_event_emails\n"
    )

    assert "chalicelib.domain.order" not in loaded
    assert "chalicelib.services.context" not in loaded


#: A stream record of a new history item, as Lambda hands it to the outbox.
HISTORY_RECORD = {
    "eventName": "INSERT",
    "dynamodb": {
        "NewImage": {
            "PK": {"S": "ORDER#o-1"},
            "SK": {"S": "HISTORY#0001"},
            "entity": {"S": "history"},
            "event": {"S": "OrderPlaced"},
            "at": {"S": "2026-11-23T10:00:00+00:00"},
            "data": {"M": {"lines": {"N": "2"}}},
        }
    },
}


def test_the_outbox_and_the_email_receipts_convert_items_without_the_order_domain() -> None:
    """DynamoDB's typed JSON lives apart from the domain mapping
    (store/attributes.py), so the outbox and the notifications function
    convert items without creating the order domain's classes."""
    loaded = loaded_after(
        "from chalicelib.jobs.outbox import event_for, new_items\n"
        f"items = new_items([{HISTORY_RECORD!r}])\n"
        "detail_type, detail = event_for(items[0])\n"
        "assert detail_type == 'OrderPlaced' and detail['data'] == {'lines': 2}, detail\n"
        "from chalicelib.services.ports import ReceiptKey\n"
        "from chalicelib.store.email_receipts import DynamoEmailReceipts\n"
        "class Table:\n"
        "    calls = []\n"
        "    def put_item(self, **request): self.calls.append(request)\n"
        "    def update_item(self, **request): self.calls.append(request)\n"
        "table = Table()\n"
        "receipts = DynamoEmailReceipts(table, 'shop')\n"
        "key = ReceiptKey('o-1', 'order_confirmation', 'e-1')\n"
        "token = receipts.claim(key, now=100, lease_seconds=60, ttl_seconds=3600)\n"
        "receipts.complete(key, token, message_id='m-1', now=101)\n"
        "put, update = table.calls\n"
        "assert put['Item']['lease_until'] == {'N': '160'}, put\n"
        "assert update['ExpressionAttributeValues'][':mid'] == {'S': 'm-1'}, update\n"
    )

    assert "chalicelib.store.attributes" in loaded
    assert "chalicelib.domain.order" not in loaded
    assert "chalicelib.store.mapping" not in loaded


def test_reading_a_secret_makes_no_boto3_session_of_its_own(table, monkeypatch):
    """powertools' ``get_parameter`` builds a Session per provider, which
    reads botocore's endpoint data again (~75 ms of the webhook's cold start).
    Ours asks SSM through the one client cache."""
    import boto3.session

    from chalicelib import bootstrap
    from tests.conftest import STRIPE_SECRETS

    sessions = []
    original = boto3.session.Session.__init__

    def counting(self, *args, **kwargs):
        sessions.append(args or kwargs)
        original(self, *args, **kwargs)

    bootstrap.aws_client("dynamodb")  # the default session exists from here on
    monkeypatch.setattr(boto3.session.Session, "__init__", counting)
    parameter = bootstrap.get_settings().stripe_webhook_secrets_parameter
    assert bootstrap.secret_parameter(parameter, transform="json", max_age=60) == STRIPE_SECRETS
    assert sessions == []


#: Each Lambda function's handler (sam.json's "Handler") -> the AWS clients
#: it makes at init, before its first invocation.
PREPARED_CLIENTS = {
    "app.app": ["dynamodb"],
    "chalicelib.api.auth.admin_key_authorizer": ["ssm"],
    "chalicelib.jobs.notifications.send_notifications": ["dynamodb", "sesv2"],
    "chalicelib.jobs.payment_events.apply_payment_events": ["dynamodb"],
    "chalicelib.jobs.invoices.issue_invoices": ["dynamodb"],
    "chalicelib.jobs.outbox.publish_order_events": ["events"],
    "chalicelib.jobs.schedules.expire_unpaid_orders": ["dynamodb"],
}


def imported_as_lambda(handler: str | None, module: str) -> tuple[list[str], set[str]]:
    """(the boto3 clients made, the modules loaded) once ``module`` is
    imported in a new interpreter with Lambda's ``_HANDLER`` set to ``handler``."""

    probe = (
        "import boto3, json, sys\n"
        "made = []\n"
        "real = boto3.client\n"
        "def client(service, **options):\n"
        "    made.append(service)\n"
        "    return real(service, **options)\n"
        "boto3.client = client\n"
        f"import {module}\n"
        "print(json.dumps([made, sorted(sys.modules)]))\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "_HANDLER"))},
        "AWS_DEFAULT_REGION": "eu-central-1",
        "SHOP_TABLE_NAME": "shop-unit",
    }
    if handler is not None:
        env["_HANDLER"] = handler
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    made, modules = json.loads(done.stdout.splitlines()[-1])
    return made, set(modules)


@pytest.mark.parametrize(("handler", "clients"), PREPARED_CLIENTS.items())
def test_in_lambda_each_function_makes_its_own_clients_at_init(handler, clients):
    """Lambda's init phase runs on a full vCPU, the first invocation on the
    function's share (bootstrap.prepare_at_init); app.py imports every job
    module, yet the API function makes only its own client."""
    module = handler.rpartition(".")[0]
    made, loaded = imported_as_lambda(handler, module)

    assert made == clients
    assert PARSER_MODELS not in loaded
    assert BATCH_UTILITY not in loaded


def test_every_part_of_powertools_a_function_loads_ships_in_the_package() -> None:
    """The package drops the parts of powertools nothing of ours loads
    (infrastructure/bytecode.py): every function's module, its logging of an
    invocation, its metrics and the parameters utility load only what ships."""
    probe = (
        "import json, sys\n"
        "import app\n"
        "from chalicelib.api import auth\n"
        "from chalicelib.jobs import notifications, outbox, payment_events, schedules\n"
        "from chalicelib.observability import logger, metrics, per_invocation\n"
        "from aws_lambda_powertools.utilities.parameters import SSMProvider\n"
        "class Context:\n"
        "    function_name = 'f'\n"
        "    function_version = '1'\n"
        "    invoked_function_arn = 'arn:aws:lambda:eu-central-1:123456789012:function:f'\n"
        "    memory_limit_in_mb = 512\n"
        "    aws_request_id = 'r-1'\n"
        "class Event:\n"
        "    context = Context()\n"
        "@per_invocation\n"
        "def handler(event):\n"
        "    logger.info('handled', items=1)\n"
        "    metrics.add_metric(name='Handled', unit='Count', value=1)\n"
        "handler(Event())\n"
        "print(json.dumps({m.__name__: m.__file__ for m in list(sys.modules.values())\n"
        "                  if m.__name__.startswith('aws_lambda_powertools')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "AWS_DEFAULT_REGION": "eu-central-1", "SHOP_TABLE_NAME": "shop-unit"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    site = Path(loaded["aws_lambda_powertools"]).parents[1]
    names = {module: Path(file).relative_to(site).as_posix() for module, file in loaded.items()}

    assert "aws_lambda_powertools.utilities.parameters" in names
    assert {m: n for m, n in names.items() if not is_loaded_powertools(n)} == {}


def test_the_api_does_not_load_the_email_validation_at_init():
    """Most of the API's cold starts answer a product page, not a checkout:
    email-validator (regular expressions over all of Unicode) loads with the
    first address it validates, not at init."""
    _, loaded = imported_as_lambda("app.app", "app")

    assert "email_validator" not in loaded


def test_a_product_lookup_loads_no_checkout_code() -> None:
    """GET /products/{sku} has a route module of its own: answering it loads
    neither the order bodies nor the order domain nor a checkout use case."""
    loaded = loaded_after("import app\nimport chalicelib.api.products")

    assert "chalicelib.api.catalog_schemas" in loaded
    for checkout_module in (
        "chalicelib.api.schemas",
        "chalicelib.api.presenters",
        "chalicelib.api.storefront",
        "chalicelib.domain.order",
        "chalicelib.services.placement",
        "chalicelib.services.carts",
        "chalicelib.services.ports",
    ):
        assert checkout_module not in loaded, checkout_module


@pytest.mark.parametrize("module", ["app", "chalicelib.jobs.notifications", "chalicelib.api.auth"])
def test_outside_lambda_nothing_is_made_at_import(module):
    made, _ = imported_as_lambda(None, module)

    assert made == []


def test_the_storefronts_cold_start_loads_no_back_office() -> None:
    """The back office's pages (docs/back-office.md) load with its first
    request: a product page's cold start loads neither its views, nor
    Jinja2, nor the Cognito adapter or the session store."""
    loaded = loaded_after("import app\nimport chalicelib.api.products")

    for module in (
        "chalicelib.api.back_office",
        "chalicelib.api.back_office_pages",
        "chalicelib.services.back_office",
        "chalicelib.domain.staff",
        "chalicelib.identity.cognito",
        "chalicelib.store.sessions",
        "jinja2",
    ):
        assert module not in loaded, module
    assert "chalicelib.services.back_office" in loaded_after("import chalicelib.api.back_office")
