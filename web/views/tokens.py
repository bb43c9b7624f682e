"""Personal API tokens on the personal settings pages (/account/tokens): each person sees, creates and revokes
their own tokens; a new token is shown once (only its hash is kept). ``flask --app web token`` does the same
from the command line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from meeting.accounts import MAX_TOKEN_TERM, create_token, revoke_token, token_expiry, tokens_of
from meeting.models import User
from web.auth import me
from web.services import database, workflow

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")
TERMS = (30, 90, 180, 365)  # days offered for a new token


def _page(new_token: str | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    now = workflow().now()
    with database().sessions() as s:
        user = s.scalar(select(User).where(User.username == me().username))
        if user is None:
            abort(404)
        rows = [{"token": t, "expires_at": token_expiry(t),
                 "state": "revoked" if t.revoked else ("expired" if token_expiry(t) <= now else "active")}
                for t in tokens_of(s, user)]
    body = render_template("account/tokens.html", rows=rows, terms=TERMS, new_token=new_token,
                           errors=errors or {}, form=request.form if errors else {})
    return body, status, {"Cache-Control": "no-store"}


@bp.get("")
@login_required
def index() -> Any:
    return _page()


@bp.post("")
@login_required
def create() -> Any:
    name = " ".join(request.form.get("name", "").split())
    days = request.form.get("days", "")
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = "请填写令牌用途（100 字以内），以便日后辨认和吊销"
    if not (days.isascii() and days.isdigit() and 1 <= int(days) <= MAX_TOKEN_TERM.days):
        errors["days"] = f"有效期须为 1 到 {MAX_TOKEN_TERM.days} 天"
    if errors:
        return _page(errors=errors, status=422)
    with database().transaction() as s:
        user = s.scalar(select(User).where(User.username == me().username))
        if user is None:
            abort(404)
        token = create_token(s, user, name, workflow().now(), timedelta(days=int(days)))
    return _page(new_token=token, status=201)


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Any:
    with database().transaction() as s:
        user = s.scalar(select(User).where(User.username == me().username))
        row = revoke_token(s, user, token_id) if user is not None else None
        if row is None:
            abort(404)
        name = row.name
    flash(f"令牌“{name}”已吊销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("tokens.index"))
