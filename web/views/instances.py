"""Process instances for the convener, the office and administrators: the list, one instance with its diagram
(completed / active / failed steps), the drill-down into call activities, the audit trail with the submitted
data, suspend / resume / cancel with a reason, and the heatmap of a process version."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from lxml import etree
from sqlalchemy import or_, select

from engine.activity import Scope, bundled_model, heatmap, instances_at, scope_states
from engine.errors import FormError, InstanceNotActive
from engine.models import AuditEvent, HumanTask, Instance, ProcessModel
from engine.paging import Key, capped_count, page
from meeting.context import subject_titles
from meeting.models import Unit, User
from meeting.timeutil import at_local
from web.auth import me, roles_required
from web.diagrams import diagram_response
from web.loaders import load_instance_or_abort
from web.paging import page_args, pager_links
from web.params import parse_date, parse_int
from web.services import database, workflow

bp = Blueprint("instances", __name__)
INSTANCE_ROLES = ("convener", "office")  # and admin
STATUSES = ("running", "suspended", "completed", "cancelled", "error")
PAGE_SIZE = 50
# Newest first (keyset paging, engine/paging.py; the index ix_wf_instance_started serves it).
INSTANCE_ORDER = [Key(Instance.started_at, desc=True), Key(Instance.id, desc=True)]
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _date_arg(key: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(key, "").strip()
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        errors[key] = "日期格式应为 YYYY-MM-DD（1900 至 2199 年）"
    return day


def _open_steps(s: Any, ids: list[str]) -> dict[str, list[str]]:
    """instance id -> the names of its open steps, each once, oldest first."""
    open_steps: dict[str, list[str]] = {}
    for instance_id, name in s.execute(select(HumanTask.instance_id, HumanTask.name)
                                       .where(HumanTask.instance_id.in_(ids), HumanTask.state == "READY")
                                       .order_by(HumanTask.created_at)):
        open_steps.setdefault(instance_id, [])
        if name not in open_steps[instance_id]:
            open_steps[instance_id].append(name)
    return open_steps


def _filtered(args: Any, errors: dict[str, str]) -> Any:
    """The instances the list's filters ask for; a filter that cannot be read is reported in ``errors``."""
    process = args.get("process", "").strip()[:100]
    version = args.get("version", "").strip()
    status = args.get("status", "").strip()
    key = args.get("key", "").strip()[:100]
    starter = args.get("starter", "").strip()[:64]
    started_from, started_to = _date_arg("from", errors), _date_arg("to", errors)
    stmt = select(Instance).join(ProcessModel, ProcessModel.id == Instance.model_id)
    if process:
        stmt = stmt.where(Instance.process_key == process)
    if version:
        if (number := parse_int(version)) is not None:
            stmt = stmt.where(ProcessModel.version == number)
        else:
            errors["version"] = "版本应为数字"
    if status:
        if status in STATUSES:
            stmt = stmt.where(Instance.status == status)
        else:
            errors["status"] = "状态无效"
    if key:
        like = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Instance.business_key.like(like, escape="\\"))
    if starter:  # a person's name (or part of it), or their user name
        like = "%" + starter.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        people = select(User.username).where(or_(User.username == starter,
                                                 User.display_name.like(like, escape="\\")))
        stmt = stmt.where(Instance.started_by.in_(people))
    if started_from:
        stmt = stmt.where(Instance.started_at >= at_local(started_from, 0))
    if started_to:
        stmt = stmt.where(Instance.started_at < at_local(started_to + timedelta(days=1), 0))
    return stmt


@bp.get("/instances")
@roles_required(*INSTANCE_ROLES)
def index() -> Any:
    args, errors = request.args, {}
    stmt = _filtered(args, errors)
    paging = page_args(PAGE_SIZE)
    with database().sessions() as s:
        total, over = capped_count(s, stmt)
        found = page(s, stmt, INSTANCE_ORDER, paging.limit, paging.after, paging.before)
        rows = found.rows
        open_steps = _open_steps(s, [r.id for r in rows])
        processes = list(s.execute(select(ProcessModel.key, ProcessModel.name).distinct().order_by(ProcessModel.key)))
        names = dict(s.execute(select(User.username, User.display_name)).all())
    return render_template("instances/index.html", rows=rows, total=total, total_over=over,
                           pager=pager_links(found, paging), open_steps=open_steps, processes=processes,
                           names=names, errors=errors, statuses=STATUSES, args=args)


