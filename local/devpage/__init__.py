"""The dev page on http://127.0.0.1:8001 (local stack only, never deployed).

One page to drive the shop by hand: the demo catalog with stock, a checkout
form that calls the real API, the fake payment provider's pay page, the
emails sent so far and every order with its history. Plain HTML and a
little JS; it talks to the real HTTP API through ``/api/*`` (a same-origin
pass-through, so the page needs no CORS) and reads moto's state directly
for what the API does not list (all orders, sent emails): that is fine for a
dev tool and is exactly why this code lives outside chalicelib/.
"""

from __future__ import annotations

import email
import email.policy
import html
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, abort, jsonify, redirect, request

HERE = Path(__file__).parent
_PASS_HEADERS = ("authorization", "idempotency-key", "content-type")


def sent_emails() -> list[dict[str, Any]]:
    """Every email moto's SES accepted, newest first (moto runs in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib import bootstrap

    region = bootstrap.aws_client("sesv2").meta.region_name
    out = []
    for index, message in enumerate(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages):
        raw = getattr(message, "raw_data", None)
        if raw is None:
            continue
        parsed = email.message_from_string(raw, policy=email.policy.default)
        html = parsed.get_body(("html",))
        text = parsed.get_body(("plain",))
        out.append(
            {
                "id": index,
                "to": str(parsed["To"]),
                "subject": str(parsed["Subject"]),
                "locale": str(parsed["Content-Language"] or ""),
                "unsubscribe": str(parsed["List-Unsubscribe"] or ""),
                "html": html.get_content() if html else "",
                "text": text.get_content() if text else "",
            }
        )
    return list(reversed(out))


def table_items(entity: str) -> list[dict[str, Any]]:
    """All items of one entity. A Scan: acceptable in a dev tool on moto,
    never in chalicelib (the shipped code serves every pattern by key/index)."""
    from chalicelib import bootstrap
    from chalicelib.store.attributes import from_dynamo

    client = bootstrap.aws_client("dynamodb")
    name = bootstrap.context().settings.table_name
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(
        TableName=name,
        FilterExpression="entity = :e",
        ExpressionAttributeValues={":e": {"S": entity}},
    ):
        items.extend(from_dynamo(item) for item in page["Items"])
    return items


def order_documents(order_id: str) -> list[tuple[str, Any]]:
    """The order's invoice and credit notes, as ("invoice" | "credit_note", document)."""
    from chalicelib import bootstrap

    store = bootstrap.invoicing().invoices
    issued = store.invoice_of(order_id)
    found: list[tuple[str, Any]] = [] if issued is None else [("invoice", issued.invoice)]
    found.extend(("credit_note", note) for note in store.credit_notes_of(order_id))
    return found


def _order_of_session(session_id: str) -> Any:
    from chalicelib import bootstrap

    order_id = bootstrap.fake_stripe().sessions.get(session_id)
    if order_id is None:
        abort(404)
    return bootstrap.context().orders.get(order_id).order


