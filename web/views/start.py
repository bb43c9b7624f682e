"""Starting work: the processes this user may start."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine.errors import Forbidden
from web.auth import me
from web.services import workflow

bp = Blueprint("start", __name__)

DESCRIPTIONS = {
    "topic_proposal": "向联席会议办公室提出需联席会议讨论的议题和事项。",
    "joint_meeting": "拟定会议方案，报召集人审定后召开联席会议。",
    "membership_change": "成员单位因职能变化需要调整的，由所在单位提出，报经区政府研究确定。",
}
ADHOC_HELP = "根据区政府工作需要，可以临时召集会议。"


@bp.get("/start")
@login_required
def index() -> Any:
    entries = workflow().startable(me().actor)
    for e in entries:
        e["description"] = ADHOC_HELP if e["kind"] == "message" else DESCRIPTIONS.get(e["process_key"], "")
    return render_template("start.html", entries=entries)


@bp.post("/start")
@login_required
def start() -> Any:
    service, user = workflow(), me()
    key = request.form.get("process_key", "")
    event = request.form.get("start_event", "")
    entry = next((e for e in service.startable(user.actor)
                  if e["process_key"] == key and e["start_event"] == event), None)
    if entry is None:
        raise Forbidden("您无权发起此流程")
    if entry["kind"] == "message":
        reason = request.form.get("reason", "").strip()
        if not reason:
            flash("请填写召开临时会议的事由。", "danger")
            return redirect(url_for("start.index"))
        variables = {"adhoc_request": {"reason": reason[:2000],
                                       "suggested_date": request.form.get("suggested_date", "")[:10] or None}}
        result = service.send_message(entry["message"], user.actor, variables)
    else:
        result = service.start(key, user.actor, start_event=event)
    flash(f"已发起“{entry['name']}”。", "success")
    mine = [t for t in service.tasks_for(user.actor, "mine") if t.instance_id == result.instance_id]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(url_for("tasks.inbox"))
