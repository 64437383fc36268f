"""schemathesis against the local stack: generated requests for every
documented operation (public and admin), over real HTTP. No answer may be a
5xx, and every answer must be one the document promises, with the documented
headers, content type and body schema (docs/openapi.json).

With credentials, the first success of each operation is replayed without
them and with wrong ones, which must be refused: 401, 403, or 404 for a
wrong order or cart token (by design: it must not tell which ids exist, so
schemathesis' own ignored_auth check, which wants 401/403, does not fit).

Bounded: a fixed seed, a fixed number of examples per operation, caller
and mode, and a time budget shared out among the operations; examples past
an operation's share are skipped (and counted) rather than run, so a slow
machine makes the run shallower, not longer.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, seed, settings

from chalicelib.domain import order_withdrawal
from tests.conftest import address, order_body
from tests.e2e.conftest import ROOT
from tests.e2e.test_event_flow import eventually

pytestmark = pytest.mark.e2e

SEED = 20261123
EXAMPLES = {"positive": 20, "negative": 10}
BUDGET_SECONDS = 50
#: Callers besides the anonymous one and those with credentials.
EXTRA_CALLERS = {
    "POST /webhooks/payments/{provider}": [
        {"path": {"provider": name}, "headers": {}} for name in ("stripe", "hmac", "fake")
    ],
}
ADMIN = {"Authorization": "Bearer local-admin-key"}


def checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        negative_data_rejection,
    ]


def placed(stack: Any, http: requests.Session, body: dict[str, Any]) -> dict[str, Any]:
    """A real order, placed through the API."""
    r = http.post(
        f"{stack.api}/orders",
        json=body,
        headers={"Idempotency-Key": f"fuzz-{uuid.uuid4()}"},
        timeout=5,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def paid(stack: Any, http: requests.Session, order: dict[str, Any], reference: str) -> None:
    """The merchant records the bank transfer."""
    r = http.post(
        f"{stack.api}/admin/orders/{order['id']}/payments",
        json={"bank_reference": reference},
        headers=ADMIN,
        timeout=5,
    )
    assert r.status_code == 200, r.text


def credentials(stack: Any, http: requests.Session) -> dict[str, dict[str, Any]]:
    """A real order and cart, so token routes are fuzzed past the token check."""
    order = placed(stack, http, order_body([("MUG-STONE-01", 1)]))
    transfer = placed(
        stack, http, order_body([("MUG-STONE-01", 1)], payment_method="bank_transfer")
    )
    spare = placed(stack, http, order_body([("MUG-STONE-01", 1)]))
    r = http.post(f"{stack.api}/carts", json={"lines": []}, timeout=5)
    assert r.status_code == 201, r.text
    cart = r.json()
    collected, code = ready_pickup_order(stack, http)
    invoiced, invoice_number, month = invoiced_order(stack, http)
    return {
        "order_token": {
            "path": {"order_id": order["id"]},
            "headers": {"Authorization": f"Bearer {order['token']}"},
        },
        "cart_token": {
            "path": {"cart_id": cart["id"]},
            "headers": {"Authorization": f"Bearer {cart['token']}"},
        },
        "admin_key": {"path": {}, "headers": ADMIN},
        "bank_transfer_order": {"path": {"order_id": transfer["id"]}, "headers": ADMIN},
        "spare_order": {"path": {"order_id": spare["id"]}, "headers": ADMIN},
        "pickup_order": {"path": {"order_id": collected}, "headers": ADMIN, "code": code},
        "invoiced_order": {
            "path": {"order_id": invoiced["id"], "number": invoice_number},
            "headers": {"Authorization": f"Bearer {invoiced['token']}"},
            "month": month,
        },
    }


def invoiced_order(stack: Any, http: requests.Session) -> tuple[dict[str, Any], str, str]:
    """A paid order, the number of the invoice the local stack's invoices
    queue issues for it (asynchronously: it is waited for) and its month."""
    order = placed(stack, http, order_body([("MUG-STONE-01", 1)], payment_method="bank_transfer"))
    paid(stack, http, order, "SEPA invoiced")
    auth = {"Authorization": f"Bearer {order['token']}"}
    listing = f"{stack.api}/orders/{order['id']}/invoices"
    documents = eventually(lambda: http.get(listing, headers=auth, timeout=5).json()["documents"])
    assert documents, "the local stack issued no invoice for a paid order"
    return order, documents[0]["number"], documents[0]["issue_date"][:7]
    number = documents[0]["number"]
    pdf = f"{listing}/{number}/pdf"
    archived = eventually(
        lambda: http.get(pdf, headers=auth, timeout=5, allow_redirects=False).status_code == 302
    )
    assert archived, "the local stack's documents function archived no PDF of the invoice"
    return order, number


def ready_pickup_order(stack: Any, http: requests.Session) -> tuple[str, str]:
    """A paid pickup order made ready, and its code as the customer's email shows it."""
    from tests.e2e.test_pickup_flow import LOCATION, code_from_email

    r = http.put(f"{stack.api}/admin/pickup-locations/fuzz-store", json=LOCATION, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = order_body([("MUG-STONE-01", 1)], payment_method="bank_transfer")
    body["billing_address"] = body.pop("shipping_address")
    order = placed(stack, http, {**body, "pickup_location": "fuzz-store"})
    paid(stack, http, order, "SEPA pickup")
    ready = http.post(
        f"{stack.api}/admin/orders/{order['id']}/ready-for-pickup", headers=ADMIN, timeout=5
    )
    assert ready.status_code == 200, ready.text
    return order["id"], code_from_email(stack, order["number"])


class Budget:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.ran: dict[str, int] = {}
        self.skipped = 0
        self.statuses: dict[str, set[int]] = {}
        self.replayed: set[str] = set()


def replay_without_credentials(
    case: Any, base_url: str, http: requests.Session, budget: Budget
) -> None:
    """Once per operation: what succeeded with credentials is refused without."""
    label = case.operation.label
    if label in budget.replayed:
        return
    budget.replayed.add(label)
    others = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    for auth in ({}, {"Authorization": "Bearer wrong-0123456789abcdefghij"}):
        replay = case.operation.Case(
            path_parameters=case.path_parameters,
            headers={**others, **auth},
            query=case.query,
            body=case.body,
            media_type=case.media_type,
        )
        refused = replay.call_and_validate(base_url=base_url, session=http, checks=checks())
        assert refused.status_code in (401, 403, 404), (label, auth, refused.text)


def fuzz(
    operation: Any,
    mode: Any,
    caller: dict[str, Any],
    base_url: str,
    http: requests.Session,
    budget: Budget,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=caller["path"] or None)

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES[mode.value],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        # Past its share an operation still runs its first example.
        if time.monotonic() > budget.deadline and operation.label in budget.ran:
            budget.skipped += 1
            return
        budget.ran[operation.label] = budget.ran.get(operation.label, 0) + 1
        response = case.call_and_validate(
            base_url=base_url, session=http, headers=caller["headers"], checks=checks()
        )
        budget.statuses.setdefault(operation.label, set()).add(response.status_code)
        if response.status_code < 303 and caller["headers"]:
            replay_without_credentials(case, base_url, http, budget)

    run()


def happy_paths(creds: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Valid requests with real data (generated data rarely names a real SKU),
    so the success answers are checked against their schemas too."""
    order = creds["order_token"]
    cart = creds["cart_token"]
    transfer = creds["bank_transfer_order"]
    return [
        (
            "POST /orders",
            {
                "body": order_body([("MUG-STONE-01", 1)]),
                "headers": {"Idempotency-Key": f"fuzz-{uuid.uuid4()}"},
            },
        ),
        (
            "POST /orders",
            {
                # A business buyer: the company, its VAT ID, a Leitweg-ID.
                "body": order_body(
                    [("MUG-STONE-01", 1)],
                    billing_address={**address(), "company": "Beispiel Handel GmbH"},
                    vat_id="DE136695976",
                    buyer_reference="04011000-1234512345-06",
                ),
                "headers": {"Idempotency-Key": f"fuzz-{uuid.uuid4()}"},
            },
        ),
        ("POST /carts", {"body": {"lines": [{"sku": "MUG-STONE-01", "quantity": 2}]}}),
        (
            "PUT /carts/{cart_id}",
            {
                "path_parameters": cart["path"],
                "headers": cart["headers"],
                "body": {"lines": [{"sku": "MUG-STONE-01", "quantity": 1}], "locale": "de"},
            },
        ),
        (
            "PUT /admin/products/{sku}",
            {
                "path_parameters": {"sku": "FUZZ-1"},
                "headers": ADMIN,
                "body": {"name": "Fuzz", "price": 990, "currency": "EUR", "tax_rate": "19"},
            },
        ),
        (
            "PUT /admin/stock/{sku}",
            {"path_parameters": {"sku": "FUZZ-1"}, "headers": ADMIN, "body": {"available": 3}},
        ),
        ("GET /admin/stock/{sku}", {"path_parameters": {"sku": "FUZZ-1"}, "headers": ADMIN}),
        ("GET /products/{sku}", {"path_parameters": {"sku": "FUZZ-1"}}),
        ("GET /orders/{order_id}", {"path_parameters": order["path"], "headers": order["headers"]}),
        (
            "GET /orders/{order_id}/invoices",
            {"path_parameters": order["path"], "headers": order["headers"]},
        ),
        (
            "GET /orders/{order_id}/invoices/{number}/xml",
            {
                "path_parameters": creds["invoiced_order"]["path"],
                "headers": creds["invoiced_order"]["headers"],
            },
        ),
        (
            "GET /orders/{order_id}/invoices/{number}/xml",
            {
                "path_parameters": creds["invoiced_order"]["path"],
                "headers": creds["invoiced_order"]["headers"],
                "query": {"flavour": "xrechnung"},
            },
        ),
        (
            "GET /orders/{order_id}/invoices/{number}/pdf",
            {
                "path_parameters": creds["invoiced_order"]["path"],
                "headers": creds["invoiced_order"]["headers"],
            },
        ),
        (
            "GET /admin/orders/{order_id}/invoices/{number}/pdf",
            {"path_parameters": creds["invoiced_order"]["path"], "headers": ADMIN},
        ),
        ("GET /carts/{cart_id}", {"path_parameters": cart["path"], "headers": cart["headers"]}),
        (
            "POST /admin/payments/bank-transfers",
            {
                "headers": ADMIN,
                "body": {"payments": [{"number": "ZZZZ-0000", "bank_reference": "SEPA 1"}]},
            },
        ),
        (
            "POST /admin/orders/{order_id}/payments",
            {
                "path_parameters": transfer["path"],
                "headers": ADMIN,
                "body": {"bank_reference": "SEPA 2026-11-23 1"},
            },
        ),
        ("GET /admin/orders/{order_id}", {"path_parameters": transfer["path"], "headers": ADMIN}),
        ("GET /admin/orders", {"headers": ADMIN, "query": {"status": "paid", "limit": 5}}),
        # The month's export: the invoiced order's month has at least its invoice.
        (
            "GET /admin/invoices",
            {"headers": ADMIN, "query": {"month": creds["invoiced_order"]["month"], "limit": 5}},
        ),
        (
            "GET /admin/invoices/journal",
            {"headers": ADMIN, "query": {"month": creds["invoiced_order"]["month"]}},
        ),
        (
            "GET /admin/invoices/journal",
            {
                "headers": ADMIN,
                "query": {"month": creds["invoiced_order"]["month"], "format": "datev"},
            },
        ),
        (
            "POST /admin/orders/{order_id}/notes",
            {"path_parameters": transfer["path"], "headers": ADMIN, "body": {"note": "fragile"}},
        ),
        (
            "POST /admin/orders/{order_id}/shipments",
            {
                "path_parameters": transfer["path"],
                "headers": ADMIN,
                "body": {
                    "carrier": "dhl",
                    "tracking_number": f"FUZZ{uuid.uuid4().hex[:12].upper()}",
                    "lines": [{"sku": "MUG-STONE-01", "quantity": 1}],
                },
            },
        ),
        (
            "GET /admin/orders/{order_id}/packing-slip",
            {"path_parameters": transfer["path"], "headers": ADMIN},
        ),
        (
            "POST /admin/orders/{order_id}/returns",
            {
                "path_parameters": transfer["path"],
                "headers": ADMIN,
                "body": {"lines": [{"sku": "MUG-STONE-01", "quantity": 1, "restock": True}]},
            },
        ),
        (
            "POST /admin/orders/{order_id}/refunds",
            {"path_parameters": transfer["path"], "headers": ADMIN, "body": {}},
        ),
        # The merchant accepts a withdrawal of what is left by hand, then its
        # refund is released (its id follows from the request: the first, for all).
        (
            "POST /admin/orders/{order_id}/withdrawals",
            {"path_parameters": transfer["path"], "headers": ADMIN, "body": {}},
        ),
        (
            "POST /admin/orders/{order_id}/withdrawals/{withdrawal_id}/release",
            {
                "path_parameters": {
                    **transfer["path"],
                    "withdrawal_id": order_withdrawal.withdrawal_id(
                        order_withdrawal.request_fingerprint(transfer["path"]["order_id"], None), 0
                    ),
                },
                "headers": ADMIN,
                "body": {},
            },
        ),
        # A method and a code made inactive right away, so the checkouts above
        # and the generated ones are not changed by them.
        (
            "PUT /admin/shipping-methods/{method_id}",
            {
                "path_parameters": {"method_id": "fuzz-method"},
                "headers": ADMIN,
                "body": {
                    "name": {"de": "Fuzz", "en": "Fuzz"},
                    "carrier": "dhl",
                    "price": 490,
                    "countries": ["AT"],
                    "active": False,
                },
            },
        ),
        (
            "POST /admin/shipping-methods/{method_id}/deactivate",
            {"path_parameters": {"method_id": "fuzz-method"}, "headers": ADMIN},
        ),
        (
            "PUT /admin/discount-codes/{code}",
            {
                "path_parameters": {"code": "FUZZ10"},
                "headers": ADMIN,
                "body": {"kind": "percentage", "percent": "10", "active": False},
            },
        ),
        (
            "POST /admin/discount-codes/{code}/deactivate",
            {"path_parameters": {"code": "FUZZ10"}, "headers": ADMIN},
        ),
        (
            "PUT /admin/pickup-locations/{location_id}",
            {
                "path_parameters": {"location_id": "fuzz-location"},
                "headers": ADMIN,
                "body": {
                    "name": {"de": "Fuzz"},
                    "line1": "Weg 1",
                    "postal_code": "10115",
                    "city": "Berlin",
                    "country": "DE",
                    "opening_hours": {"de": "Mo 9-10"},
                    "active": False,
                },
            },
        ),
        (
            "POST /admin/pickup-locations/{location_id}/deactivate",
            {"path_parameters": {"location_id": "fuzz-location"}, "headers": ADMIN},
        ),
        ("GET /admin/shipping-methods", {"headers": ADMIN}),
        ("GET /admin/pickup-locations", {"headers": ADMIN}),
        ("GET /admin/discount-codes", {"headers": ADMIN}),
        (
            "POST /admin/data-requests",
            {"headers": ADMIN, "body": {"email": "fuzz@example.com", "kind": "export"}},
        ),
        # Ready again (changes nothing), then handed over against the emailed code.
        (
            "POST /admin/orders/{order_id}/ready-for-pickup",
            {"path_parameters": creds["pickup_order"]["path"], "headers": ADMIN},
        ),
        (
            "POST /admin/orders/{order_id}/pickup",
            {
                "path_parameters": creds["pickup_order"]["path"],
                "headers": ADMIN,
                "body": {"code": creds["pickup_order"]["code"]},
            },
        ),
        (
            "POST /admin/orders/{order_id}/cancel",
            {"path_parameters": creds["spare_order"]["path"], "headers": ADMIN, "body": {}},
        ),
        (
            "POST /orders/{order_id}/cancel",
            {"path_parameters": order["path"], "headers": order["headers"], "body": {}},
        ),
    ]


def test_every_operation_answers_as_documented_under_generated_input(stack):
    import schemathesis
    from schemathesis import GenerationMode

    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{stack.api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    served = requests.get(f"{stack.api}/openapi.json", timeout=5).json()
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text())
    documented = {f"{m.upper()} {p}" for p, methods in served["paths"].items() for m in methods}
    # schemathesis leaves out the operation that serves the schema itself.
    assert {op.label for op in operations} == documented - {"GET /openapi.json"}
    failures: list[str] = []
    budget = Budget(started + BUDGET_SECONDS)
    by_label = {op.label: op for op in operations}
    with requests.Session() as http:
        # The API's answers as they are: a 302 (the PDF downloads' presigned
        # link) is the documented answer, not a link to follow into S3.
        http.get_redirect_target = lambda response: None  # type: ignore[method-assign]
        creds = credentials(stack, http)
        for label, request in happy_paths(creds):
            case = by_label[label].Case(**request)
            response = case.call_and_validate(base_url=stack.api, session=http, checks=checks())
            # schemathesis keeps the headers by their lower-case names.
            located = any(name.lower() == "location" for name in response.headers)
            redirect = response.status_code == 302 and located
            assert response.status_code < 300 or redirect, (label, response.text)
            if "Authorization" in request.get("headers", {}):
                replay_without_credentials(case, stack.api, http, budget)
        fuzz_started = time.monotonic()
        for index, operation in enumerate(operations):
            # Each operation gets its share of the budget, so none is starved.
            budget.deadline = fuzz_started + BUDGET_SECONDS * (index + 1) / len(operations)
            schemes = [name for alt in operation.definition.raw.get("security", []) for name in alt]
            # Once as an anonymous caller, once with valid credentials.
            callers: list[dict[str, Any]] = [{"path": {}, "headers": {}}]
            callers += [creds[s] for s in schemes if s in creds]
            callers += EXTRA_CALLERS.get(operation.label, [])
            for caller in callers:
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        fuzz(operation, mode, caller, stack.api, http, budget)
                    except Exception as exc:
                        failures.append(f"{operation.label} [{mode.value}]: {exc}")
    ran = budget.ran
    secured = {
        op.label
        for op in operations
        if any(set(alt) & set(creds) for alt in op.definition.raw.get("security", []))
    }
    # Every secured operation has a happy path, so this holds however slow the machine.
    assert budget.replayed == secured, "no success with credentials to replay without them"
    print("examples run:", ran, "statuses seen:", budget.statuses, "skipped:", budget.skipped)
    assert not failures, "\n\n".join(failures)
    assert set(ran) == {op.label for op in operations}, (
        f"operations never called within the budget; skipped {budget.skipped} examples"
    )
