"""The lists of the JSON API besides tasks and resolutions: instances, notifications, meetings, process versions
and the audit log. Each is keyset-paged (engine/paging.py: ``limit``, ``cursor``, ``before``; the response says
``next_cursor`` and ``prev_cursor``), filtered and permitted exactly as its page, and described in the OpenAPI
document (its paths are added to web/views/api.py's OPENAPI when this module is imported)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import login_required
from sqlalchemy import select

from engine.models import AuditEvent, ProcessModel
from engine.paging import Key, capped_count, page
from meeting import roles
from meeting.admin_audit import AuditQuery
from meeting.notify import page_for
from web.auth import me, roles_required
from web.paging import PAGE_PARAMETERS, PAGE_PROPERTIES, page_args, page_json
from web.services import database
from web.views.admin_common import duty_required
from web.views.api import OPENAPI
from web.views.instances import INSTANCE_ORDER, INSTANCE_ROLES, _filtered
from web.views.meetings import MEETING_ORDER, visible_meetings
from web.views.notifications import KIND_LABELS

bp = Blueprint("api_lists", __name__, url_prefix="/api")
DEFAULT_LIMIT = 50
MODEL_ORDER = [Key(ProcessModel.key), Key(ProcessModel.version, desc=True)]
AUDIT_ORDER = [Key(AuditEvent.id, desc=True)]  # newest first: ids grow with time


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.get("/instances")
@roles_required(*INSTANCE_ROLES)
def instances() -> Any:
    errors: dict[str, str] = {}
    stmt = _filtered(request.args, errors)
    if errors:
        return jsonify(error="bad_request", message="筛选条件有误", errors=errors), 400
    args = page_args(DEFAULT_LIMIT)
    with database().sessions() as s:
        total, over = capped_count(s, stmt)
        found = page(s, stmt, INSTANCE_ORDER, args.limit, args.after, args.before)
        rows = [{"id": i.id, "process_key": i.process_key, "title": i.title, "business_key": i.business_key,
                 "status": i.status, "started_by": i.started_by, "started_at": _iso(i.started_at),
                 "updated_at": _iso(i.updated_at), "ended_at": _iso(i.ended_at)} for i in found.rows]
    return jsonify(instances=rows, total=None if over else total, total_over=total if over else None,
                   **page_json(found))


@bp.get("/notifications")
@login_required
def notifications() -> Any:
    user = me()
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_LABELS:
        return jsonify(error="bad_request", message="kind 无效", errors={"kind": "通知类型无效"}), 400
    args = page_args(DEFAULT_LIMIT)
    with database().sessions() as s:
        found = page_for(s, user.username, sorted(user.groups), args.limit, args.after, args.before,
                         unread_only=request.args.get("unread") == "1", kinds=(kind,) if kind else None)
        rows = [{"id": v.notification.id, "kind": v.notification.kind, "title": v.notification.title,
                 "body": v.notification.body, "link": v.notification.link,
                 "created_at": _iso(v.notification.created_at), "read_at": _iso(v.read_at)} for v in found.rows]
    return jsonify(notifications=rows, **page_json(found))


@bp.get("/meetings")
@login_required
def meetings() -> Any:
    args = page_args(DEFAULT_LIMIT)
    with database().sessions() as s:
        found = page(s, visible_meetings(), MEETING_ORDER, args.limit, args.after, args.before)
        rows = [{"id": m.id, "key": m.key, "title": m.title, "kind": m.kind, "status": m.status,
                 "meeting_at": _iso(m.meeting_at), "place": m.place} for m in found.rows]
    return jsonify(meetings=rows, **page_json(found))


@bp.get("/models")
@roles_required("designer", "approver")
def models() -> Any:
    key = request.args.get("key") or None
    stmt = select(ProcessModel)
    if key is not None:
        stmt = stmt.where(ProcessModel.key == key[:100])
    args = page_args(DEFAULT_LIMIT)
    with database().sessions() as s:
        found = page(s, stmt, MODEL_ORDER, args.limit, args.after, args.before)
        rows = [{"key": m.key, "version": m.version, "name": m.name, "file_name": m.file_name,
                 "status": m.status, "deployed_by": m.deployed_by, "deployed_at": _iso(m.deployed_at)}
                for m in found.rows]
    return jsonify(models=rows, **page_json(found))


@bp.get("/audit")
@duty_required(roles.AUDITOR)
def audit() -> Any:
    """The audit log, newest first, with the audit administrator's filters."""
    query = AuditQuery(actor=request.args.get("actor", "").strip()[:100],
                       action=request.args.get("action", "").strip()[:50])
    stmt = select(AuditEvent).where(*query.where())
    if instance_id := request.args.get("instance_id"):
        stmt = stmt.where(AuditEvent.instance_id == instance_id[:32])
    args = page_args(DEFAULT_LIMIT)
    with database().sessions() as s:
        found = page(s, stmt, AUDIT_ORDER, args.limit, args.after, args.before)
        rows = [{"id": e.id, "at": _iso(e.at), "actor": e.actor, "action": e.action, "instance_id": e.instance_id,
                 "task_id": e.task_id, "task_name": e.task_name, "process_key": e.process_key, "data": e.data,
                 "comment": e.comment} for e in found.rows]
    return jsonify(events=rows, **page_json(found))


