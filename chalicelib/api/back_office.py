"""The merchant's back office: server-rendered pages under /backoffice
(docs/back-office.md).

Each view checks the session and the role (services/back_office.py) and
calls the use case the admin API's route for the same action calls
(order_desk, fulfilment, payments); the pages module renders. A
state-changing form is refused without its session's CSRF token, before
anything is read or written. After an action the browser is sent back to
the page with a 303 (post/redirect/get), so reloading does not repeat it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import back_office_pages as pages
from chalicelib.api import wiring
from chalicelib.api.errors import RequestError, status_of
from chalicelib.api.fulfilment_schemas import (
    DeskQueryIn,
    MerchantCancelIn,
    NoteIn,
    ParcelIn,
    ReturnIn,
    ShipmentIn,
)
from chalicelib.api.payment_schemas import MarkPaidIn, RefundIn
from chalicelib.documents import packing_slip
from chalicelib.domain import errors
from chalicelib.domain import payments as ledger
from chalicelib.domain.fulfilment import ReturnedLine
from chalicelib.domain.order import Visibility
from chalicelib.domain.shipment import ShipmentLine
from chalicelib.domain.staff import Permission, StaffSession, check_return_refund, may
from chalicelib.observability import logger
from chalicelib.services import back_office as sessions
from chalicelib.services import fulfilment, order_desk, payments
from chalicelib.services.ports import DeskQuery

back_office = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded"]
PAGE_SIZE = 25


def _request() -> Any:
    return back_office.current_request


def _secure() -> bool:
    return wiring.context().settings.stage != "local"


def _session(permission: Permission, *, posted: dict[str, list[str]] | None = None) -> StaffSession:
    """The signed-in user, allowed ``permission``; a posted form must carry the CSRF token."""
    return sessions.authorize(
        pages.session_id(_request()),
        permission,
        wiring.context(),
        csrf_token=None if posted is None else pages.one(posted, "csrf_token"),
        state_changing=posted is not None,
    )


def _problem(status: int, message: str, *, session: StaffSession | None = None) -> Response:
    return pages.page(_request(), "problem.html", session=session, status=status, message=message)


def html_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """Every refusal as a page (not the API's JSON body): no session sends a
    page view to the sign-in; the rest is a page naming the problem."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        request = _request()
        t = pages.Words(pages.locale_of(request))
        try:
            return view(*args, **kwargs)
        except errors.NotSignedIn:
            if request.method == "GET":
                target = quote(pages.safe_next(pages.page_path(request)), safe="/-")
                return pages.redirect(request, f"/backoffice/sign-in?next={target}")
            return _problem(401, t.signed_out)
        except errors.NotPermitted:
            return _problem(403, t.not_permitted)
        except errors.CsrfTokenInvalid:
            return _problem(403, t.form_outdated)
        except RequestError as exc:
            return _problem(exc.status, exc.message)
        except ValidationError as exc:
            fields = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "form" for e in exc.errors(include_url=False)
            )
            return _problem(422, f"{t.error}: {fields}")
        except errors.DomainError as exc:
            return _problem(status_of(type(exc)), f"{t.error}: {exc.message}")
        except Exception:
            logger.exception("unhandled error in back office view", view=view.__name__)
            return _problem(500, t.error)

    return wrapped


def page_route(path: str, **options: Any) -> Callable[[Callable[..., Response]], Any]:
    def register(view: Callable[..., Response]) -> Any:
        return back_office.route(path, **options)(html_errors(view))

    return register


# --- signing in and out ---------------------------------------------------------------


@page_route("/backoffice", methods=["GET"])
def home() -> Response:
    return pages.redirect(_request(), "/backoffice/orders")


@page_route("/backoffice/sign-in", methods=["GET"])
def sign_in_page() -> Response:
    params = _request().query_params or {}
    return pages.page(
        _request(),
        "sign_in.html",
        session=None,
        next=pages.safe_next(params.get("next")),
        failed=False,
    )


@page_route("/backoffice/sign-in", methods=["POST"], content_types=FORM)
def sign_in() -> Response:
    # No CSRF token before a session exists: SameSite=Lax keeps another
    # site's post from riding on a session, and signing someone into their
    # own account gains an attacker nothing here.
    request = _request()
    fields = pages.form(request)
    target = pages.safe_next(pages.one(fields, "next"))
    try:
        opened = sessions.sign_in(
            (pages.one(fields, "email") or "")[:254],
            (pages.one(fields, "password") or "")[:256],
            wiring.context(),
        )
    except errors.SignInFailed:
        return pages.page(
            request, "sign_in.html", session=None, status=401, next=target, failed=True
        )
    max_age = int(sessions.session_rules(wiring.context()).absolute.total_seconds())
    cookie = pages.session_cookie(request, opened.session_id, secure=_secure(), max_age=max_age)
    return pages.redirect(request, target, cookies=[cookie])


