"""The back office's people: roles, what each may do, and the rules of a
signed-in session (docs/back-office.md). Plain Python: the sign-in itself
(Cognito) and the session's item (DynamoDB) are adapters behind ports.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import CsrfTokenInvalid, NotPermitted, NotSignedIn, SignInFailed


class Role(StrEnum):
    """A Cognito group of the same name grants it."""

    OWNER = "owner"
    STAFF = "staff"
    WAREHOUSE = "warehouse"


class Permission(StrEnum):
    VIEW_ORDERS = "view_orders"
    SEE_CUSTOMER_EMAIL = "see_customer_email"
    ADD_NOTE = "add_note"
    SHIP = "ship"
    PRINT_PACKING_SLIPS = "print_packing_slips"
    RECORD_RETURN = "record_return"
    MARK_PAID = "mark_paid"
    REFUND = "refund"
    CANCEL = "cancel"
    SETTINGS = "settings"


_WAREHOUSE = frozenset(
    {
        Permission.VIEW_ORDERS,
        Permission.ADD_NOTE,
        Permission.SHIP,
        Permission.PRINT_PACKING_SLIPS,
        # A return without a refund: restocking is the warehouse's work, the
        # money is not (``check_return_refund``).
        Permission.RECORD_RETURN,
    }
)
_STAFF = _WAREHOUSE | {
    Permission.SEE_CUSTOMER_EMAIL,
    Permission.MARK_PAID,
    Permission.REFUND,
    Permission.CANCEL,
}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.STAFF: frozenset(_STAFF),
    Role.WAREHOUSE: _WAREHOUSE,
}

#: The strongest role first: a user in several groups gets the strongest.
_PRECEDENCE = (Role.OWNER, Role.STAFF, Role.WAREHOUSE)


def role_from_groups(groups: Iterable[str]) -> Role:
    """The role the user's Cognito groups grant; none of ours refuses the sign-in."""
    given = set(groups)
    for role in _PRECEDENCE:
        if role.value in given:
            return role
    raise SignInFailed("the address or the password is wrong")


def may(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def require(role: Role, permission: Permission) -> None:
    if not may(role, permission):
        raise NotPermitted("your role does not allow this", permission=permission.value)


def check_return_refund(role: Role, refund: int) -> None:
    """A return may be recorded by the warehouse, its refund only by a role that refunds."""
    require(role, Permission.RECORD_RETURN)
    if refund > 0:
        require(role, Permission.REFUND)


def session_id_hash(session_id: str) -> str:
    """What the table keeps of a session id: its SHA-256, never the id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRules:
    """How long a session lives: since the sign-in at most ``absolute``, and
    without a request at most ``idle``; the last-seen time is written at most
    once per ``touch_every`` (a write per page view would cost more than it tells)."""

    absolute: timedelta
    idle: timedelta
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class StaffSession:
    """A signed-in user of the back office, as the table keeps it."""

    id_hash: str
    subject: str  # Cognito's ``sub``
    username: str
    role: Role
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute expiry
    email: str = ""  # the user's own address, shown as who is signed in

    def idle_until(self, rules: SessionRules) -> datetime:
        return min(self.last_seen_at + rules.idle, self.expires_at)

    def check_alive(self, now: datetime, rules: SessionRules) -> None:
        if now >= self.expires_at or now >= self.idle_until(rules):
            raise NotSignedIn("the session has ended; sign in again")

    def needs_touch(self, now: datetime, rules: SessionRules) -> bool:
        return now - self.last_seen_at >= rules.touch_every

    def touched(self, now: datetime) -> StaffSession:
        return replace(self, last_seen_at=now)

    def check_csrf(self, presented: str | None) -> None:
        """The synchronizer token: a state-changing form carries the one of
        its session (compared in constant time)."""
        if not presented or not hmac.compare_digest(presented.encode(), self.csrf_token.encode()):
            raise CsrfTokenInvalid(
                "the form is outdated or not ours; reload the page and try again"
            )

    @property
    def actor(self) -> str:
        """How the order history names who did it: the user's Cognito ``sub``
        (a prefix), not the address, as history entries reach the logs and events."""
        return f"backoffice:{self.subject[:8]}"


def new_session(
    *,
    session_id: str,
    csrf_token: str,
    subject: str,
    username: str,
    role: Role,
    now: datetime,
    rules: SessionRules,
    email: str = "",
) -> StaffSession:
    return StaffSession(
        id_hash=session_id_hash(session_id),
        subject=subject,
        username=username,
        role=role,
        csrf_token=csrf_token,
        created_at=now,
        last_seen_at=now,
        expires_at=now + rules.absolute,
        email=email,
    )