def create_app(api_url: str) -> Flask:
    app = Flask(__name__, static_folder=str(HERE / "static"), static_url_path="/static")

    @app.get("/")
    def index() -> Response:
        return Response((HERE / "index.html").read_text(), mimetype="text/html")

    @app.get("/docs")
    def docs() -> Response:
        """The API reference, rendered from the same OpenAPI document the API serves."""
        from local.openapi import reference_page

        return Response(reference_page(), mimetype="text/html")

    @app.route("/api/<path:path>", methods=["GET", "POST", "PUT"])
    def api(path: str) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() in _PASS_HEADERS}
        upstream = requests.request(
            request.method,
            f"{api_url}/{path}",
            data=request.get_data(),
            headers=headers,
            timeout=30,
        )
        return Response(
            upstream.content,
            status=upstream.status_code,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )

    @app.get("/pay/<session_id>")
    def pay_page(session_id: str) -> Response:
        order = _order_of_session(session_id)
        page = (HERE / "pay.html").read_text()
        for name, value in {
            "number": order.number,
            "amount": f"{order.totals.total / 100:.2f} {order.currency}",
            "method": order.payment_method.value,
            "session": session_id,
        }.items():
            page = page.replace("{{" + name + "}}", html.escape(value))
        return Response(page, mimetype="text/html")

    @app.post("/pay/<session_id>")
    def pay(session_id: str) -> Response:
        """Send the provider's callback for the customer's choice, signed
        with whsec_local exactly as Stripe signs it, to the real webhook."""
        from chalicelib import bootstrap
        from chalicelib.payments.fake import payment_failed_event, signed_request

        order = _order_of_session(session_id)
        outcome = request.form.get("outcome", "")
        if outcome == "pay":
            event = bootstrap.fake_stripe().pay(order)
        elif outcome == "fail":
            event = payment_failed_event(order)
        elif outcome == "nothing":
            return redirect(f"/?abandoned={order.number}#orders", code=303)
        else:
            abort(400)
        body, headers = signed_request(event)
        answer = requests.post(
            f"{api_url}/webhooks/payments/stripe", data=body, headers=headers, timeout=30
        )
        if answer.status_code >= 300:
            return Response(
                f"the webhook refused the callback: {answer.status_code} {answer.text}", status=502
            )
        return redirect(f"/?{outcome}={order.number}#orders", code=303)

    @app.get("/dev/catalog")
    def catalog() -> Response:
        products = sorted(table_items("product"), key=lambda p: p["sku"])
        return jsonify(
            [
                {
                    k: p.get(k)
                    for k in (
                        "sku",
                        "name",
                        "price",
                        "currency",
                        "tax_rate",
                        "available",
                        "reserved",
                    )
                }
                for p in products
            ]
        )

    @app.get("/dev/terms")
    def terms() -> Response:
        """The shop's current terms version: the checkout must accept it."""
        from chalicelib import bootstrap

        return jsonify({"version": bootstrap.context().settings.terms_version})

    @app.get("/dev/orders")
    def orders() -> Response:
        from chalicelib import bootstrap

        found = sorted(table_items("order"), key=lambda o: o["created_at"], reverse=True)[:50]
        store = bootstrap.context().orders
        out = []
        for item in found:
            record = store.get(item["id"])
            out.append(
                {
                    "id": item["id"],
                    "number": item["number"],
                    "status": item["status"],
                    "payment_status": item["payment_status"],
                    "fulfilment_status": item["fulfilment_status"],
                    "payment_method": item["payment_method"],
                    "total": item["totals"]["total"],
                    "currency": item["totals"]["currency"],
                    "created_at": item["created_at"],
                    "email": item["customer"]["email"],
                    "history": [
                        {
                            "at": e.at.isoformat(),
                            "event": e.event,
                            "actor": e.actor,
                            "message": e.message,
                            "visibility": e.visibility.value,
                        }
                        for e in record.history
                    ],
                    "documents": [
                        {
                            "number": document.number,
                            "kind": kind,
                            "url": f"/dev/orders/{item['id']}/documents/{document.number}.pdf",
                            # Rendered and stored by the documents function a
                            # moment after the issue; the link works from then.
                            "archived": bootstrap.invoicing().invoices.archived_pdf(
                                item["id"], document.number
                            )
                            is not None,
                        }
                        for kind, document in order_documents(item["id"])
                    ],
                }
            )
        return jsonify(out)

    @app.get("/dev/orders/<order_id>/documents/<number>.pdf")
    def document_pdf(order_id: str, number: str) -> Response:
        """An invoice or credit note of the order as its archived PDF, through
        the API's merchant download (the dev page holds the local admin key,
        not the customer's token): the API answers a presigned link into the
        invoices bucket on the embedded AWS, where the browser is sent."""
        import os

        upstream = requests.get(
            f"{api_url}/admin/orders/{order_id}/invoices/{number}/pdf",
            headers={"Authorization": f"Bearer {os.environ['SHOP_LOCAL_ADMIN_KEY']}"},
            allow_redirects=False,
            timeout=30,
        )
        if upstream.status_code != 302:
            return Response(
                upstream.content,
                status=upstream.status_code,
                mimetype=upstream.headers.get("Content-Type", "application/json"),
            )
        return redirect(upstream.headers["Location"], code=302)

    @app.route("/dev/clock", methods=["GET", "POST"])
    def clock() -> Response:
        """The stack's clock (local/clock.py); POST {"days": n} moves it on."""
        from datetime import timedelta

        from local.clock import CLOCK

        if request.method == "POST":
            days = (request.get_json(silent=True) or {}).get("days")
            if not isinstance(days, int | float) or days <= 0:
                return jsonify({"error": 'send {"days": <a positive number>}'}), 400  # type: ignore[return-value]
            CLOCK.advance(timedelta(days=days))
        return jsonify(
            {"now": CLOCK().isoformat(), "offset_days": CLOCK.offset / timedelta(days=1)}
        )

    @app.get("/dev/emails")
    def emails() -> Response:
        return jsonify(
            [{k: v for k, v in m.items() if k not in ("html", "text")} for m in sent_emails()]
        )

    @app.get("/dev/emails/<int:index>")
    def email_html(index: int) -> Response:
        for message in sent_emails():
            if message["id"] == index:
                return Response(
                    message["html"] or f"<pre>{message['text']}</pre>", mimetype="text/html"
                )
        abort(404)

    return app