def _list(summary: str, key: str, item: dict[str, Any], parameters: list[dict[str, Any]],
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI operation of one paged list."""
    props = {key: {"type": "array", "items": item}, **PAGE_PROPERTIES, **(extra or {})}
    return {"get": {
        "summary": summary, "description": "按键集分页：每页默认 50 条，最多 200 条；下一页用 next_cursor 作 cursor。",
        "parameters": [*parameters, *PAGE_PARAMETERS],
        "responses": {
            "200": {"description": "一页", "content": {"application/json": {"schema": {
                "type": "object", "required": [key, "limit", "next_cursor"], "properties": props}}}},
            "400": {"description": "参数有误（如 cursor、limit）",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "401": {"description": "未登录"}, "403": {"description": "无权查看"}}}}


def _q(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string", **schema}, "description": description}


_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TEXT = {"type": "string", "nullable": True}
OPENAPI["paths"].update({
    "/api/instances": _list(
        "流程实例（召集人、办公室、管理员）：新发起的在前", "instances",
        {"type": "object", "properties": {"id": {"type": "string"}, "process_key": {"type": "string"},
                                          "title": _TEXT, "business_key": _TEXT, "status": {"type": "string"},
                                          "started_by": _TEXT, "started_at": _TIME, "updated_at": _TIME,
                                          "ended_at": _TIME}},
        [_q("process", "流程标识"), _q("version", "版本号"), _q("status", "状态", enum=[
            "running", "suspended", "completed", "cancelled", "error"]), _q("key", "业务编号包含"),
         _q("starter", "发起人"), _q("from", "发起日期起", format="date"), _q("to", "发起日期止", format="date")],
        {"total": {"type": "integer", "nullable": True, "description": "符合条件的实例数（不超过 1000 时）"},
         "total_over": {"type": "integer", "nullable": True, "description": "超过此数时给出（不再精确计数）"}}),
    "/api/notifications": _list(
        "我的通知：新的在前", "notifications",
        {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string"},
                                          "title": {"type": "string"}, "body": {"type": "string"},
                                          "link": _TEXT, "created_at": _TIME, "read_at": _TIME}},
        [_q("unread", "1：只列未读", enum=["1"]), _q("kind", "通知类型", enum=sorted(KIND_LABELS))]),
    "/api/meetings": _list(
        "会议（与 /meetings 相同的可见范围）：最近的在前", "meetings",
        {"type": "object", "properties": {"id": {"type": "integer"}, "key": {"type": "string"},
                                          "title": {"type": "string"}, "kind": {"type": "string"},
                                          "status": {"type": "string"}, "meeting_at": _TIME, "place": _TEXT}}, []),
    "/api/models": {**_list(
        "流程版本（流程设计、审核人员）：按流程标识，新版本在前", "models",
        {"type": "object", "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                                          "name": {"type": "string"}, "file_name": {"type": "string"},
                                          "status": {"type": "string"}, "deployed_by": _TEXT,
                                          "deployed_at": _TIME}},
        [_q("key", "只列此流程的版本")]), **OPENAPI["paths"].get("/api/models", {})},
    "/api/audit": _list(
        "审计日志（审计管理员）：新的在前", "events",
        {"type": "object", "properties": {"id": {"type": "integer"}, "at": _TIME, "actor": _TEXT,
                                          "action": {"type": "string"}, "instance_id": _TEXT, "task_id": _TEXT,
                                          "task_name": _TEXT, "process_key": _TEXT, "data": {"type": "object"},
                                          "comment": _TEXT}},
        [_q("actor", "操作人"), _q("action", "操作"), _q("instance_id", "流程实例")]),
})