def _element_names(xml: str) -> dict[str, str]:
    """id -> name of every flow element of a deployed diagram (for tables next to the drawing)."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), _XML_PARSER)
    except etree.XMLSyntaxError:
        return {}
    out = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{BPMN_NS}}}") and el.get("id"):
            out[el.get("id")] = el.get("name") or el.get("id")
    return out


def _field_labels(tasks: list[HumanTask]) -> dict[str, dict[str, str]]:
    return {t.id: {f.get("id"): f.get("label") or f.get("id") for f in (t.form or [])} for t in tasks}


def _shown(value: Any) -> str:
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def _audit_rows(events: list[AuditEvent], labels: dict[str, dict[str, str]]) -> list[tuple[AuditEvent, list[tuple[str, str]]]]:
    """Each event with its submitted data as (field label, text) pairs."""
    out = []
    for e in events:
        names = labels.get(e.task_id or "", {})
        out.append((e, [(names.get(k, k), _shown(v)) for k, v in (e.data or {}).items()]))
    return out


def _scope_rows(s: Any, scopes: dict[str, Scope], parent: str, instance_id: str,
                model: ProcessModel) -> list[dict[str, Any]]:
    """The runs of called processes directly under ``parent``, with what they are about and their open steps."""
    children = [sc for sc in scopes.values() if sc.parent_scope == parent]
    contexts = [{k: v for k, v in sc.data.items() if k.endswith("_id") and isinstance(v, int)} for sc in children]
    titles = subject_titles(s, contexts)
    names: dict[str, dict[str, str]] = {}
    for key in {sc.process_key for sc in children}:
        drawn = bundled_model(s, model, key)
        names[key] = _element_names(drawn.xml) if drawn is not None else {}
    return [{"scope": sc, "title": title, "activity": sc.call_task.task_spec.bpmn_id,
             "steps": [names[sc.process_key].get(b, b) for b in sc.active],
             "url": url_for("instances.call", instance_id=instance_id, scope_id=sc.id)}
            for sc, title in zip(children, titles, strict=True)]


def _group_labels(s: Any) -> dict[str, str]:
    labels = {"office": "联席会议办公室", "convener": "召集人", "district": "区政府", "admin": "管理员", "cc": "抄送"}
    labels.update({f"unit:{code}": name for code, name in s.execute(select(Unit.code, Unit.name))})
    return labels


def _diagram_attrs(scope: Scope, calls: list[dict[str, Any]], here: str) -> dict[str, str]:
    """data-* attributes of the viewer: markers, counts where a step ran more than once, call-activity links."""
    counts = {k: c.as_dict() for k, c in scope.counts.items() if c.active > 1 or c.completed > 1 or c.failed}
    by_activity: dict[str, list[str]] = {}
    for row in calls:
        by_activity.setdefault(row["activity"], []).append(row["url"])
    links = {activity: urls[0] if len(urls) == 1 else f"{here}#calls" for activity, urls in by_activity.items()}
    return {"active": ",".join(scope.active), "completed": ",".join(scope.completed),
            "failed": ",".join(scope.failed), "counts": json.dumps(counts), "links": json.dumps(links)}


def _page(instance_id: str, scope_id: str) -> Any:
    service, user = workflow(), me()
    with database().sessions() as s:
        inst, model = load_instance_or_abort(s, instance_id)
        wf = service.workflow(instance_id)
        scopes = scope_states(wf, inst.process_key, model.called)
        scope = scopes.get(scope_id)
        if scope is None:
            abort(404)
        drawn = bundled_model(s, model, scope.process_key) if scope_id else model
        if drawn is None:
            abort(404)
        here = (url_for("instances.show", instance_id=instance_id) if not scope_id
                else url_for("instances.call", instance_id=instance_id, scope_id=scope_id))
        calls = _scope_rows(s, scopes, scope_id, instance_id, model)
        groups = _group_labels(s)
        all_tasks = list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                   .order_by(HumanTask.created_at)))
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.id)))
        names = dict(s.execute(select(User.username, User.display_name)).all())
        parent_title = ""
        if scope_id:
            own = [row for row in _scope_rows(s, scopes, scope.parent_scope or "", instance_id, model)
                   if row["scope"].id == scope_id]
            parent_title = own[0]["title"] if own else ""
    if scope_id:
        tasks = [t for t in all_tasks if t.id in scope.task_ids]
        events = [e for e in events if e.task_id in scope.task_ids]
    else:
        nested = {tid for sc in scopes.values() if sc.id for tid in sc.task_ids}
        tasks = [t for t in all_tasks if t.id not in nested]
    return render_template(
        "instances/show.html", inst=inst, model=model, drawn=drawn, scope=scope, scopes=scopes, calls=calls,
        tasks=tasks, events=_audit_rows(events, _field_labels(all_tasks)), names=names, parent_title=parent_title,
        element_names=_element_names(drawn.xml), diagram=_diagram_attrs(scope, calls, here),
        may_control=service.may_manage(user.actor), groups=groups,
        diagram_url=url_for("instances.diagram", instance_id=instance_id, key=drawn.key),
    )


@bp.get("/instances/<instance_id>")
@roles_required(*INSTANCE_ROLES)
def show(instance_id: str) -> Any:
    return _page(instance_id, "")


@bp.get("/instances/<instance_id>/calls/<scope_id>")
@roles_required(*INSTANCE_ROLES)
def call(instance_id: str, scope_id: str) -> Any:
    if not scope_id:
        abort(404)
    return _page(instance_id, scope_id)


@bp.get("/instances/<instance_id>/diagram/<key>.bpmn")
@roles_required(*INSTANCE_ROLES)
def diagram(instance_id: str, key: str) -> Any:
    """The XML of the diagram an instance runs: its own process, or the version of a process it calls."""
    with database().sessions() as s:
        _inst, model = load_instance_or_abort(s, instance_id)
        drawn = bundled_model(s, model, key)
        if drawn is None:
            abort(404)
        return diagram_response(drawn.xml, f"{key}.bpmn")


def _lifecycle(instance_id: str, action: str) -> Any:
    """Who may suspend, resume and cancel is the service's rule (managers); its Forbidden is the 403."""
    reason = request.form.get("reason", "").strip()[:2000]
    try:
        getattr(workflow(), action)(instance_id, me().actor, reason)
    except FormError:
        flash("请填写原因。", "danger")
    except InstanceNotActive as exc:
        flash(exc.message, "warning")
    else:
        flash({"suspend": "流程已挂起。", "resume": "流程已恢复。", "cancel": "流程已终止。"}[action], "success")
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.post("/instances/<instance_id>/suspend")
@login_required
def suspend(instance_id: str) -> Any:
    return _lifecycle(instance_id, "suspend")


