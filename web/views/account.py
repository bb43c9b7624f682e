"""个人设置 (/account): one's own details and password; and the sign-in policy where it acts on every request.

* A person signing in with a one-time password, or with a password past its age, is sent to change it and can
  do nothing else until they have (pages redirect, the API answers 403).
* A session idle longer than the policy allows ends: the next request signs the person out. Idle time is wall
  time (``IDLE_CLOCK``, a callable returning seconds, lets tests move it), not the workflow clock that tests and
  rehearsals move by days.
* Within the warning days before a password expires, signing in shows how many days are left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from engine.errors import FormError
from meeting import roles, signin
from meeting.accounts import revoke_sessions
from meeting.models import Unit, User
from web.auth import load_web_user, me
from web.services import database, workflow

bp = Blueprint("account", __name__, url_prefix="/account")
POLICY_TTL = 10.0  # seconds a process keeps the policy before reading it again
OPEN_WHILE_CHANGING = {"account.password", "auth.logout", "auth.login", "auth.language", "static"}
MUST_CHANGE = "must_change_password"
SEEN = "seen_at"


@dataclass
class _Cached:
    policy: signin.SignInPolicy
    until: float


def current_policy(app: Flask | None = None) -> signin.SignInPolicy:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached: _Cached | None = app.extensions.get("signin_policy")
    now = time.monotonic()
    if cached is None or cached.until < now:
        with database(app).sessions() as s:
            cached = _Cached(signin.load(s), now + POLICY_TTL)
        app.extensions["signin_policy"] = cached
    return cached.policy


def forget_policy() -> None:
    current_app.extensions.pop("signin_policy", None)


def _wall() -> float:
    clock = current_app.config.get("IDLE_CLOCK")
    return float(clock()) if callable(clock) else time.time()


def after_sign_in(username: str) -> str | None:
    """Called by the login view once the person is signed in: where they must go first, if anywhere."""
    session[SEEN] = _wall()
    policy = current_policy()
    with database().sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        state = signin.state(user, policy, workflow().now()) if user is not None else None
    if state is None:
        return None
    if state.must_change:
        session[MUST_CHANGE] = state.must_change
        return url_for("account.password")
    if state.warn(policy):
        flash(f"您的密码将在 {state.days_left} 天后过期，请及时修改。", "warning")
    return None


@bp.before_app_request
def enforce_policy() -> Any:
    if request.endpoint == "static" or not current_user.is_authenticated or g.get("token_auth"):
        return None
    now = _wall()
    seen = session.get(SEEN)
    idle = current_policy().idle_minutes * 60
    if isinstance(seen, int | float) and now - seen > idle:
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return jsonify(error="unauthorized", message="长时间未操作，已自动退出，请重新登录。"), 401
        flash(f"超过 {idle // 60} 分钟未操作，已自动退出，请重新登录。", "warning")
        return redirect(url_for("auth.login", next=request.path if request.method == "GET" else None))
    if not isinstance(seen, int | float) or now - seen > 15:  # not a new cookie on every request
        session[SEEN] = now
    if session.get(MUST_CHANGE) and request.endpoint not in OPEN_WHILE_CHANGING:
        if request.path.startswith("/api/"):
            return jsonify(error="password_change_required", message="请先修改密码。"), 403
        return redirect(url_for("account.password"))
    return None


@bp.get("")
@login_required
def index() -> Any:
    with database().sessions() as s:
        user = s.scalar(select(User).where(User.username == me().username))
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        policy = current_policy()
        return render_template("account/index.html", person=user, policy=policy,
                               state=signin.state(user, policy, workflow().now()) if user else None,
                               held=[roles.group_label(r, names) for r in (user.role_names if user else [])],
                               unit_name=names.get(user.unit_code or "", "") if user else "")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            with database().transaction() as s:
                user = s.scalar(select(User).where(User.username == me().username))
                if user is None:
                    raise FormError({"current": "账号不存在"})
                now = workflow().now()
                signin.change_own(s, user, form.get("current", ""), form.get("password", ""),
                                  form.get("confirm", ""), at=now)
                revoke_sessions(s, user.username, now)
        except FormError as exc:
            errors = exc.errors
        else:
            # Every other session of this person ended with the new session key; this browser stays signed in.
            fresh = load_web_user(me().username)
            if fresh is not None:
                login_user(fresh)
            session.pop(MUST_CHANGE, None)
            flash("密码已修改。", "success")
            return redirect(url_for("tasks.inbox"))
    policy = current_policy()
    return render_template("account/password.html", errors=errors, policy=policy,
                           reason=session.get(MUST_CHANGE)), 422 if errors else 200
