"""Sign in, sign out, language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user

from meeting.accounts import authenticate, revoke_sessions
from web.auth import load_web_user, me
from web.i18n import LANGUAGES
from web.services import database, workflow
from web.views.account import after_sign_in

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """A path of this site only: browsers read a backslash as a slash ("/\\evil" is "//evil", another site)."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) and not urlparse(target).netloc):
        return target
    return url_for("tasks.inbox")


@bp.get("/")
def index() -> Any:
    return redirect(url_for("tasks.inbox"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        with database().transaction() as s:
            result = authenticate(s, username, password, workflow().now(), request.remote_addr)
        if result.user is not None:
            user = load_web_user(result.user.username)
            if user is not None:
                session.clear()
                login_user(user)
                session.permanent = True
                first = after_sign_in(user.username)  # a one-time or expired password is changed first
                return redirect(first or _safe_next(request.args.get("next")))
        error = result.error
        current_app.logger.info("login failed for %r from %s", username, request.remote_addr)
        page = render_template("login.html", error=error, username=username)
        if result.throttled:
            return page, 429, {"Retry-After": str(result.retry_after)}
        return page, 401
    return render_template("login.html", error=error, username=username)


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Sign out everywhere: the session key changes, so every cookie of this user (another browser, a copy
    saved before) stops working."""
    with database().transaction() as s:
        revoke_sessions(s, me().username, workflow().now())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Any:
    lang = request.form.get("lang", "zh")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
