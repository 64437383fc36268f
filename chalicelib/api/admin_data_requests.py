"""The merchant's data subject requests: export, erase or restrict what the
shop holds about one email address (docs/gdpr.md)."""

from __future__ import annotations

from dataclasses import asdict

from chalice import Blueprint, Response

from chalicelib.api import wiring
from chalicelib.api.auth import admin_key_authorizer, principal
from chalicelib.api.contract import documented
from chalicelib.api.data_request_schemas import DataRequestIn, DataRequestOut
from chalicelib.api.http import parse_body, route
from chalicelib.domain import errors
from chalicelib.domain.data_requests import RequestKind
from chalicelib.services import data_requests
from chalicelib.services.data_requests import DataRequestResult

admin_data_requests = Blueprint(__name__)


@route(
    admin_data_requests,
    "/admin/data-requests",
    methods=["POST"],
    authorizer=admin_key_authorizer,
)
@documented(
    "Answer a customer's data request: export, erasure or restriction",
    description=(
        "201 with the request's record. An export lists every kind of record held about "
        "the address; an erasure deletes carts, consents, nudges and opt-out links and "
        "keeps the orders restricted (tax and commercial law); a restriction deletes "
        "nothing. Both put the address's hash on the suppression list."
    ),
    ok={201: DataRequestOut},
    body=DataRequestIn,
    auth="admin_key",
    errors=(errors.ConcurrentUpdate,),
)
def answer_data_request() -> Response:
    request = admin_data_requests.current_request
    body = parse_body(request, DataRequestIn)
    result = data_requests.handle_request(
        body.email,
        RequestKind(body.kind),
        actor=principal(request.context),
        ctx=wiring.context(),
    )
    return Response(body=_present(result), status_code=201)


def _present(result: DataRequestResult) -> dict[str, object]:
    record = result.request
    return DataRequestOut.model_validate(
        {
            "request": {
                "id": record.id,
                "kind": record.kind.value,
                "requested_at": record.requested_at.isoformat(),
                "completed_at": record.completed_at.isoformat() if record.completed_at else None,
                "actor": record.actor,
                "outcome": {entity: asdict(o) for entity, o in record.outcome.items()},
            },
            "kept_orders": [asdict(kept) for kept in result.kept_orders],
            "export": result.records,
        }
    ).model_dump(mode="json")
