"""The back office's roles and session rules (domain/staff.py) and the
sign-in use case with fakes (services/back_office.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import CsrfTokenInvalid, NotPermitted, NotSignedIn, SignInFailed
from chalicelib.domain.staff import (
    Permission,
    Role,
    SessionRules,
    StaffSession,
    check_return_refund,
    may,
    new_session,
    role_from_groups,
    session_id_hash,
)
from chalicelib.services import back_office
from chalicelib.services.context import Context
from chalicelib.services.ports import SignedIn
from tests.fakes import FakeCatalog, FakeOrders, FakeTable, fake_payment_ports

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
RULES = SessionRules(absolute=timedelta(hours=10), idle=timedelta(minutes=30))


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (["warehouse"], Role.WAREHOUSE),
        (["staff", "warehouse"], Role.STAFF),
        (["warehouse", "owner", "other"], Role.OWNER),
    ],
)
def test_the_strongest_of_the_users_groups_is_the_role(groups, role):
    assert role_from_groups(groups) is role


@pytest.mark.parametrize("groups", [[], ["admins"], ["Owner"]])
def test_a_user_in_none_of_the_role_groups_is_refused(groups):
    with pytest.raises(SignInFailed):
        role_from_groups(groups)


def test_what_each_role_may_do():
    assert all(may(Role.OWNER, p) for p in Permission)
    assert not may(Role.STAFF, Permission.SETTINGS)
    assert may(Role.STAFF, Permission.REFUND) and may(Role.STAFF, Permission.CANCEL)
    for refused in (Permission.REFUND, Permission.CANCEL, Permission.SEE_CUSTOMER_EMAIL,
                    Permission.MARK_PAID, Permission.SETTINGS):  # fmt: skip
        assert not may(Role.WAREHOUSE, refused)
    for allowed in (Permission.VIEW_ORDERS, Permission.SHIP, Permission.ADD_NOTE,
                    Permission.PRINT_PACKING_SLIPS, Permission.RECORD_RETURN):  # fmt: skip
        assert may(Role.WAREHOUSE, allowed)


def test_the_warehouse_records_returns_but_refunds_none():
    check_return_refund(Role.WAREHOUSE, 0)
    check_return_refund(Role.STAFF, 500)
    with pytest.raises(NotPermitted):
        check_return_refund(Role.WAREHOUSE, 1)


def session(**changes) -> StaffSession:
    made = new_session(
        session_id="id", csrf_token="csrf-token", subject="sub-1", username="u",
        role=Role.STAFF, now=NOW, rules=RULES,
    )  # fmt: skip
    return replace(made, **changes)


@pytest.mark.parametrize(
    ("later", "alive"),
    [
        (timedelta(minutes=29), True),
        (timedelta(minutes=30), False),  # idle
    ],
)
def test_a_session_ends_after_its_idle_time(later, alive):
    if alive:
        session().check_alive(NOW + later, RULES)
    else:
        with pytest.raises(NotSignedIn):
            session().check_alive(NOW + later, RULES)


def test_a_busy_session_still_ends_at_its_absolute_expiry():
    busy = session(last_seen_at=NOW + timedelta(hours=9, minutes=59))

    busy.check_alive(NOW + timedelta(hours=9, minutes=59, seconds=59), RULES)
    with pytest.raises(NotSignedIn):
        busy.check_alive(NOW + timedelta(hours=10), RULES)


@pytest.mark.parametrize("presented", [None, "", "csrf-toke", "csrf-token2", "CSRF-TOKEN"])
def test_only_the_sessions_own_csrf_token_passes(presented):
    session().check_csrf("csrf-token")
    with pytest.raises(CsrfTokenInvalid):
        session().check_csrf(presented)


class Directory:
    def __init__(self, groups: tuple[str, ...]) -> None:
        self.groups = groups
        self.signed_out: list[str] = []

    def sign_in(self, username: str, password: str) -> SignedIn:
        if password != "right":
            raise SignInFailed("the address or the password is wrong")
        return SignedIn("sub-123456789", username, self.groups, email=username)

    def sign_out_everywhere(self, username: str) -> None:
        self.signed_out.append(username)


class Sessions:
    def __init__(self) -> None:
        self.items: dict[str, StaffSession] = {}
        self.touches = 0

    def create(self, s: StaffSession) -> None:
        assert s.id_hash not in self.items
        self.items[s.id_hash] = s

    def get(self, id_hash: str) -> StaffSession | None:
        return self.items.get(id_hash)

    def touch(self, id_hash: str, at: datetime) -> None:
        self.touches += 1
        if id_hash in self.items:
            self.items[id_hash] = self.items[id_hash].touched(at)

    def delete(self, id_hash: str) -> None:
        self.items.pop(id_hash, None)


@pytest.fixture
def office(settings, clock):
    table = FakeTable()
    directory, sessions = Directory(("warehouse",)), Sessions()
    ctx = Context(
        catalog=FakeCatalog(table), orders=FakeOrders(table), settings=settings,
        payments=fake_payment_ports(table), clock=clock, staff=directory, sessions=sessions,
    )  # fmt: skip
    return ctx, directory, sessions


def test_signing_in_stores_the_hash_and_gives_the_id_once(office):
    ctx, _, sessions = office

    opened = back_office.sign_in(" lager@shop.example ", "right", ctx)

    assert len(opened.session_id) >= 43 and len(opened.session.csrf_token) >= 43
    assert list(sessions.items) == [session_id_hash(opened.session_id)]
    assert opened.session.role is Role.WAREHOUSE
    assert opened.session.actor == "backoffice:sub-1234"  # no address in the history
    assert back_office.current_session(opened.session_id, ctx) == opened.session


def test_a_request_moves_the_idle_expiry_at_most_once_a_minute(office, clock):
    ctx, _, sessions = office
    opened = back_office.sign_in("a@shop.example", "right", ctx)

    clock.advance(seconds=30)
    back_office.current_session(opened.session_id, ctx)
    clock.advance(minutes=25)
    back_office.current_session(opened.session_id, ctx)
    clock.advance(minutes=25)  # 50 minutes after the sign-in, 25 after the last request

    assert back_office.current_session(opened.session_id, ctx).last_seen_at == clock.now
    assert sessions.touches == 2


def test_an_idle_session_is_refused_and_deleted(office, clock):
    ctx, _, sessions = office
    opened = back_office.sign_in("a@shop.example", "right", ctx)
    clock.advance(minutes=31)

    with pytest.raises(NotSignedIn):
        back_office.current_session(opened.session_id, ctx)
    assert sessions.items == {}


def test_a_state_changing_request_checks_the_csrf_token_before_the_role(office):
    ctx, _, _ = office
    opened = back_office.sign_in("a@shop.example", "right", ctx)

    with pytest.raises(CsrfTokenInvalid):
        back_office.authorize(opened.session_id, Permission.REFUND, ctx, state_changing=True)
    with pytest.raises(NotPermitted):
        back_office.authorize(
            opened.session_id, Permission.REFUND, ctx,
            csrf_token=opened.session.csrf_token, state_changing=True,
        )  # fmt: skip
    assert back_office.authorize(opened.session_id, Permission.SHIP, ctx) == opened.session


def test_signing_out_deletes_the_session_and_signs_out_at_the_provider(office):
    ctx, directory, sessions = office
    opened = back_office.sign_in("a@shop.example", "right", ctx)

    back_office.sign_out(opened.session_id, opened.session.csrf_token, ctx)

    assert sessions.items == {} and directory.signed_out == ["a@shop.example"]
    with pytest.raises(NotSignedIn):
        back_office.current_session(opened.session_id, ctx)
