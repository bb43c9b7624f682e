"""The JSON API: the same permissions as the pages; bearer tokens or a signed-in session (with CSRF)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import login_required
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from engine.errors import FormError
from engine.models import HumanTask
from web.auth import me

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def csrf_for_sessions() -> Any:
    """Token calls carry no cookies; session calls must prove they come from our pages."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.headers.get("Authorization"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            return jsonify(error="csrf", message="缺少有效的 CSRF 令牌（X-CSRFToken）或 API 令牌。"), 400
    return None


def _task_json(t: HumanTask) -> dict[str, Any]:
    return {
        "id": t.id, "instance_id": t.instance_id, "process_key": t.process_key, "task_key": t.bpmn_id,
        "name": t.name, "state": t.state, "assignee": t.assignee, "candidate_groups": t.candidate_groups,
        "due_at": t.due_at.isoformat() if t.due_at else None, "business_key": t.business_key,
        "context": t.context, "created_at": t.created_at.isoformat(),
        "form": t.form,
    }


@bp.get("/tasks")
@login_required
def tasks() -> Any:
    view = request.args.get("view", "open")
    if view not in ("mine", "claimable", "open", "done"):
        return jsonify(error="bad_request", message="view 只能是 mine、claimable、open 或 done"), 400
    rows = current_app.extensions["workflow"].tasks_for(me().actor, view)
    return jsonify(tasks=[_task_json(t) for t in rows])


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return jsonify(_task_json(current_app.extensions["workflow"].get_task(task_id, me().actor)))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    service = current_app.extensions["workflow"]
    service.claim(task_id, me().actor)
    return jsonify(_task_json(service.get_task(task_id, me().actor)))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象（字段标识 → 值）"})
    service = current_app.extensions["workflow"]
    service.get_task(task_id, me().actor)
    comment = body.pop("_comment", None)
    result = service.complete(task_id, me().actor, body, comment=str(comment)[:2000] if comment else None)
    return jsonify(instance_id=result.instance_id, status=result.status, business_key=result.business_key,
                   ready_tasks=result.ready_tasks)


@bp.post("/processes/<key>/start")
@login_required
def start(key: str) -> Any:
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象"})
    service = current_app.extensions["workflow"]
    result = service.start(key, me().actor, start_event=body.get("start_event"))
    mine = [t.id for t in service.tasks_for(me().actor, "mine") if t.instance_id == result.instance_id]
    return jsonify(instance_id=result.instance_id, status=result.status, business_key=result.business_key,
                   ready_tasks=result.ready_tasks, my_tasks=mine), 201


@bp.get("/whoami")
@login_required
def whoami() -> Any:
    user = me()
    return jsonify(username=user.username, display_name=user.display_name, unit=user.unit_code,
                   groups=sorted(user.groups), token=bool(g.get("token_auth")))


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(OPENAPI)


_ERR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_TASK = {"application/json": {"schema": {"$ref": "#/components/schemas/Task"}}}
_TASK_ID = [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "社会救助联席会议 工作流 API", "version": "1.0.0",
             "description": "与页面相同的权限。使用个人 API 令牌：Authorization: Bearer jm_…"},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "每个字段的中文错误说明"},
                "completed_by": {"type": "string", "nullable": True},
                "completed_at": {"type": "string", "format": "date-time", "nullable": True}}},
            "Task": {"type": "object", "required": ["id", "name", "state"], "properties": {
                "id": {"type": "string"}, "instance_id": {"type": "string"}, "process_key": {"type": "string"},
                "task_key": {"type": "string"}, "name": {"type": "string"}, "state": {"type": "string"},
                "assignee": {"type": "string", "nullable": True},
                "candidate_groups": {"type": "array", "items": {"type": "string"}},
                "due_at": {"type": "string", "format": "date-time", "nullable": True},
                "business_key": {"type": "string", "nullable": True},
                "context": {"type": "object"}, "created_at": {"type": "string", "format": "date-time"},
                "form": {"type": "array", "items": {"type": "object"}}}},
            "Result": {"type": "object", "properties": {
                "instance_id": {"type": "string"}, "status": {"type": "string"},
                "business_key": {"type": "string", "nullable": True},
                "ready_tasks": {"type": "array", "items": {"type": "string"}},
                "my_tasks": {"type": "array", "items": {"type": "string"}}}},
        },
    },
    "paths": {
        "/api/tasks": {"get": {
            "summary": "我的任务（mine 我的待办 / claimable 本单位待签收 / open 全部待办 / done 已办）",
            "parameters": [{"name": "view", "in": "query", "schema": {
                "type": "string", "enum": ["mine", "claimable", "open", "done"], "default": "open"}}],
            "responses": {"200": {"description": "任务列表", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"tasks": {"type": "array", "items": {
                    "$ref": "#/components/schemas/Task"}}}}}}},
                "400": {"description": "参数错误", "content": _ERR},
                "401": {"description": "未登录", "content": _ERR}}}},
        "/api/tasks/{task_id}": {"get": {
            "summary": "任务详情", "parameters": _TASK_ID,
            "responses": {"200": {"description": "任务", "content": _TASK},
                          "401": {"description": "未登录", "content": _ERR},
                          "403": {"description": "无权查看", "content": _ERR},
                          "404": {"description": "不存在", "content": _ERR}}}},
        "/api/tasks/{task_id}/claim": {"post": {
            "summary": "签收任务", "parameters": _TASK_ID,
            "responses": {"200": {"description": "已签收", "content": _TASK},
                          "401": {"description": "未登录", "content": _ERR},
                          "403": {"description": "不是候选办理人", "content": _ERR},
                          "404": {"description": "不存在", "content": _ERR},
                          "409": {"description": "已被他人签收或已办理", "content": _ERR}}}},
        "/api/tasks/{task_id}/complete": {"post": {
            "summary": "办理任务（表单字段标识 → 值）", "parameters": _TASK_ID,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": True}}}},
            "responses": {"200": {"description": "已办理", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Result"}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "不是您的任务", "content": _ERR},
                "404": {"description": "不存在", "content": _ERR},
                "409": {"description": "任务已由他人办理", "content": _ERR},
                "422": {"description": "表单有误（每个字段的中文说明）", "content": _ERR}}}},
        "/api/processes/{key}/start": {"post": {
            "summary": "发起流程",
            "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"start_event": {"type": "string"}}}}}},
            "responses": {"201": {"description": "已发起", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Result"}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "无权发起", "content": _ERR},
                "404": {"description": "流程不存在", "content": _ERR}}}},
        "/api/whoami": {"get": {"summary": "当前用户", "responses": {
            "200": {"description": "用户", "content": {"application/json": {"schema": {"type": "object"}}}},
            "401": {"description": "未登录", "content": _ERR}}}},
    },
}

