"""In-app notifications with an unread count."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from meeting.notify import list_for, mark_read
from web.auth import me
from web.services import database, workflow

bp = Blueprint("notifications", __name__)
KIND_LABELS = {"task": "新待办", "returned": "退回", "reminder": "催办", "supervision": "督办",
               "decision": "决定", "issued": "印发", "info": "通知"}


@bp.get("/notifications")
@login_required
def index() -> Any:
    user = me()
    unread_only = request.args.get("unread") == "1"
    with database().sessions() as s:
        notes = list_for(s, user.username, sorted(user.groups), unread_only=unread_only, limit=200)
    return render_template("notifications.html", notes=notes, kinds=KIND_LABELS, unread_only=unread_only)


@bp.post("/notifications/read")
@login_required
def read() -> Any:
    user = me()
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()] or None
    with database().transaction() as s:
        mark_read(s, user.username, sorted(user.groups), workflow().now(), ids)
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("notifications.index"))
