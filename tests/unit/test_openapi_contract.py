"""The OpenAPI document: every route documented, generated from the
handlers' own models, and the committed copy current."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice import Blueprint, Chalice

from app import app
from chalicelib.api import contract
from chalicelib.api.catalog_schemas import ProductIn
from chalicelib.api.schemas import ErrorOut, PlaceOrderIn
from local.api_reference import render_reference
from local.openapi import SHIPPED, serialise, shipped
from local.openapi_document import REF_TEMPLATE, UndocumentedRoute, build_document, routes

DOCS = Path(__file__).parents[2] / "docs"


@pytest.fixture(scope="module")
def document():
    return build_document(app)


def test_every_route_has_a_documented_operation_and_every_declaration_a_route():
    found = list(routes(app))
    undocumented = [r.name for r in found if r.operation is None]
    assert not undocumented, (
        "document these routes: put @documented(...) (chalicelib/api/contract.py) under "
        "their @route(...): " + ", ".join(undocumented)
    )
    routed = {r.view.__wrapped__ for r in found if hasattr(r.view, "__wrapped__")}
    routed |= {r.view for r in found}
    orphans = [f"{v.__module__}.{v.__name__}" for v in contract.DOCUMENTED if v not in routed]
    assert not orphans, (
        "these views are @documented but no route of app.py serves them (register the "
        "blueprint, or delete the declaration): " + ", ".join(orphans)
    )


def test_the_cart_and_opt_out_routes_are_part_of_the_contract(document):
    paths = document["paths"]
    assert set(paths["/carts"]) == {"post"}
    assert set(paths["/carts/{cart_id}"]) == {"get", "put"}
    assert set(paths["/opt-out/{token}"]) == {"get", "post"}
    assert "text/html" in paths["/opt-out/{token}"]["get"]["responses"]["200"]["content"]


def test_an_undocumented_route_is_refused_by_name():
    other = Chalice(app_name="other")
    bp = Blueprint("undocumented")

    @bp.route("/things/{thing_id}", methods=["DELETE"])
    def delete_thing(thing_id: str) -> dict[str, str]:
        return {}

    other.register_blueprint(bp)
    with pytest.raises(UndocumentedRoute, match=r"DELETE /things/\{thing_id\} .*delete_thing"):
        build_document(other)


def test_the_committed_document_and_reference_page_are_current(document):
    assert (DOCS / "openapi.json").read_text() == serialise(document), "run: make openapi"
    assert (DOCS / "api.html").read_text() == render_reference(document), "run: make openapi"
    assert SHIPPED.read_text() == shipped(document), "run: make openapi"


def test_the_shipped_document_is_the_one_the_lambda_serves(document):
    from chalice.test import Client

    from chalicelib.api import docs

    assert docs.DOCUMENT == SHIPPED
    assert SHIPPED.is_relative_to(Path(docs.__file__).parents[1])  # under chalicelib/: it ships
    with Client(app, stage_name="dev") as client:
        served = client.http.get("/openapi.json")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "application/json"
    assert served.body.decode() == shipped(document)


def test_the_document_is_valid_openapi_3_1(document):
    import schemathesis

    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in document["paths"].values())
    assert document["openapi"].startswith("3.1")


def test_bodies_are_the_handlers_own_models(document):
    schemas = document["components"]["schemas"]
    for model in (PlaceOrderIn, ProductIn):
        expected = model.model_json_schema(ref_template=REF_TEMPLATE)
        expected.pop("$defs", None)
        assert schemas[model.__name__] == expected
    body = document["paths"]["/orders"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PlaceOrderIn"
    }
    assert schemas["PlaceOrderIn"]["additionalProperties"] is False


def test_error_answers_come_from_the_error_table_with_the_error_body(document):
    product = document["paths"]["/products/{sku}"]["get"]["responses"]
    assert set(product) == {"200", "404", "500", "503"}
    assert "Retry-After" in product["503"]["headers"]
    assert "product_not_found" in product["404"]["description"]
    place = document["paths"]["/orders"]["post"]["responses"]
    assert {"200", "201", "400", "404", "409", "413", "415", "422", "500", "503"} == set(place)
    assert "temporarily_unavailable" in place["503"]["description"]
    assert "insufficient_stock" in place["409"]["description"]
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            for status, response in op["responses"].items():
                assert response["headers"]["X-Request-Id"], (method, path, status)
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == error_ref, (method, path, status)
    expected = ErrorOut.model_json_schema(ref_template=REF_TEMPLATE, mode="serialization")
    expected.pop("$defs")
    assert document["components"]["schemas"]["ErrorOut"] == expected


def test_every_route_with_query_parameters_documents_a_repeated_one(document):
    # api/http.py parse_query refuses a repeated parameter with 400 (the fuzz
    # test found the packing slip answering it undocumented).
    with_query = [
        (path, method, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
        if any(p["in"] == "query" for p in op.get("parameters", []))
    ]
    assert {path for path, _, _ in with_query} >= {
        "/admin/orders",
        "/admin/orders/{order_id}/packing-slip",
    }
    for path, method, op in with_query:
        assert "repeated_query_parameter" in op["responses"]["400"]["description"], (method, path)
        assert "422" in op["responses"], (method, path)


def test_each_route_names_its_security_scheme(document):
    paths = document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert {"order_token", "cart_token", "admin_key", "stripe_signature", "hmac_signature"} <= set(
        schemes
    )
    for path, methods in paths.items():
        for method, op in methods.items():
            if path.startswith("/admin/"):
                assert op["security"] == [{"admin_key": []}], (method, path)
                assert {"401", "403"} <= set(op["responses"]), (method, path)
    assert paths["/orders/{order_id}"]["get"]["security"] == [{"order_token": []}]
    assert paths["/carts/{cart_id}"]["put"]["security"] == [{"cart_token": []}]
    assert paths["/orders"]["post"]["security"] == []
    idempotency = paths["/orders"]["post"]["parameters"][0]
    assert (idempotency["name"], idempotency["in"], idempotency["required"]) == (
        "Idempotency-Key",
        "header",
        True,
    )


def test_operation_ids_are_unique_and_name_the_handlers(document):
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "place_order" in ids and "get_openapi_document" in ids


def test_the_reference_page_lists_every_operation_and_needs_nothing_from_elsewhere(document):
    page = render_reference(document)
    for path, methods in document["paths"].items():
        for op in methods.values():
            assert f"id='op-{op['operationId']}'" in page
        assert f"<code>{path}</code>" in page
    # Nothing loaded from elsewhere: no scripts, stylesheets, images or fonts.
    for loader in ("<script", "src=", "<link", "@import", "url("):
        assert loader not in page, loader


def test_the_reference_page_escapes_what_the_document_says():
    page = render_reference(
        {
            "info": {"title": "<b>x</b>", "description": "see `<img src=x>`"},
            "paths": {"/a": {"get": {"operationId": "a", "summary": "<script>", "responses": {}}}},
        }
    )
    assert "<script>" not in page and "<img" not in page and "<b>x" not in page
    assert "&lt;script&gt;" in page


def test_serving_reads_the_shipped_document_once(monkeypatch, tmp_path):
    from chalicelib.api import docs

    copy = tmp_path / "openapi.json"
    copy.write_text('{"openapi": "3.1.0"}')
    monkeypatch.setattr(docs, "DOCUMENT", copy)
    docs.document_body.cache_clear()
    try:
        first = docs.get_openapi_document().body
        copy.write_text('{"openapi": "changed"}')
        assert docs.get_openapi_document().body == first == '{"openapi": "3.1.0"}'
    finally:
        docs.document_body.cache_clear()


def test_serving_the_document_loads_no_generator():
    import subprocess
    import sys

    code = (
        "import sys, os; os.environ['SHOP_TABLE_NAME']='t'; import app\n"
        "from chalice.test import Client\n"
        "with Client(app.app, stage_name='dev') as client:\n"
        "    assert client.http.get('/openapi.json').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('local', 'schemathesis')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip() == "[]"
