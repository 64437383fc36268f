"""CORS settings: which origins, and what the preflight and answers say."""

from __future__ import annotations

import pytest
from chalice import Response

from chalicelib import config
from chalicelib.api import cors


@pytest.fixture
def origins(monkeypatch):
    def use(value: str | None):
        if value is None:
            monkeypatch.delenv("SHOP_CORS_ORIGINS", raising=False)
        else:
            monkeypatch.setenv("SHOP_CORS_ORIGINS", value)
        config.cors_origins.cache_clear()
        cors.storefront_cors.cache_clear()

    yield use
    config.cors_origins.cache_clear()
    cors.storefront_cors.cache_clear()


def test_one_origin_is_named_in_the_preflight(origins):
    origins("https://shop.example.com/")
    headers = cors.storefront_cors().get_access_control_headers()
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers


def test_several_origins_each_get_their_own_name_on_the_answer(origins):
    origins("https://shop.example.com, https://www.shop.example.com")
    assert cors.storefront_cors().allow_origin == "*"
    for origin in config.cors_origins():
        response = Response(body={}, headers={"Access-Control-Allow-Origin": "*"})
        cors.apply({"Origin": origin}, response)
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Vary"] == "Origin"
    response = Response(body={}, headers={"Access-Control-Allow-Origin": "*"})
    cors.apply({"origin": "https://shop.example.com.evil.example"}, response)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_route_without_cors_gets_no_cors_headers(origins):
    origins(None)
    response = Response(body={})
    cors.apply({"Origin": config.cors_origins()[0]}, response)
    assert response.headers == {}


@pytest.mark.parametrize("value", ["", "shop.example.com", "https://x.example/path", "*"])
def test_a_malformed_origin_setting_fails_naming_the_variable(origins, value):
    origins(value)
    with pytest.raises(config.InvalidSettings, match="SHOP_CORS_ORIGINS"):
        config.cors_origins()
