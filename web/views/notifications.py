"""In-app notifications with an unread count: by kind (colour and icon), linked to what they are about, filtered,
and bundled into one digest line when many of a kind arrive at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from engine.models import HumanTask
from meeting.notify import NotificationView, mark_read, page_for, unread_by_kind
from web.auth import me
from web.paging import page_args, pager_links
from web.params import parse_int
from web.services import database, workflow

bp = Blueprint("notifications", __name__)
# In the order of the filter: what needs action first.
KIND_LABELS = {"supervision": "督办", "reminder": "催办", "returned": "退回", "task": "新待办",
               "decision": "决定", "issued": "印发", "info": "通知"}
# More than this many of one kind within one minute read as one digest line that opens to the list.
DIGEST_FROM = 4
PAGE_SIZE = 100  # a page of the list (keyset paging: older pages through 下一页)


@dataclass
class Shown:
    """One notification as the page shows it: where its link goes (only to a page that exists) and, for a task,
    whether it is already done."""

    view: NotificationView
    href: str | None
    task_done: bool = False


@dataclass
class Group:
    kind: str
    at: datetime
    items: list[Shown] = field(default_factory=list)

    @property
    def digest(self) -> bool:
        return len(self.items) >= DIGEST_FROM

    @property
    def unread(self) -> int:
        return sum(1 for i in self.items if i.view.unread)


def _served(path: str | None) -> str | None:
    """The link when it is a page of this site (a notification may name a record that has no page)."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return None
    try:
        current_app.url_map.bind("").match(path.split("?", 1)[0].split("#", 1)[0], method="GET")
    except HTTPException:
        return None
    return path


def _shown(notes: list[NotificationView]) -> list[Shown]:
    task_ids = {n.notification.link[len("/tasks/"):] for n in notes
                if (n.notification.link or "").startswith("/tasks/")}
    done: set[str] = set()
    if task_ids:
        with database().sessions() as s:
            done = set(s.scalars(select(HumanTask.id).where(HumanTask.id.in_(task_ids),
                                                            HumanTask.state != "READY")))
    out = []
    for n in notes:
        link = n.notification.link or ""
        out.append(Shown(n, _served(link), link.startswith("/tasks/") and link[len("/tasks/"):] in done))
    return out


def _grouped(shown: list[Shown]) -> list[Group]:
    """Consecutive notifications of one kind sent within the same minute form a group (newest first)."""
    groups: list[Group] = []
    for item in shown:
        note = item.view.notification
        minute = note.created_at.replace(second=0, microsecond=0)
        last = groups[-1] if groups else None
        if last is not None and last.kind == note.kind and last.at == minute:
            last.items.append(item)
        else:
            groups.append(Group(note.kind, minute, [item]))
    return groups


@bp.get("/notifications")
@login_required
def index() -> Any:
    user = me()
    unread_only = request.args.get("unread") == "1"
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_LABELS:
        abort(404)
    paging = page_args(PAGE_SIZE)
    with database().sessions() as s:
        found = page_for(s, user.username, sorted(user.groups), paging.limit, paging.after, paging.before,
                         unread_only=unread_only, kinds=(kind,) if kind else None)
        notes = found.rows
        unread = unread_by_kind(s, user.username, sorted(user.groups))
    return render_template("notifications.html", groups=_grouped(_shown(notes)), kinds=KIND_LABELS,
                           kind=kind, unread_only=unread_only, unread=unread, pager=pager_links(found, paging))


@bp.post("/notifications/read")
@login_required
def read() -> Any:
    user = me()
    ids = [n for i in request.form.getlist("id") if (n := parse_int(i)) is not None] or None
    with database().transaction() as s:
        mark_read(s, user.username, sorted(user.groups), workflow().now(), ids)
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("notifications.index"))