@bp.post("/instances/<instance_id>/resume")
@login_required
def resume(instance_id: str) -> Any:
    return _lifecycle(instance_id, "resume")


@bp.post("/instances/<instance_id>/cancel")
@login_required
def cancel(instance_id: str) -> Any:
    return _lifecycle(instance_id, "cancel")


# ---------------------------------------------------------------------------------------------- heatmap
@bp.get("/instances/heatmap")
@roles_required(*INSTANCE_ROLES)
def heat() -> Any:
    with database().sessions() as s:
        models = list(s.scalars(select(ProcessModel).order_by(ProcessModel.key, ProcessModel.version.desc())))
        if not models:
            abort(404)
        wanted = request.args.get("model", "")
        model = next((m for m in models if str(m.id) == wanted), None)
        if wanted and model is None:
            abort(404)
        if model is None:
            model = next((m for m in models if m.key == "joint_meeting"), models[0])
        counts = heatmap(s, model)
        activity = request.args.get("activity", "").strip()[:100]
        holders = list(s.scalars(instances_at(s, model, activity).order_by(Instance.started_at.desc())
                                 .limit(100))) if activity else []
    names = _element_names(model.xml)
    table = sorted(((bpmn_id, names.get(bpmn_id, bpmn_id), c) for bpmn_id, c in counts.items()),
                   key=lambda row: (-row[2].active, -row[2].completed, row[1]))
    data_counts = json.dumps({k: c.as_dict() for k, c in counts.items() if c.as_dict()})
    return render_template("instances/heatmap.html", models=models, model=model, table=table,
                           data_counts=data_counts, activity=activity, holders=holders,
                           activity_name=names.get(activity, activity))


@bp.get("/instances/models/<int:model_id>/diagram.bpmn")
@roles_required(*INSTANCE_ROLES)
def model_diagram(model_id: int) -> Any:
    with database().sessions() as s:
        model = s.get(ProcessModel, model_id)
        if model is None:
            abort(404)
        return diagram_response(model.xml, f"{model.key}-v{model.version}.bpmn")
