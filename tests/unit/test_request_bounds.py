"""Request parsing refuses what the bad-input corpus found slipping through
(tests/integration/test_bad_input_corpus.py)."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import Request
from pydantic import ValidationError

from chalicelib.api.errors import RequestError
from chalicelib.api.fulfilment_schemas import DeskQueryIn, ShipmentIn
from chalicelib.api.http import parse_query


def shipment(tracking_url: str) -> dict[str, Any]:
    return {
        "carrier": "pigeon_post",
        "tracking_number": "PP-0001",
        "tracking_url": tracking_url,
        "lines": [{"sku": "tea", "quantity": 1}],
    }


def test_a_tracking_url_is_printable_ascii():
    url = "https://track.example/p?n=PP-0001&lang=de%20DE"
    assert ShipmentIn.model_validate(shipment(url)).tracking_url == url


@pytest.mark.parametrize(
    "spoiled", ["\x00", "\r\nBcc: x@example.com", "\u202e", "\u200d", "\U0001f600", " x"]
)
def test_a_tracking_url_with_control_bidi_or_non_ascii_characters_is_refused(spoiled):
    with pytest.raises(ValidationError):
        ShipmentIn.model_validate(shipment("https://track.example/PP-0001" + spoiled))


def request(query: dict[str, list[str]]) -> Request:
    return Request(
        {
            "multiValueQueryStringParameters": query,
            "headers": {},
            "pathParameters": {},
            "requestContext": {"httpMethod": "GET", "resourcePath": "/admin/orders"},
            "body": None,
            "isBase64Encoded": False,
            "stageVariables": None,
        }
    )


def test_query_parameters_given_once_are_parsed():
    params = parse_query(request({"status": ["paid"], "limit": ["5"]}), DeskQueryIn)
    assert (params.status, params.limit) == ("paid", 5)


def test_a_repeated_query_parameter_is_refused_rather_than_one_taken():
    with pytest.raises(RequestError) as refused:
        parse_query(request({"status": ["paid", "cancelled"], "limit": ["5"]}), DeskQueryIn)
    assert (refused.value.status, refused.value.code) == (400, "repeated_query_parameter")
    assert refused.value.details == {"parameters": ["status"]}
