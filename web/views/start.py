"""Starting work: the processes this user may start."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.errors import Forbidden, FormError
from engine.models import Attachment
from web.auth import me
from web.services import database, workflow
from web.taskforms import field_views, parse_form, store_uploads

bp = Blueprint("start", __name__)

DESCRIPTIONS = {
    "topic_proposal": "向联席会议办公室提出需联席会议讨论的议题和事项。",
    "joint_meeting": "拟定会议方案，报召集人审定后召开联席会议。",
    "membership_change": "成员单位因职能变化需要调整的，由所在单位提出，报经区政府研究确定。",
    "household_check": "为申请救助的家庭发起经济状况核对：登记家庭成员，上传申请人及家庭成员签字的授权书。",
}
ADHOC_HELP = "根据区政府工作需要，可以临时召集会议。"


@bp.get("/start")
@login_required
def index() -> Any:
    entries = workflow().startable(me().actor)
    wanted = request.args.get("open", "")
    chosen = next((e for e in entries if f"{e['process_key']}:{e['start_event']}" == wanted), None)
    return _page(entries, chosen)


def _page(entries: list[dict[str, Any]], chosen: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, status: int = 200) -> Any:
    """The start cards; a start event with a start form (camunda:formData) shows its fields, and a refused
    submission shows what was entered with a message per field. Two forms asking for the same field (a town's
    window starts both 一门受理 and 救急难, each with the applicant's name) would give two inputs one id, and a
    label would name the wrong one: the later form then shows as a link that opens it (``?open=key:event``)."""
    shown: set[str] = set()
    order = sorted(entries, key=lambda e: e is not chosen)  # the chosen form first: it is always shown whole
    with database().sessions() as s:
        for e in order:
            e["description"] = ADHOC_HELP if e["kind"] == "message" and not e["form"] \
                else DESCRIPTIONS.get(e["process_key"], "")
            mine = e is chosen
            ids = {f["id"] for f in e["form"]}
            e["collapsed"] = bool(ids & shown) and not mine
            if not e["collapsed"]:
                shown |= ids
            e["fields"] = [] if e["collapsed"] else field_views(s, e["form"], (values or {}) if mine else {},
                                                                 errors if mine else None)
    return render_template("start.html", entries=entries), status


@bp.post("/start")
@login_required
def start() -> Any:
    service, user = workflow(), me()
    key = request.form.get("process_key", "")
    event = request.form.get("start_event", "")
    entries = service.startable(user.actor)
    entry = next((e for e in entries if e["process_key"] == key and e["start_event"] == event), None)
    if entry is None:
        raise Forbidden("您无权发起此流程")
    if entry["form"]:
        return _start_with_form(entries, entry)
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
    return _started(entry, result.instance_id)


def _start_with_form(entries: list[dict[str, Any]], entry: dict[str, Any]) -> Any:
    """A start form: only its declared fields are read, the service validates them like a task form."""
    parsed = parse_form(request, entry["form"])
    errors = dict(parsed.errors)
    service, user = workflow(), me()
    stored: dict[str, str] = {}

    def store_files(session: Session) -> dict[str, str]:
        """The files sent with the start form (a signed 授权书 …), stored in the start's own transaction: a
        refused start leaves none behind; they join the instance once it exists."""
        stored.update(store_uploads(session, parsed.uploads, user.username, service.now(), None))
        return stored

    try:
        if errors:
            raise FormError(errors)
        # a message start event with a form starts here too: the values are its start data
        result = service.start(entry["process_key"], user.actor, start_event=entry["start_event"],
                               form_values=parsed.values, prepare=store_files if parsed.uploads else None)
    except FormError as exc:
        flash("开始表单填写有误，请按提示修改。", "danger")
        return _page(entries, entry, parsed.values, exc.errors, 422)
    if stored:
        with database().transaction() as s:
            s.execute(update(Attachment).where(Attachment.id.in_(list(stored.values())))
                      .values(instance_id=result.instance_id))
    return _started(entry, result.instance_id)


def _started(entry: dict[str, Any], instance_id: str) -> Any:
    service, user = workflow(), me()
    flash(f"已发起“{entry['name']}”。", "success")
    # The first step, when it is the starter's (held by them, or open to them to sign for): straight to it.
    first = sorted((t for t in service.tasks_for(user.actor, "open") if t.instance_id == instance_id),
                   key=lambda t: t.assignee != user.username)
    if first:
        return redirect(url_for("tasks.show", task_id=first[0].id))
    return redirect(url_for("tasks.inbox"))