@page_route("/backoffice/sign-out", methods=["POST"], content_types=FORM)
def sign_out() -> Response:
    request = _request()
    fields = pages.form(request)
    sessions.sign_out(pages.session_id(request), pages.one(fields, "csrf_token"), wiring.context())
    gone = pages.session_cookie(request, "", secure=_secure(), max_age=0)
    return pages.redirect(request, "/backoffice/sign-in", cookies=[gone])


@page_route("/backoffice/language", methods=["GET"])
def switch_language() -> Response:
    request = _request()
    params = request.query_params or {}
    chosen = str(params.get("to")) if params.get("to") in pages.LOCALES else "de"
    cookie = pages.language_cookie(request, chosen, secure=_secure())
    return pages.redirect(request, pages.safe_next(params.get("next")), cookies=[cookie])


# --- orders ----------------------------------------------------------------------------


def _desk_query(
    params: Any, session: StaffSession, timezone: str
) -> tuple[DeskQuery, dict[str, str]]:
    """The listing's filters from the URL (so a filtered listing is a bookmark)."""
    given = {
        name: params[name].strip()
        for name in (
            "status",
            "payment_status",
            "payment_method",
            "email",
            "number",
            "name",
            "from",
            "to",
        )
        if params.get(name, "").strip()
    }
    if "email" in given and not may(session.role, Permission.SEE_CUSTOMER_EMAIL):
        raise errors.NotPermitted("your role does not allow this")
    checked = DeskQueryIn.model_validate(
        {
            **{k: v for k, v in given.items() if k not in ("from", "to")},
            "created_from": pages.day_start(given.get("from"), timezone),
            # The "until" day counts in full.
            "created_to": pages.day_start(given.get("to"), timezone, days=1),
        }
    )
    filters = checked.model_dump(exclude={"limit", "cursor"})
    return DeskQuery(**filters), given


@page_route("/backoffice/orders", methods=["GET"])
def orders() -> Response:
    session = _session(Permission.VIEW_ORDERS)
    ctx = wiring.context()
    params: Any = _request().query_params or {}
    query, given = _desk_query(params, session, ctx.settings.timezone)
    cursor = params.get("cursor") or None
    listing = order_desk.list_orders(query, page_size=PAGE_SIZE, cursor=cursor, ctx=ctx)
    return pages.page(
        _request(),
        "orders.html",
        session=session,
        listing=listing,
        filters=given,
        first_page=cursor is not None,
        statuses=pages.ORDER_STATUSES,
        payment_statuses=pages.PAYMENT_STATUSES,
        methods=pages.PAYMENT_METHODS,
        carriers=pages.CARRIERS,
        **_formatting(ctx),
    )


@page_route("/backoffice/orders/bulk", methods=["POST"], content_types=FORM)
def bulk() -> Response:
    fields = pages.form(_request())
    action = pages.one(fields, "action")
    wanted = {
        "mark_paid": Permission.MARK_PAID,
        "ship": Permission.SHIP,
        "packing_slips": Permission.PRINT_PACKING_SLIPS,
    }.get(action or "")
    if wanted is None:
        raise RequestError(422, "unknown_action", "choose an action")
    session = _session(wanted, posted=fields)
    ctx = wiring.context()
    chosen = list(dict.fromkeys(fields.get("order", [])))[:PAGE_SIZE]
    t = pages.Words(pages.locale_of(_request()))
    if not chosen:
        raise RequestError(422, "none_selected", t.none_selected)
    records = [order_desk.show_order(order_id, ctx) for order_id in chosen]
    if action == "packing_slips":
        html = packing_slip.render_many(records, ctx.settings)
        return Response(
            body=html,
            status_code=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        )
    if action == "mark_paid":
        reference = MarkPaidIn.model_validate(
            {"bank_reference": pages.one(fields, "bank_reference") or ""}
        )
        seen = [
            payments.BankTransferSeen(r.order.number, reference.bank_reference) for r in records
        ]
        done = payments.mark_paid_in_bulk(seen, actor=session.actor, ctx=ctx)
        results = [(r.number, r.outcome) for r in done]
    else:
        carrier = pages.one(fields, "carrier") or ""
        parcels = []
        for record in records:
            number = (pages.one(fields, f"tracking_{record.order.id}") or "").strip()
            checked = ParcelIn.model_validate({"carrier": carrier, "tracking_number": number})
            parcels.append(
                fulfilment.ParcelSent(record.order.id, checked.carrier, checked.tracking_number)
            )
        sent = fulfilment.ship_many(parcels, actor=session.actor, ctx=ctx)
        numbers = {r.order.id: r.order.number for r in records}
        results = [(numbers[r.order_id], r.outcome) for r in sent]
    return pages.page(_request(), "results.html", session=session, results=results)


@page_route("/backoffice/orders/{order_id}", methods=["GET"])
def order(order_id: str) -> Response:
    session = _session(Permission.VIEW_ORDERS)
    ctx = wiring.context()
    record = order_desk.show_order(order_id, ctx)
    params: Any = _request().query_params or {}
    return pages.page(
        _request(),
        "order.html",
        session=session,
        record=record,
        order=record.order,
        paid=ledger.paid_amount(record.order),
        refunded=ledger.refunded_amount(record.order),
        carriers=pages.CARRIERS,
        done=params.get("done") == "1",
        **_formatting(ctx),
    )


