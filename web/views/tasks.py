"""The inbox and the task page: claim, release, hand over, complete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_required
from sqlalchemy import func, or_, select

from engine.activity import bundled_model
from engine.errors import (
    Conflict,
    Forbidden,
    FormError,
    HeldByOther,
    InstanceNotActive,
    NotFound,
    TaskAlreadyDone,
)
from engine.models import HumanTask, Instance, ProcessModel
from engine.paging import page
from engine.queries import TASK_ORDERS
from meeting import directory
from meeting.context import subjects
from meeting.models import User
from meeting.notify import audience as audience_of
from meeting.runtime import actor_for
from meeting.summaries import task_summaries
from web.auth import me
from web.diagrams import diagram_response
from web.filters import local_time
from web.history import Entry, HistoryBuilder, related_tasks
from web.loaders import load_task_or_abort
from web.paging import page_args, pager_links
from web.services import database, workflow
from web.taskforms import TaskSubmission, field_views, typed_values

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


def _remembered(name: str, allowed: Any, fallback: str) -> str:
    """A list setting (tab, sort) from the query, else the one the user last chose, kept in the session."""
    value = request.args.get(name)
    if value is not None:
        if value not in allowed:
            abort(404)
        session[f"inbox_{name}"] = value
        return value
    kept = session.get(f"inbox_{name}")
    return kept if kept in allowed else fallback


def _rows(s: Any, rows: list[HumanTask]) -> list[dict[str, Any]]:
    """What each inbox row shows: the summary of its record, the process it comes from, the person holding it."""
    summaries = task_summaries(s, [r.context for r in rows], [(r.instance_id, r.completed_by) for r in rows])
    process_names = dict(s.execute(select(ProcessModel.key, ProcessModel.name)).all())
    people = {r.assignee for r in rows if r.assignee}
    names = dict(s.execute(select(User.username, User.display_name).where(User.username.in_(people))).all()) \
        if people else {}
    items = []
    for r, summary in zip(rows, summaries, strict=True):
        process = process_names.get(r.process_key, "")
        subject = summary.subject or (
            f"{process}（{r.name}，待填写）" if r.state == "READY" else f"{process}（{r.name}）")
        items.append({"task": r, "summary": summary, "process": process,
                      "subject": subject,
                      "source": summary.source or process,
                      "urgent": summary.urgent or ("紧急" if (r.priority or 50) > 50 else ""),
                      "number": summary.number or r.business_key or "",
                      "holder": names.get(r.assignee or "", "") if r.assignee else ""})
    return items


@bp.get("/tasks")
@login_required
def inbox() -> Any:
    q = request.args.get("q", "").strip()[:100]
    sort = _remembered("sort", ("due", "created"), "due")
    with database().single_reads() as s:  # counts and page need no shared snapshot
        counts = _counts(s)
        # A first visit opens the tab that has work in it; later the one last chosen.
        first = "mine" if counts["mine"] or not counts["claimable"] else "claimable"
        tab = _remembered("tab", dict(TABS), first)
        stmt = _tab_query(tab)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(or_(HumanTask.name.ilike(like), HumanTask.business_key.ilike(like)))
        args = page_args(PAGE_SIZE)
        found = page(s, stmt, TASK_ORDERS["done" if tab == "done" else sort], args.limit, args.after, args.before)
        items = _rows(s, found.rows)
    return render_template("inbox.html", tabs=TABS, tab=tab, counts=counts, items=items, q=q, sort=sort,
                           pager=pager_links(found, args))


def _page(task: HumanTask, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> Any:
    service, user = workflow(), me()
    data = values if values is not None else (service.task_data(task.id, user.actor) if task.state == "READY" else {})
    instance_tasks = service.instance_tasks(task.instance_id)
    with database().sessions() as s:
        fields = field_views(s, task.form, data, errors)
        about = subjects(s, task.context)
        inst = s.get(Instance, task.instance_id)
        model = s.get(ProcessModel, inst.model_id) if inst else None
        names = dict(s.execute(select(User.username, User.display_name)).all())
        colleagues = []
        if task.state == "READY" and task.assignee == user.username:
            colleagues = _colleagues(s, task, user.username)
        history, full_history = _history(s, task, instance_tasks, names)
    completed = sorted({t.bpmn_id for t in instance_tasks if t.state == "COMPLETED"})
    return render_template(
        "task.html", task=task, fields=fields, subjects=about, instance=inst, model=model, history=history,
        full_history=full_history, may_read_all=_may_read_all(), names=names,
        may_work=service.may_work(task, user.actor), colleagues=colleagues,
        completed_ids=",".join(completed), errors=errors or {},
        comment_box=not any(f.type == "text" for f in fields),
    ), status


def _may_read_all() -> bool:
    """Who supervises the process reads every party's steps (``全部经过``)."""
    return bool(me().actor.groups & workflow().supervisor_groups)


