"""Who is signed in: Flask-Login sessions for pages, personal bearer tokens for the JSON API.

A session cookie names the user and their session key (meeting.accounts.revoke_sessions): when the key changes
(sign-out, password change, deactivation) every cookie issued before is refused, in every browser. An API call
that carries an ``Authorization`` header is authenticated by that header alone; a session cookie sent along is
ignored, so a cookie-authenticated write can never skip the CSRF check by adding a header (web/views/api.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import aliased

from engine.access import Actor
from meeting import directory
from meeting.accounts import user_for_token
from meeting.cases import Viewer, viewer_for
from meeting.models import Unit, User, UserRole
from web.services import database, workflow

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = "strong"


@dataclass
class WebUser(UserMixin):
    username: str
    display_name: str
    unit_code: str | None
    unit_name: str | None
    groups: frozenset[str]
    session_key: str = ""

    def get_id(self) -> str:
        return f"{self.username}:{self.session_key}"

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.groups, self.unit_code)

    def has(self, *groups: str) -> bool:
        return bool(self.groups & set(groups))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups


# Every request of a signed-in user reads them: the user, their unit's name, their roles and whether any unit was
# merged into theirs, in one statement (the roles as one comma-separated string).
_ROLES = (select(func.aggregate_strings(UserRole.role, ",")).where(UserRole.user_id == User.id)
          .scalar_subquery())
_MERGED_UNIT = aliased(Unit)
_MERGED = exists().where(_MERGED_UNIT.merged_into == User.unit_code)
_SIGNED_IN = (select(User.username, User.display_name, User.unit_code, User.active, User.session_key, Unit.name,
                     _ROLES, _MERGED)
              .outerjoin(Unit, Unit.code == User.unit_code).where(User.username == bindparam("username")))


def load_web_user(username: str) -> WebUser | None:
    with database().single_reads() as s:  # every request: one round trip on PostgreSQL
        return _signed_in(s, username)


def _signed_in(s: Any, username: str) -> WebUser | None:
    """The active user ``username`` as a request acts for them (None when unknown or deactivated)."""
    row = s.execute(_SIGNED_IN, {"username": username}).first()
    if row is None or not row.active:
        return None
    name, display, unit, _active, key, unit_name, roles, merged = row
    groups = [*(roles.split(",") if roles else ()), *([f"unit:{unit}"] if unit else [])]
    if merged:
        groups += [f"unit:{code}" for code in directory.merged_codes(s, unit)]
    return WebUser(name, display, unit, (unit_name or unit) if unit else None, frozenset(groups), key or "")


@login_manager.user_loader
def _load(user_id: str) -> WebUser | None:
    """The user a session cookie names, if its session key is still theirs."""
    username, _, key = user_id.rpartition(":")
    if not username or not key:
        return None  # a cookie from before session keys existed: sign in again
    user = load_web_user(username)
    if user is None or user.session_key != key:
        return None
    return user


def token_user(req: Any) -> WebUser | None:
    """The user of a valid ``Authorization: Bearer`` token (None for anything else)."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    with database().transaction() as s:
        user = user_for_token(s, header[7:].strip(), workflow().now())
        if user is None:
            return None
        g.token_auth = True
        return _signed_in(s, user.username)


@login_manager.request_loader
def _load_from_token(req: Any) -> WebUser | None:
    return token_user(req)


def authenticate_by_header() -> bool:
    """For a request with an ``Authorization`` header: make its token's user the current user, whatever session
    cookie came along. False when the header holds no valid token (the caller answers 401)."""
    user = token_user(request)
    if user is None:
        return False
    g._login_user = user  # Flask-Login's current user for this request; the session is not consulted
    return True


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify(error="unauthorized", message="请先登录或提供有效的 API 令牌。"), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def me() -> WebUser:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def case_viewer() -> Viewer:
    """The signed-in user as the towns' cases and household checks see them (district, town, department)."""
    user = me()
    with database().sessions() as s:
        return viewer_for(s, user.username, user.groups, user.unit_code)


def roles_required(*groups: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow only users in one of ``groups`` (admins always)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not me().has(*groups, "admin"):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
