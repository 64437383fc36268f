"""Stripe's REST API: the two calls the shop makes, over the standard library.

Why not the ``stripe`` library: it was ~40% of the Lambda package (2.3 MB
zipped plus requests & co.; the package must stay under 5 MB) for two
endpoints. The library stays a dev dependency: tests/unit/test_stripe_api.py
proves that the form body we send is the one it would send. Upgrading: bump
``stripe`` in requirements-dev.txt and ``API_VERSION`` below together, then
run those tests.

What the library did for us and this module does instead: form-encode
nested parameters (``metadata[order_id]``, ``line_items[0][price_data][currency]``),
pin the API version, send the idempotency key, bound each attempt with
timeouts, and retry what Stripe says is safe to retry with the same key.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from chalicelib.observability import logger

API_BASE = "https://api.stripe.com"

#: The API version stripe-python 16.1.0 pins (``stripe._api_version._ApiVersion.CURRENT``),
#: so the answers we parse have the shape that library (our reference in tests)
#: expects. Change it only together with the dev pin of ``stripe``.
API_VERSION = "2026-10-28.endive"

# Per attempt: connecting (TCP and TLS) and each read. With two retries and
# their backoff the worst case is 3 * (2 + 6) + 1.5 = 25.5 s, inside API
# Gateway's 29 s and the Lambda's 30 s; Stripe answers these calls in well
# under a second, and a retry with the same key replays a slow first answer.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 6.0

#: As the stripe library was configured here before (max_network_retries=2).
MAX_RETRIES = 2
# Stripe's own clients' backoff: 0.5 s doubling, jittered down to half.
_INITIAL_DELAY_SECONDS = 0.5
_MAX_DELAY_SECONDS = 5.0


@dataclass(frozen=True)
class HttpRequest:
    """One request to Stripe's API, as the transport sends it."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    """Stripe's answer: status and parsed JSON body."""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


#: Sends one request and returns the answer, whatever its status. Raises
#: OSError (URLError, TimeoutError, ConnectionError, ...) when no answer came.
Transport = Callable[[HttpRequest], HttpResponse]


class StripeApiError(Exception):
    """Stripe refused the request, failed, or did not answer (``status`` None).

    Carries only what is safe to log: no request body, no error message
    (Stripe's messages may quote the parameters, e.g. the customer's email).
    """

    def __init__(
        self,
        *,
        status: int | None,
        error_type: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"stripe: status={status} type={error_type} code={code}")
        self.status = status
        self.error_type = error_type
        self.code = code
        self.request_id = request_id

    @property
    def invalid_request(self) -> bool:
        """What the stripe library raises as ``InvalidRequestError``: the
        request itself is wrong (400/404), not a rate limit or an
        idempotency-key conflict. Retrying it cannot help."""
        return (
            self.status in (400, 404)
            and self.error_type != "idempotency_error"
            and self.code != "rate_limit"
        )


def encode_form(params: Mapping[str, Any]) -> str:
    """Stripe's form encoding: nested dicts as ``key[sub]``, lists as
    ``key[0]``, booleans as ``true``/``false``, None left out. Brackets stay
    literal, as the stripe library sends them (Stripe accepts both)."""
    pairs = [pair for key, value in params.items() for pair in _flatten(key, value)]
    return urlencode(pairs).replace("%5B", "[").replace("%5D", "]")


def _flatten(key: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for sub, item in value.items():
            yield from _flatten(f"{key}[{sub}]", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _flatten(f"{key}[{index}]", item)
    elif isinstance(value, bool):
        yield key, str(value).lower()
    elif value is not None:
        yield key, value


class StripeApi:
    """The two Stripe calls, each idempotent by its key and retried at most
    ``MAX_RETRIES`` times on what Stripe documents as safe to retry: no
    answer, 409 (the same key still in flight), 429, 5xx, or whatever its
    ``Stripe-Should-Retry`` header says."""

    def __init__(
        self,
        api_key: str,
        *,
        send: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        base_url: str = API_BASE,
    ) -> None:
        self._api_key = api_key
        self._send = send or urllib_transport()
        self._sleep = sleep
        self._base_url = base_url

    def __repr__(self) -> str:  # never the key
        return f"StripeApi({self._base_url})"

    def create_checkout_session(
        self, params: Mapping[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]:
        return self._post("/v1/checkout/sessions", params, idempotency_key)

    def create_refund(self, params: Mapping[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return self._post("/v1/refunds", params, idempotency_key)

    def _post(self, path: str, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        request = HttpRequest(
            method="POST",
            url=self._base_url + path,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Stripe-Version": API_VERSION,
                # The same key on every attempt: Stripe replays the first
                # answer instead of doing the work twice.
                "Idempotency-Key": idempotency_key,
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "shop-orders (python urllib)",
            },
            body=encode_form(params).encode(),
        )
        attempt = 0
        failure: str | None
        while True:
            attempt += 1
            try:
                response = self._send(request)
            except OSError as exc:
                error = StripeApiError(status=None)
                retry = True
                failure = type(exc).__name__
            else:
                if 200 <= response.status < 300:
                    return _json_object(response, path)
                error = _error_of(response)
                retry = _should_retry(response)
                failure = None
            retry = retry and attempt <= MAX_RETRIES
            logger.warning(
                "stripe request failed",
                endpoint=path,
                attempt=attempt,
                will_retry=retry,
                status=error.status,
                error_type=error.error_type,
                error_code=error.code,
                stripe_request_id=error.request_id,
                network_error=failure,
            )
            if not retry:
                raise error
            self._sleep(_backoff(attempt))


def _should_retry(response: HttpResponse) -> bool:
    advice = response.headers.get("stripe-should-retry")
    if advice in ("true", "false"):
        return advice == "true"
    return response.status in (409, 429) or response.status >= 500


def _backoff(attempt: int) -> float:
    delay = min(_INITIAL_DELAY_SECONDS * 2 ** (attempt - 1), _MAX_DELAY_SECONDS)
    # Jitter (not security-relevant) spreads retries of many Lambdas apart.
    return max(_INITIAL_DELAY_SECONDS, delay * random.uniform(0.5, 1.0))  # noqa: S311


def _error_of(response: HttpResponse) -> StripeApiError:
    error: Any = None
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        pass  # e.g. a load balancer's HTML page: the status says enough
    fields = error if isinstance(error, dict) else {}
    return StripeApiError(
        status=response.status,
        error_type=_str_or_none(fields.get("type")),
        code=_str_or_none(fields.get("code")),
        request_id=response.headers.get("request-id"),
    )


def _json_object(response: HttpResponse, path: str) -> dict[str, Any]:
    try:
        body = json.loads(response.body)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        request_id = response.headers.get("request-id")
        logger.error("stripe answer unreadable", endpoint=path, stripe_request_id=request_id)
        raise StripeApiError(
            status=response.status, error_type="invalid_response", request_id=request_id
        )
    return body


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def urllib_transport(
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS, read_timeout: float = READ_TIMEOUT_SECONDS
) -> Transport:
    """The real transport: urllib, TLS verified against the system's CA
    bundle (the Lambda runtime's), a connect timeout and a read timeout."""
    # Imported here: only the card checkout and refund paths pay for them.
    import http.client
    import ssl
    import urllib.error
    import urllib.request

    class TimedConnection(http.client.HTTPSConnection):
        # urllib has one timeout for everything; connect with the short one,
        # then give each read the longer one.
        def connect(self) -> None:
            super().connect()
            self.sock.settimeout(read_timeout)

    class TimedHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(TimedConnection, req, context=tls)

    tls = ssl.create_default_context()  # verifies certificates and host names
    opener = urllib.request.build_opener(TimedHandler())

    def send(request: HttpRequest) -> HttpResponse:
        outgoing = urllib.request.Request(  # noqa: S310 (an https:// URL of ours)
            request.url, data=request.body, headers=dict(request.headers), method=request.method
        )
        try:
            with opener.open(outgoing, timeout=connect_timeout) as answer:
                return _response(answer.status, answer.headers.items(), answer.read())
        except urllib.error.HTTPError as answer:  # 4xx/5xx: an answer all the same
            with answer:
                return _response(answer.code, answer.headers.items(), answer.read())
        except http.client.HTTPException as exc:  # e.g. IncompleteRead: no usable answer
            raise ConnectionError(type(exc).__name__) from exc

    return send


def _response(status: int, headers: Any, body: bytes) -> HttpResponse:
    return HttpResponse(status, {k.lower(): v for k, v in headers}, body)
