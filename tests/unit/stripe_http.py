"""Stripe's side of the wire for unit tests (no sockets): a transport for
``StripeApi`` that answers each request with the next canned answer and
records what was sent, and a way to see what was logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.observability import logger
from chalicelib.payments.stripe_api import HttpRequest, HttpResponse, StripeApi

API_KEY = "sk_test_unit_0123456789abcdef"


def answer(status: int, body: dict[str, Any], **headers: str) -> HttpResponse:
    names = {"request-id": "req_unit_1", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return HttpResponse(status, names, json.dumps(body).encode())


def stripe_error(status: int, error_type: str, code: str | None = None, **headers: str):
    error = {"type": error_type, "message": "Refund for erika@example.com refused"}
    if code:
        error["code"] = code
    return answer(status, {"error": error}, **headers)


class StripeWire:
    """The transport: answers (HttpResponse, or an exception to raise) in turn."""

    def __init__(self, *answers: HttpResponse | BaseException) -> None:
        self.answers = list(answers)
        self.requests: list[HttpRequest] = []
        self.sleeps: list[float] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        next_answer = self.answers.pop(0)
        if isinstance(next_answer, BaseException):
            raise next_answer
        return next_answer

    def api(self) -> StripeApi:
        return StripeApi(API_KEY, send=self, sleep=self.sleeps.append)

    def form(self, index: int = 0) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index].body.decode(), keep_blank_values=True))


@contextmanager
def log_lines() -> Iterator[list[str]]:
    """Every line the service logs meanwhile, formatted as in production."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
