"""Sign-in: password checks with throttling, and personal API tokens (only their hashes are stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from meeting.models import ApiToken, LoginAttempt, User
from meeting.passwords import hash_password, verify_password

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
TOKEN_PREFIX = "jm_"


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    throttled: bool = False


def authenticate(session: Session, username: str, password: str, now: datetime, remote: str | None = None
                 ) -> LoginResult:
    """Check a password. After MAX_FAILURES failures within WINDOW the name is locked until the window passes."""
    username = (username or "").strip()[:64]
    since = now - WINDOW
    failures = session.scalar(select(func.count()).select_from(LoginAttempt)
                              .where(LoginAttempt.username == username, LoginAttempt.at >= since)) or 0
    if failures >= MAX_FAILURES:
        first = session.scalar(select(func.min(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.at >= since))
        wait = max(1, int(((first or now) + WINDOW - now).total_seconds() // 60) + 1)
        return LoginResult(None, f"登录失败次数过多，请 {wait} 分钟后再试。", throttled=True)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(user.password_hash, password or ""):
        session.add(LoginAttempt(username=username, remote=(remote or "")[:64], at=now))
        return LoginResult(None, "用户名或密码不正确。")
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    return LoginResult(user)


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < 8:
        raise ValueError("密码至少 8 位")
    user.password_hash = hash_password(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, now: datetime) -> str:
    """Returns the token once; only its SHA-256 is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], token_sha256=_digest(token), created_at=now))
    return token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked.is_(False)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user