def _formatting(ctx: Any) -> dict[str, Any]:
    from chalicelib.notify.formatting import local_time, money

    locale = pages.locale_of(_request())
    return {
        "money": lambda value, currency="EUR": money(value, currency, locale),
        "when": lambda moment: f"{local_time(moment, ctx.settings.timezone):%Y-%m-%d %H:%M}",
    }


def _done(order_id: str) -> Response:
    return pages.redirect(_request(), f"/backoffice/orders/{quote(order_id, safe='')}?done=1")


@page_route("/backoffice/orders/{order_id}/notes", methods=["POST"], content_types=FORM)
def add_note(order_id: str) -> Response:
    fields = pages.form(_request())
    session = _session(Permission.ADD_NOTE, posted=fields)
    body = NoteIn.model_validate(
        {
            "note": pages.one(fields, "note") or "",
            "visibility": pages.one(fields, "visibility") or "internal",
        }
    )
    fulfilment.add_note(
        order_id, body.note, Visibility(body.visibility), actor=session.actor, ctx=wiring.context()
    )
    return _done(order_id)


def _per_line(fields: dict[str, list[str]], prefix: str) -> list[tuple[str, int]]:
    """The form's quantity per SKU (``<prefix><sku>`` fields), the non-zero ones."""
    return [
        (name[len(prefix) :], pages.quantity(values[0] if values else "", field=name))
        for name, values in fields.items()
        if name.startswith(prefix)
        if pages.quantity(values[0] if values else "", field=name) > 0
    ]


@page_route("/backoffice/orders/{order_id}/shipments", methods=["POST"], content_types=FORM)
def ship(order_id: str) -> Response:
    fields = pages.form(_request())
    session = _session(Permission.SHIP, posted=fields)
    body = ShipmentIn.model_validate(
        {
            "carrier": pages.one(fields, "carrier") or "",
            "tracking_number": (pages.one(fields, "tracking_number") or "").strip(),
            "tracking_url": (pages.one(fields, "tracking_url") or "").strip() or None,
            "lines": [{"sku": sku, "quantity": q} for sku, q in _per_line(fields, "ship_")],
        }
    )
    command = fulfilment.ShipLines(
        carrier=body.carrier,
        tracking_number=body.tracking_number,
        tracking_url=body.tracking_url,
        lines=tuple(ShipmentLine(line.sku, line.quantity) for line in body.lines),
    )
    fulfilment.ship(order_id, command, actor=session.actor, ctx=wiring.context())
    return _done(order_id)


@page_route("/backoffice/orders/{order_id}/cancel", methods=["POST"], content_types=FORM)
def cancel(order_id: str) -> Response:
    fields = pages.form(_request())
    session = _session(Permission.CANCEL, posted=fields)
    reason = (pages.one(fields, "reason") or "").strip()
    body = MerchantCancelIn.model_validate({"reason": reason} if reason else {})
    fulfilment.cancel_as_merchant(order_id, body.reason, actor=session.actor, ctx=wiring.context())
    return _done(order_id)


@page_route("/backoffice/orders/{order_id}/refunds", methods=["POST"], content_types=FORM)
def refund(order_id: str) -> Response:
    fields = pages.form(_request())
    session = _session(Permission.REFUND, posted=fields)
    reason = (pages.one(fields, "reason") or "").strip()
    body = RefundIn.model_validate(
        {
            "amount": pages.amount(pages.one(fields, "amount"), field="amount"),
            **({"reason": reason} if reason else {}),
        }
    )
    payments.refund_order(
        order_id, body.amount, reason=body.reason, actor=session.actor, ctx=wiring.context()
    )
    return _done(order_id)


@page_route("/backoffice/orders/{order_id}/returns", methods=["POST"], content_types=FORM)
def record_return(order_id: str) -> Response:
    fields = pages.form(_request())
    session = _session(Permission.RECORD_RETURN, posted=fields)
    restocked = set(fields.get("restock", []))
    reason = (pages.one(fields, "reason") or "").strip()
    body = ReturnIn.model_validate(
        {
            "lines": [
                {"sku": sku, "quantity": q, "restock": sku in restocked}
                for sku, q in _per_line(fields, "return_")
            ],
            "refund": pages.amount(pages.one(fields, "refund"), field="refund") or 0,
            "surcharge": pages.amount(pages.one(fields, "surcharge"), field="surcharge") or 0,
            **({"reason": reason} if reason else {}),
        }
    )
    check_return_refund(session.role, body.refund)
    command = fulfilment.RecordReturn(
        lines=tuple(ReturnedLine(ln.sku, ln.quantity, ln.restock) for ln in body.lines),
        refund=body.refund,
        surcharge=body.surcharge,
        reason=body.reason,
    )
    fulfilment.record_return(order_id, command, actor=session.actor, ctx=wiring.context())
    return _done(order_id)
