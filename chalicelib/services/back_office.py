"""The back office's sign-in and sessions (docs/back-office.md).

The password goes to Cognito (``StaffDirectory``), never into our table or
logs; the role comes from the user's Cognito groups. The session is ours: a
random 256-bit id in the browser's cookie, only its SHA-256 in the table,
with an absolute and an idle expiry, and a CSRF token of its own that every
state-changing form carries (the synchronizer token pattern).

The pages' actions call the same use cases the admin API calls
(services/fulfilment.py, payments.py, order_desk.py); this module only says
who is signed in and what their role allows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from chalicelib.domain import staff as rules
from chalicelib.domain.errors import NotSignedIn
from chalicelib.domain.staff import Permission, SessionRules, StaffSession
from chalicelib.observability import logger
from chalicelib.services.context import Context
from chalicelib.services.ports import StaffDirectory, StaffSessions

#: 32 random bytes: the session id and the CSRF token each carry 256 bits.
TOKEN_BYTES = 32


@dataclass(frozen=True)
class NewSession:
    """What the browser is given (the id, once) and the session it names."""

    session_id: str
    session: StaffSession


def _ports(ctx: Context) -> tuple[StaffDirectory, StaffSessions]:
    if ctx.staff is None or ctx.sessions is None:
        raise RuntimeError("the back office needs ctx.staff and ctx.sessions")
    return ctx.staff, ctx.sessions


def session_rules(ctx: Context) -> SessionRules:
    settings = ctx.settings
    return SessionRules(
        absolute=timedelta(hours=settings.back_office_session_hours),
        idle=timedelta(minutes=settings.back_office_idle_minutes),
    )


def sign_in(username: str, password: str, ctx: Context) -> NewSession:
    """Check the password with the identity provider and open a session with
    the role of the user's groups; raises SignInFailed."""
    directory, sessions = _ports(ctx)
    signed_in = directory.sign_in(username.strip(), password)
    role = rules.role_from_groups(signed_in.groups)
    session_id = secrets.token_urlsafe(TOKEN_BYTES)
    session = rules.new_session(
        session_id=session_id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        subject=signed_in.subject,
        username=signed_in.username,
        role=role,
        email=signed_in.email,
        now=ctx.clock(),
        rules=session_rules(ctx),
    )
    sessions.create(session)
    logger.info("back office signed in", role=role.value, session=session.id_hash[:8])
    return NewSession(session_id=session_id, session=session)


def current_session(session_id: str | None, ctx: Context) -> StaffSession:
    """The live session the cookie names; raises NotSignedIn for none, an
    unknown or forged id, or one past either expiry (deleted then)."""
    _, sessions = _ports(ctx)
    if not session_id:
        raise NotSignedIn("sign in to use the back office")
    id_hash = rules.session_id_hash(session_id)
    session = sessions.get(id_hash)
    if session is None:
        raise NotSignedIn("sign in to use the back office")
    now, lifetime = ctx.clock(), session_rules(ctx)
    try:
        session.check_alive(now, lifetime)
    except NotSignedIn:
        sessions.delete(id_hash)
        raise
    if session.needs_touch(now, lifetime):
        sessions.touch(id_hash, now)
        session = session.touched(now)
    return session


def authorize(
    session_id: str | None,
    permission: Permission,
    ctx: Context,
    *,
    csrf_token: str | None = None,
    state_changing: bool = False,
) -> StaffSession:
    """The session, if it is alive, its role allows ``permission`` and, for a
    state-changing request, the form carries the session's CSRF token."""
    session = current_session(session_id, ctx)
    if state_changing:
        session.check_csrf(csrf_token)
    rules.require(session.role, permission)
    return session


def sign_out(session_id: str | None, csrf_token: str | None, ctx: Context) -> None:
    """Delete the session and end the user's Cognito tokens everywhere."""
    directory, sessions = _ports(ctx)
    session = current_session(session_id, ctx)
    session.check_csrf(csrf_token)
    sessions.delete(session.id_hash)
    directory.sign_out_everywhere(session.username)
    logger.info("back office signed out", session=session.id_hash[:8])
