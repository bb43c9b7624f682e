"""Sign-in: password checks with throttling, sessions that can be ended, and personal API tokens (only their hashes
are stored).

Throttling slows an attacker down without ever locking the owner out:

* failures are counted over the last hour per account (any address) and per client address (any names); the first
  FREE_FAILURES of an account and ADDRESS_FREE_FAILURES of an address (an office's network may be one address to
  us) are free, after that each attempt waits 2^(n - free) seconds after the last failure, at most MAX_DELAY: an
  attempt made too early is answered "try again in N seconds" without looking at the password, however it would
  have turned out;
* neither delay applies to a user signing in from an address they signed in from successfully in the last
  KNOWN_FOR days (their office): someone guessing from elsewhere slows down only themselves;
* nothing is locked: the delays never exceed MAX_DELAY and end an hour after the last failure;
* an unknown name costs as much work as a known one (the password is checked against a dummy hash), so the
  answer's timing tells nothing about which names exist.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from meeting.models import ApiToken, LoginAttempt, User
from meeting.passwords import hash_password, verify_password

FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
WINDOW = timedelta(hours=1)
MAX_DELAY = timedelta(minutes=15)
KNOWN_FOR = timedelta(days=90)
TOKEN_PREFIX = "jm_"
TOKEN_TERM = timedelta(days=90)  # a token's life unless its owner chooses another (at most MAX_TOKEN_TERM)
MAX_TOKEN_TERM = timedelta(days=366)


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    throttled: bool = False
    retry_after: int = 0  # seconds, when throttled


_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash to check unknown names against, made once per process (argon2 is slow on purpose)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


def delay_after(failures: int, free: int = FREE_FAILURES) -> timedelta:
    """How long after the last failure the next attempt waits: nothing for the first ``free`` failures, then
    1 s, 2 s, 4 s … up to MAX_DELAY."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 20)), MAX_DELAY)


def _failures(session: Session, since: datetime, *where: Any) -> tuple[int, datetime | None]:
    row = session.execute(select(func.count(), func.max(LoginAttempt.at))
                          .where(LoginAttempt.ok.is_(False), LoginAttempt.at >= since, *where)).one()
    return int(row[0] or 0), row[1]


def throttle_wait(session: Session, username: str, remote: str, now: datetime) -> timedelta:
    """How much longer an attempt for ``username`` from ``remote`` must wait (zero: it may go ahead)."""
    known = session.scalar(select(LoginAttempt.id).where(
        LoginAttempt.username == username, LoginAttempt.remote == remote, LoginAttempt.ok.is_(True),
        LoginAttempt.at >= now - KNOWN_FOR).limit(1)) is not None
    since = now - WINDOW
    waits = [timedelta(0)]
    # From an address the owner used, only that address's failures for the account count: guessing elsewhere
    # does not slow the owner down, and guessing from there (a shared office address, or every client seen as
    # the reverse proxy's address) is slowed down like any other.
    limits = (((and_(LoginAttempt.username == username, LoginAttempt.remote == remote), FREE_FAILURES),) if known
              else ((LoginAttempt.remote == remote, ADDRESS_FREE_FAILURES),
                    (LoginAttempt.username == username, FREE_FAILURES)))
    for where, free in limits:
        count, last = _failures(session, since, where)
        if last is not None:
            waits.append(last + delay_after(count, free) - now)
    return max(waits)


def authenticate(session: Session, username: str, password: str, now: datetime, remote: str | None = None
                 ) -> LoginResult:
    """Check a password within the throttling policy of the module docstring. A success remembers the
    address and makes sure the user has a session key (see :func:`revoke_sessions`)."""
    username = (username or "").strip()[:64]
    remote = (remote or "")[:64]
    wait = throttle_wait(session, username, remote, now)
    if wait > timedelta(0):
        seconds = max(1, math.ceil(wait.total_seconds()))
        return LoginResult(None, f"登录尝试过于频繁，请 {seconds} 秒后再试。", throttled=True, retry_after=seconds)
    user = session.scalar(select(User).where(User.username == username))
    usable = user is not None and user.active and bool(user.password_hash)
    # The same argon2 work whether or not the name exists.
    matches = verify_password(user.password_hash if usable and user is not None else _dummy(), password or "")
    if user is None or not usable or not matches:
        session.add(LoginAttempt(username=username, remote=remote, at=now, ok=False))
        return LoginResult(None, "用户名或密码不正确。")
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username,
                                               (LoginAttempt.ok.is_(False)) | (LoginAttempt.remote == remote)
                                               | (LoginAttempt.at < now - KNOWN_FOR)))
    session.add(LoginAttempt(username=username, remote=remote, at=now, ok=True))
    if not user.session_key:
        user.session_key = secrets.token_hex(16)
    return LoginResult(user)


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < 8:
        raise ValueError("密码至少 8 位")
    user.password_hash = hash_password(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, now: datetime, term: timedelta | None = None) -> str:
    """Returns the token once; only its SHA-256 is kept. It works for ``term`` (default TOKEN_TERM, at most
    MAX_TOKEN_TERM) and can be revoked any time."""
    term = TOKEN_TERM if term is None else term
    if not timedelta(0) < term <= MAX_TOKEN_TERM:
        raise ValueError(f"有效期须在 1 到 {MAX_TOKEN_TERM.days} 天之间")
    label = " ".join((name or "").split())[:100] or "API"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=label, token_sha256=_digest(token), created_at=now,
                         expires_at=now + term))
    return token


def token_expiry(row: ApiToken) -> datetime:
    """When a token stops working (a token from before expiries existed gets the default term)."""
    return row.expires_at or row.created_at + TOKEN_TERM


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked.is_(False)))
    if row is None or token_expiry(row) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A user's tokens, newest first (revoked and expired ones too, marked as such)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens (None when they have no such token)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        return None
    row.revoked = True
    return row


def revoke_sessions(session: Session, username: str, now: datetime) -> int:
    """End every signed-in session of ``username``, in every browser: sign-out, a password change, deactivation
    and a change of roles call it. Each session carries the user's session key (web/auth.py); a new key makes
    every cookie issued before it worthless. Returns 1 when the user exists (all their sessions ended), else 0."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return 0
    user.session_key = secrets.token_hex(16)
    return 1