def _history(s: Any, task: HumanTask, tasks: list[HumanTask], names: dict[str, str]) -> tuple[list[Entry], bool]:
    """The scoped history, or the whole instance's when asked for by someone who may read it."""
    service, user = workflow(), me()
    builder = HistoryBuilder(s, task, tasks, names)
    events = service.history(task.instance_id)
    if request.args.get("history") == "all" and _may_read_all():
        return builder.full(events), True
    supervisor = _may_read_all()
    related = related_tasks(task, tasks, user.actor.groups, user.username, supervisor)
    audience = None if supervisor else audience_of(user.username, sorted(user.groups))
    return builder.scoped(events, related, audience, user.username), False


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
        return _conflict(task_id, exc)
    except HeldByOther as exc:
        return _conflict(task_id, exc)
    flash(f"“{submission.task_name}”已办理。", "success")
    return redirect(url_for("tasks.inbox"))


def _person(s: Any, username: str | None) -> str:
    """Who did it, as the reader says it: 您, a colleague's name, or 系统."""
    if not username or username == "system":
        return "系统"
    if username == me().username:
        return "您"
    return s.scalar(select(User.display_name).where(User.username == username)) or "其他人员"


def _conflict(task_id: str, exc: TaskAlreadyDone | HeldByOther) -> Any:
    """409: the task was done or signed for meanwhile (by whom and when), and what this submission held, by
    label."""
    task = load_task_or_abort(task_id)
    with database().sessions() as s:
        who = _person(s, exc.by)
        typed = typed_values(s, task.form, request.form)
    comment = request.form.get("_comment", "").strip()
    if comment:
        typed.append(("办理说明", comment))
    return render_template("conflict.html", task=task, exc=exc, who=who, typed=typed,
                           held=isinstance(exc, HeldByOther)), 409


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
        with database().sessions() as s:
            who = _person(s, exc.by)
        verb = "办理" if exc.state == "COMPLETED" else "取消"
        flash(f"此任务已由{who}于{local_time(exc.at)}{verb}，无需签收。", "warning")
    except InstanceNotActive:
        raise  # suspended or ended: the conflict page says so
    except Conflict:  # another person took it first
        with database().sessions() as s:
            holder = s.scalar(select(HumanTask.assignee).where(HumanTask.id == task_id))
            who = _person(s, holder)
        flash(f"此任务已由{who}签收。", "warning")
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
    with database().sessions() as s:
        name = s.scalar(select(User.display_name).where(User.username == to)) or ""
    flash(f"已转交给{name}。", "success")
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
        drawn = _defining_model(s, model, task.bpmn_id)
        return diagram_response(drawn.xml, f"{drawn.key}-v{drawn.version}.bpmn")


def _defining_model(s: Any, model: ProcessModel, bpmn_id: str) -> ProcessModel:
    """The diagram that draws the task: the instance's own, or the version of a process it calls (an item's
    落实 runs inside the meeting's instance but is drawn in the item's process)."""
    marker = f'id="{bpmn_id}"'
    if marker in model.xml:
        return model
    for key in model.called or []:
        called = bundled_model(s, model, str(key))
        if called is not None and marker in called.xml:
            return called
    return model
