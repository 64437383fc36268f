"""One table from errors to HTTP statuses, and the JSON error body.

Every error answer looks like ``{"error": {"code", "message", "details",
"request_id"}}``. Chalice middleware never sees exceptions raised in views,
so views are wrapped by ``json_errors`` (applied by ``api.http.route``); a
middleware then rewrites Chalice's own error answers (404/405/415/500) into
the same shape.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from chalice import Response
from pydantic import ValidationError

from chalicelib.api import cors
from chalicelib.domain import errors as domain
from chalicelib.observability import logger, publish_metrics


class RequestError(Exception):
    """A problem with the HTTP request itself (headers, body, size)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


STATUS_BY_ERROR: dict[type[domain.DomainError], int] = {
    domain.InvalidRequest: 422,
    domain.UnknownProducts: 422,
    domain.MixedCurrencies: 422,
    domain.IdempotencyKeyReused: 422,
    domain.InsufficientStock: 409,
    domain.CatalogChanged: 409,
    domain.IllegalTransition: 409,
    domain.ConcurrentUpdate: 409,
    domain.ProductNotFound: 404,
    domain.OrderNotFound: 404,
    domain.Unauthorized: 401,
    domain.TemporarilyUnavailable: 503,
    # payments
    domain.InvalidSignature: 400,
    domain.StaleSignature: 400,
    domain.MalformedEvent: 400,
    domain.UnknownPaymentProvider: 404,
    domain.PaymentNotFound: 404,
    domain.RefundRejected: 409,
    domain.PaymentProviderUnavailable: 502,
}
# Carts and opt-out links (schedules).
STATUS_BY_ERROR.update(
    {
        domain.CartNotFound: 404,
        domain.CartConverted: 409,
        domain.CartChanged: 409,
        domain.EmptyCart: 422,
        domain.OptOutLinkUnknown: 404,
    }
)

# Checkout: shipping methods and discount codes (docs/checkout.md). Every
# refusal of a code is a 422 with its own code (the subclasses').
STATUS_BY_ERROR.update(
    {
        domain.ShippingMethodUnknown: 422,
        domain.ShippingNotAvailable: 422,
        domain.ShippingMethodRequired: 422,
        domain.PickupLocationUnknown: 422,
        domain.ShippingAndPickupChosen: 422,
        domain.ShippingAddressRequired: 422,
        domain.DiscountCodeRefused: 422,
        domain.TermsNotAccepted: 422,
        domain.TermsVersionOutdated: 422,
        domain.VatIdInvalid: 422,
    }
)

# Withdrawals (docs/withdrawal.md).
STATUS_BY_ERROR.update(
    {
        domain.WithdrawalPeriodEnded: 422,
        domain.WithdrawalLinesInvalid: 422,
        domain.WithdrawalNotFound: 404,
        domain.TooManyAttempts: 429,
    }
)

# Fulfilment: shipments, tracking callbacks, returns, the order desk.
STATUS_BY_ERROR.update(
    {
        domain.ShipmentExceedsOrder: 409,
        domain.TrackingNumberInUse: 409,
        domain.ShipmentNotFound: 404,
        domain.DocumentNotFound: 404,
        domain.DocumentNotArchived: 404,
        domain.ReturnExceedsShipped: 409,
        domain.RefundExceedsPaid: 409,
        domain.InvalidCursor: 400,
        # The month's export: a VAT rate without a DATEV account is the settings' fault.
        domain.DatevAccountMissing: 409,
        domain.AlreadyClaimed: 409,
        domain.InvalidCarrierSignature: 401,
        # Click & collect.
        domain.PickupCodeWrong: 422,
        domain.NotAPickupOrder: 409,
        domain.PickupOrderNotShipped: 409,
    }
)


def status_of(error: type[Exception]) -> int:
    """The status of a domain error, or of its nearest ancestor in the table
    (NothingLeftToRefund is a RefundRejected: 409); 400 if none is listed."""
    for cls in error.__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


#: Seconds a client should wait before sending a request again that we
#: answered 503 (the Retry-After header).
RETRY_AFTER_SECONDS = 1


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    request_id = current_request_id()
    return Response(
        body={
            "error": {
                "code": code,
                "message": message,
                "details": details or {},
                "request_id": request_id,
            }
        },
        status_code=status,
        headers={"Content-Type": "application/json", "X-Request-Id": request_id, **(headers or {})},
    )


