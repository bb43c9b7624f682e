"""The sign-in policy the security administrator sets, and passwords kept to it.

Safe defaults (GB/T 22239 等级保护 second level and common practice): at least 8 characters of at least three of
the four classes (lower case, upper case, digits, symbols), none of the last 5 passwords again, a password lasts
90 days with a warning 14 days before, a one-time password from an administrator is changed at the first sign-in,
and a session idle for 30 minutes ends. The administrator can make every rule stricter, and loosen it only down to
the floors in BOUNDS (a password is never shorter than 8 characters).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import FormError
from meeting import admin_audit
from meeting.models import PasswordHistory, Setting, User
from meeting.passwords import hash_password, verify_password

POLICY_KEY = "signin_policy"
MAX_PASSWORD = 128  # longer input is refused before hashing (argon2 of megabytes would be a cheap attack)
KEEP_HISTORY = 24


@dataclass(frozen=True)
class SignInPolicy:
    min_length: int = 8
    min_classes: int = 3
    history: int = 5
    max_age_days: int = 90  # 0: passwords do not expire
    warn_days: int = 14
    first_login_change: bool = True
    idle_minutes: int = 30


BOUNDS = {"min_length": (8, 64), "min_classes": (1, 4), "history": (0, KEEP_HISTORY),
          "max_age_days": (0, 3650), "warn_days": (0, 90), "idle_minutes": (5, 1440)}
LABELS = {
    "min_length": "密码最短长度（位）",
    "min_classes": "至少包含的字符类别数（小写、大写、数字、符号）",
    "history": "不得与最近几次密码相同",
    "max_age_days": "密码有效期（天，0 为不过期）",
    "warn_days": "到期前几天提醒",
    "first_login_change": "首次登录（及管理员重置后）须修改密码",
    "idle_minutes": "无操作自动退出（分钟）",
}
CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def load(session: Session) -> SignInPolicy:
    """The policy in force: the stored values over the defaults (unknown or broken values are ignored)."""
    row = session.get(Setting, POLICY_KEY)
    stored = row.value if row is not None else {}
    known = {f.name: f.type for f in fields(SignInPolicy)}
    values: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in known:
            continue
        if name in BOUNDS and isinstance(value, int) and not isinstance(value, bool):
            low, high = BOUNDS[name]
            values[name] = min(max(value, low), high)  # a value written around the form stays within the floors
        elif name not in BOUNDS and isinstance(value, bool):
            values[name] = value
    return replace(SignInPolicy(), **values)


def parse(form: dict[str, str]) -> SignInPolicy:
    """A policy from the settings form; FormError names every value out of its bounds."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, (low, high) in BOUNDS.items():
        raw = (form.get(name) or "").strip()
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            errors[name] = f"请填写 {low}–{high} 之间的整数"
            continue
        values[name] = int(raw)
    values["first_login_change"] = form.get("first_login_change") in ("1", "on", "true", "yes")
    if errors:
        raise FormError(errors)
    return SignInPolicy(**values)


def save(session: Session, policy: SignInPolicy, *, actor: str, at: datetime) -> None:
    """Store the policy and record what changed (only the security administrator calls this)."""
    before = asdict(load(session))
    after = asdict(policy)
    row = session.get(Setting, POLICY_KEY)
    if row is None:
        session.add(Setting(key=POLICY_KEY, value=after, updated_by=actor, updated_at=at))
    else:
        row.value, row.updated_by, row.updated_at = after, actor, at
    changes = {LABELS[k]: v for k, v in admin_audit.diff(before, after).items()}
    admin_audit.record(session, "admin.policy.update", actor=actor, at=at, target="policy",
                       summary="修改登录策略", data={"changes": changes})


def classes_in(password: str) -> int:
    found = sum(1 for chars in CLASSES if any(c in chars for c in password))
    return found + (1 if any(not c.isalnum() for c in password) else 0)


