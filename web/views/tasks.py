"""The inbox and the task page: claim, release, hand over, complete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, or_, select

from engine.errors import Forbidden, FormError, NotFound, TaskAlreadyDone
from engine.models import HumanTask, Instance, ProcessModel
from meeting import directory
from meeting.context import subject_titles, subjects
from meeting.models import Unit, User
from meeting.runtime import actor_for
from web.auth import me
from web.loaders import load_task_or_abort
from web.services import database, workflow
from web.taskforms import TaskSubmission, field_views

bp = Blueprint("tasks", __name__)
TABS = (("mine", "我的待办"), ("claimable", "本单位待签收"), ("due_soon", "即将到期"), ("overdue", "已逾期"),
        ("done", "已办"))
PAGE_SIZE = 50


def _tab_query(tab: str) -> Any:
    service, actor = workflow(), me().actor
    now = service.now()
    if tab in ("mine", "claimable", "done"):
        return service.task_query(actor, tab)
    stmt = service.task_query(actor, "open")
    if tab == "due_soon":
        return stmt.where(HumanTask.due_at >= now, HumanTask.due_at <= now + timedelta(days=3))
    if tab == "overdue":
        return stmt.where(HumanTask.due_at < now)
    abort(404)


def _counts(s: Any) -> dict[str, int]:
    """The five tab counts in two queries: one pass over the open tasks (mine, claimable, due soon, overdue:
    the same conditions as ``_tab_query``) and the done ones. Every inbox page shows them, so their cost is
    part of the inbox time bench/run.py measures at 10k and 100k open instances."""
    service, actor = workflow(), me().actor
    now = service.now()
    open_ = service.task_query(actor, "open").with_only_columns(HumanTask.assignee, HumanTask.due_at).subquery()
    mine, claimable, due_soon, overdue = s.execute(select(
        func.count().filter(open_.c.assignee == actor.username),
        func.count().filter(open_.c.assignee.is_(None)),
        func.count().filter(open_.c.due_at >= now, open_.c.due_at <= now + timedelta(days=3)),
        func.count().filter(open_.c.due_at < now))).one()
    done = s.scalar(select(func.count()).select_from(service.task_query(actor, "done").subquery()))
    return {"mine": mine or 0, "claimable": claimable or 0, "due_soon": due_soon or 0, "overdue": overdue or 0,
            "done": done or 0}


def _group_label(groups: list[str], units: dict[str, str]) -> str:
    labels = {"office": "联席会议办公室", "convener": "召集人", "district": "区政府", "admin": "管理员",
              "designer": "流程设计"}
    out = []
    for g in groups:
        out.append(units.get(g[5:], g[5:]) if g.startswith("unit:") else labels.get(g, g))
    return "、".join(out)


@bp.get("/tasks")
@login_required
def inbox() -> Any:
    tab = request.args.get("tab", "mine")
    if tab not in dict(TABS):
        abort(404)
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "due")
    with database().sessions() as s:
        counts = _counts(s)
        stmt = _tab_query(tab)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(or_(HumanTask.name.ilike(like), HumanTask.business_key.ilike(like)))
        if tab == "done":
            stmt = stmt.order_by(HumanTask.completed_at.desc())
        elif sort == "created":
            stmt = stmt.order_by(HumanTask.created_at.desc())
        else:
            stmt = stmt.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at)
        rows = list(s.scalars(stmt.limit(PAGE_SIZE)))
        titles = subject_titles(s, [r.context for r in rows])
        process_names = dict(s.execute(select(ProcessModel.key, ProcessModel.name)).all())
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
    items = [{"task": r, "subject": t, "process": process_names.get(r.process_key, r.process_key),
              "unit": _group_label(r.candidate_groups or [], units) or (r.assignee or "")}
             for r, t in zip(rows, titles, strict=True)]
    return render_template("inbox.html", tabs=TABS, tab=tab, counts=counts, items=items, q=q, sort=sort)


def _page(task: HumanTask, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> Any:
    service, user = workflow(), me()
    data = values if values is not None else (service.task_data(task.id, user.actor) if task.state == "READY" else {})
    with database().sessions() as s:
        fields = field_views(s, task.form, data, errors)
        about = subjects(s, task.context)
        inst = s.get(Instance, task.instance_id)
        model = s.get(ProcessModel, inst.model_id) if inst else None
        names = dict(s.execute(select(User.username, User.display_name)).all())
        colleagues = []
        if task.state == "READY" and task.assignee == user.username:
            colleagues = _colleagues(s, task, user.username)
    history = service.history(task.instance_id)
    instance_tasks = service.instance_tasks(task.instance_id)
    completed = sorted({t.bpmn_id for t in instance_tasks if t.state == "COMPLETED"})
    return render_template(
        "task.html", task=task, fields=fields, subjects=about, instance=inst, model=model, history=history,
        names=names, may_work=service.may_work(task, user.actor), colleagues=colleagues,
        completed_ids=",".join(completed), errors=errors or {},
    ), status


def _colleagues(s: Any, task: HumanTask, username: str) -> list[tuple[str, str]]:
    out = []
    for u in s.scalars(select(User).where(User.active, User.username != username).order_by(User.username)):
        groups = set(directory.groups_of(s, u.username))
        if groups & set(task.candidate_groups or []) or u.username in (task.candidate_users or []):
            out.append((u.username, u.display_name))
    return out


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str) -> Any:
    return _page(load_task_or_abort(task_id))


@bp.post("/tasks/<task_id>")
@login_required
def complete(task_id: str) -> Any:
    """One command: the service locks the task and checks the user, then the submission reads the form and
    stores its files in that same transaction; any refusal rolls all of it back."""
    service, user = workflow(), me()
    submission = TaskSubmission(request, user.username, service.now())
    comment = request.form.get("_comment", "").strip()[:2000] or None
    try:
        service.complete(task_id, user.actor, {}, comment=comment, prepare=submission.prepare)
    except FormError as exc:
        return _refused(task_id, submission, exc)
    except TaskAlreadyDone as exc:
        return render_template("conflict.html", task=load_task_or_abort(task_id), exc=exc,
                               submitted=request.form), 409
    flash(f"“{submission.task_name}”已办理。", "success")
    return redirect(url_for("tasks.inbox"))


def _refused(task_id: str, submission: TaskSubmission, exc: FormError) -> Any:
    """The form again with each field's message and what was typed (422)."""
    flash("表单有误，请按提示修改后再提交。", "danger")
    if submission.dropped_uploads:
        flash("所选附件未保存，请改正后重新选择文件再提交。", "warning")
    return _page(load_task_or_abort(task_id), submission.redisplay(), exc.errors, status=422)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    try:
        workflow().claim(task_id, me().actor)
        flash("已签收，任务已移入“我的待办”。", "success")
    except TaskAlreadyDone as exc:
        flash(exc.message, "warning")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> Any:
    workflow().unclaim(task_id, me().actor)
    flash("已退回签收，本单位其他人员可以签收。", "info")
    return redirect(url_for("tasks.inbox", tab="claimable"))


@bp.post("/tasks/<task_id>/delegate")
@login_required
def delegate(task_id: str) -> Any:
    to = request.form.get("to", "").strip()
    try:
        target = actor_for(database(), to)
    except NotFound:
        raise Forbidden("请选择本单位的同事") from None
    workflow().delegate(task_id, me().actor, target)
    flash(f"已转交给 {to}。", "success")
    return redirect(url_for("tasks.inbox"))


@bp.get("/tasks/<task_id>/diagram.bpmn")
@login_required
def diagram(task_id: str) -> Any:
    task = load_task_or_abort(task_id)
    with database().sessions() as s:
        inst = s.get(Instance, task.instance_id)
        model = s.get(ProcessModel, inst.model_id) if inst else None
        if model is None:
            abort(404)
        return Response(model.xml, mimetype="application/xml")