def validation_details(exc: ValidationError) -> dict[str, Any]:
    # Field locations and messages only: the offending input is not echoed,
    # it may be personal data or an injection attempt.
    return {
        "fields": [
            {"loc": [str(part) for part in err["loc"]], "type": err["type"], "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
    }


def from_validation_error(exc: ValidationError) -> Response:
    if any(err["type"] == "json_invalid" for err in exc.errors()):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    return error_response(
        422, "validation_error", "the request is invalid", validation_details(exc)
    )


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map every exception a view raises to the JSON error answer."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except RequestError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.details)
        except ValidationError as exc:
            return from_validation_error(exc)
        except domain.DomainError as exc:
            status = status_of(type(exc))
            return error_response(
                status, exc.code, exc.message, exc.details, _retry_after(status, exc.details)
            )
        except Exception as exc:
            if _throttled(exc):
                # Capacity, not a bug: the SDK's retries are spent and the
                # request changed nothing; the client may send it again.
                logger.warning("request throttled by the database", view=view.__name__)
                return error_response(
                    503,
                    domain.TemporarilyUnavailable.code,
                    "we are busy right now; try again shortly",
                    headers=_retry_after(503),
                )
            # The one catch-all: at the edge, so the caller gets our JSON body
            # and no stack trace, and the operator gets the trace in the log.
            logger.exception("unhandled error in view", view=view.__name__)
            return error_response(500, "internal_error", "something went wrong on our side")

    return wrapped


def _retry_after(status: int, details: dict[str, Any] | None = None) -> dict[str, str] | None:
    """503: a short pause; 429: the seconds until the client's window ends,
    as the error's details name them (RFC 9110 section 10.2.3)."""
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    seconds = (details or {}).get("retry_after_seconds")
    if status == 429 and isinstance(seconds, int):
        return {"Retry-After": str(max(1, seconds))}
    return None


def _throttled(exc: Exception) -> bool:
    # Imported here: the store's error codes pull in botocore, which a
    # function answering only from validation should not load.
    from chalicelib.store.errors import is_throttling

    return is_throttling(exc)


# Chalice's own error answers, e.g. {"Code": "UnsupportedMediaType", ...}
_CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequestError": "bad_request",
    "BadRequest": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}


def normalise_error_body(response: Response) -> Response:
    """Rewrite an error answer Chalice produced itself into our shape."""
    if response.status_code < 400:
        return response
    if str(response.headers.get("Content-Type", "")).startswith("text/html"):
        return response  # a page of ours for a person (the back office's refusals)
    body = response.body
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if isinstance(body, dict) and "error" in body:
        return response
    code, message = "error", "request failed"
    if isinstance(body, dict):
        raw_code = str(body.get("Code", ""))
        code = _CHALICE_CODES.get(raw_code, raw_code.lower() or code)
        message = str(body.get("Message") or message)
    if response.status_code >= 500:
        message = "something went wrong on our side"
    keep = {
        name: str(value)
        for name, value in response.headers.items()
        if name.lower() == "allow" or name.lower().startswith("access-control")
    }
    return error_response(response.status_code, code, message, headers=keep)


# Per request (a ContextVar is per thread under the threaded local server).
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


def register_middleware(app: Any) -> None:
    """Request ids, log context and uniform error bodies for every route."""

    @app.middleware("http")
    def request_context(event: Any, get_response: Callable[[Any], Response]) -> Response:
        context = getattr(event, "context", None) or {}
        request_id = context.get("requestId") or str(uuid.uuid4())
        _request_id.set(request_id)
        # Thread-local keys: on Lambda one invocation runs at a time, but the
        # local server runs requests in threads and must not mix their keys.
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(
            request_id=request_id, path=context.get("resourcePath"), method=event.method
        )
        started = time.perf_counter()
        response = normalise_error_body(get_response(event))
        response.headers["X-Request-Id"] = request_id
        cors.apply(event.headers, response)
        logger.info(
            "request handled",
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        publish_metrics()
        return response