def problems(policy: SignInPolicy, password: str, username: str = "") -> list[str]:
    """What is wrong with a new password under the policy (empty when it is acceptable)."""
    found = []
    if len(password) < policy.min_length:
        found.append(f"密码至少 {policy.min_length} 位")
    if len(password) > MAX_PASSWORD:
        found.append(f"密码不能超过 {MAX_PASSWORD} 位")
    if classes_in(password) < policy.min_classes:
        found.append(f"密码须包含小写字母、大写字母、数字、符号中的至少 {policy.min_classes} 类")
    if username and len(username) >= 3 and username.lower() in password.lower():
        found.append("密码不能包含用户名")
    return found


def _reused(session: Session, user: User, password: str, last: int) -> bool:
    if last <= 0:
        return False
    hashes = list(session.scalars(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                                  .order_by(PasswordHistory.id.desc()).limit(last)))
    if user.password_hash and user.password_hash not in hashes:
        hashes = [user.password_hash, *hashes[: last - 1]]
    return any(verify_password(h, password) for h in hashes)


def store(session: Session, user: User, password: str, *, at: datetime, one_time: bool,
          policy: SignInPolicy) -> None:
    """Set a password already checked: hash it, keep it in the history, mark a one-time password."""
    user.password_hash = hash_password(password)
    user.password_changed_at = at
    user.must_change_password = one_time and policy.first_login_change
    session.flush()
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, changed_at=at))
    session.flush()
    keep = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
        .order_by(PasswordHistory.id.desc()).limit(KEEP_HISTORY)
    session.execute(delete(PasswordHistory).where(PasswordHistory.user_id == user.id,
                                                  PasswordHistory.id.not_in(keep.scalar_subquery())))


def set_chosen(session: Session, user: User, password: str, *, at: datetime, policy: SignInPolicy | None = None,
               field: str = "password") -> None:
    """A password the user (or an operator at the command line) chose: the policy applies, reuse included."""
    policy = policy or load(session)
    found = problems(policy, password, user.username)
    if not found and _reused(session, user, password, policy.history):
        found.append(f"不能与最近 {policy.history} 次使用过的密码相同")
    if found:
        raise FormError({field: "；".join(found)})
    store(session, user, password, at=at, one_time=False, policy=policy)


def issue_one_time(session: Session, user: User, *, at: datetime, policy: SignInPolicy | None = None) -> str:
    """A fresh one-time password for ``user`` (shown once to the administrator; changed at first sign-in)."""
    policy = policy or load(session)
    password = one_time_password(policy)
    store(session, user, password, at=at, one_time=True, policy=policy)
    return password


def one_time_password(policy: SignInPolicy) -> str:
    """Random, easy to read aloud (no 0/O, 1/l/I), with a character of every class."""
    pools = ["abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "#%+=@"]
    length = max(12, policy.min_length)
    chars = [secrets.choice(pool) for pool in pools]
    every = "".join(pools)
    chars += [secrets.choice(every) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def change_own(session: Session, user: User, current: str, new: str, confirm: str, *, at: datetime) -> None:
    """The personal page: the current password, the new one twice; FormError per field."""
    if not verify_password(user.password_hash, current or ""):
        raise FormError({"current": "当前密码不正确"})
    if new != confirm:
        raise FormError({"confirm": "两次输入的新密码不一致"})
    if new == current:
        raise FormError({"password": "新密码不能与当前密码相同"})
    set_chosen(session, user, new, at=at)
    admin_audit.record(session, "admin.account.password", actor=user.username, at=at, target=f"user:{user.username}",
                       summary=f"{user.display_name}（{user.username}）修改了本人密码")


@dataclass(frozen=True)
class PasswordState:
    """Whether the user must change the password now (and why), and the days left before it expires."""

    must_change: str | None
    days_left: int | None

    def warn(self, policy: SignInPolicy) -> bool:
        return self.days_left is not None and self.days_left <= policy.warn_days


def state(user: User, policy: SignInPolicy, now: datetime) -> PasswordState:
    if user.must_change_password and policy.first_login_change:
        return PasswordState("您正在使用管理员设置的一次性密码，请先设置自己的密码。", None)
    if policy.max_age_days <= 0 or user.password_changed_at is None:
        return PasswordState(None, None)
    expires = user.password_changed_at + timedelta(days=policy.max_age_days)
    if now >= expires:
        return PasswordState(f"密码已超过 {policy.max_age_days} 天有效期，请修改后继续使用。", 0)
    return PasswordState(None, (expires - now).days)
