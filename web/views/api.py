"""The JSON API: the same permissions as the pages; bearer tokens or a signed-in session (with CSRF)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_login import login_required
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from engine.errors import Forbidden, FormError
from engine.forms import clean_comment, unstorable
from engine.models import HumanTask
from web.auth import authenticate_by_header, me
from web.loaders import load_task_or_abort
from web.paging import PAGE_PARAMETERS, PAGE_PROPERTIES, page_args, page_json
from web.services import workflow

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def csrf_for_sessions() -> Any:
    """A call with an ``Authorization`` header is the token's user and nobody else (a session cookie sent along
    is ignored); any other write is cookie-authenticated and must prove it comes from our pages, whatever other
    headers it carries."""
    if request.headers.get("Authorization") is not None:
        if not authenticate_by_header():
            return jsonify(error="unauthorized", message="API 令牌无效、已过期或已吊销。"), 401
        return None
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            return jsonify(error="csrf", message="缺少有效的 CSRF 令牌（X-CSRFToken）或 API 令牌。"), 400
    return None


def _json_body() -> Any:
    """The request's JSON, or None when it is none (not JSON, malformed, or nested deeper than the parser goes:
    Werkzeug turns only a ValueError into None, a RecursionError would be a 500)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
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
    args = page_args(100)
    sort = request.args.get("sort", "due")
    if sort not in ("due", "created"):
        return jsonify(error="bad_request", message="sort 只能是 due 或 created"), 400
    page = workflow().tasks_page(me().actor, view, args.limit, args.after, args.before, sort)
    return jsonify(tasks=[_task_json(t) for t in page.rows], **page_json(page))


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    return jsonify(_task_json(load_task_or_abort(task_id)))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> Any:
    workflow().claim(task_id, me().actor)
    return jsonify(_task_json(load_task_or_abort(task_id)))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> Any:
    body = _json_body()
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象（字段标识 → 值）"})
    comment = clean_comment(body.pop("_comment", None))
    # the service decides who may complete (404 / 403 / 409 / 422 as for the pages), in one transaction
    result = workflow().complete(task_id, me().actor, body, comment=comment)
    return jsonify(instance_id=result.instance_id, status=result.status, business_key=result.business_key,
                   ready_tasks=result.ready_tasks)


def _optional_text(body: dict[str, Any], name: str, limit: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or unstorable(value) or len(value) > limit:
        raise FormError({name: f"{name} 应为不超过 {limit} 个字符的文字"})
    return value.strip()


def _object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise FormError({name: f"{name} 应为 JSON 对象（字段或变量名 → 值）"})
    return value


@bp.post("/processes/<key>/start")
@login_required
def start(key: str) -> Any:
    """Start at a none start event; ``variables`` are the start form's fields (camunda:formData of the start
    event), validated like a task form."""
    body = _json_body() or {}
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象"})
    service = workflow()
    result = service.start(key, me().actor, start_event=_optional_text(body, "start_event"),
                           business_key=_optional_text(body, "business_key", 100),
                           form_values=_object(body, "variables"))
    mine = [t.id for t in service.tasks_for(me().actor, "mine") if t.instance_id == result.instance_id]
    return jsonify(instance_id=result.instance_id, status=result.status, business_key=result.business_key,
                   ready_tasks=result.ready_tasks, my_tasks=mine), 201


@bp.post("/messages")
@login_required
def message() -> Any:
    """Correlate a message: to the one instance waiting for it (narrowed by ``business_key`` or
    ``instance_id``), else start a process at a message start event of that name."""
    body = _json_body()
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象 {\"name\": …, \"variables\": {…}}"})
    name = _optional_text(body, "name")
    if name is None:
        raise FormError({"name": "请填写消息名称 name"})
    result = workflow().send_message(name, me().actor, _object(body, "variables"),
                                     business_key=_optional_text(body, "business_key", 100),
                                     instance_id=_optional_text(body, "instance_id", 32))
    return jsonify(instance_id=result.instance_id, status=result.status, business_key=result.business_key,
                   ready_tasks=result.ready_tasks)


@bp.post("/signals")
@login_required
def signal() -> Any:
    """Broadcast a signal to every instance waiting for it and start every process with a signal start
    event of that name (managers only)."""
    if not workflow().may_manage(me().actor):  # before reading the body: the answer does not depend on it
        raise Forbidden("只有管理人员可以广播信号")
    body = _json_body()
    if not isinstance(body, dict):
        raise FormError({"_body": "请求体须为 JSON 对象 {\"name\": …, \"variables\": {…}}"})
    name = _optional_text(body, "name")
    if name is None:
        raise FormError({"name": "请填写信号名称 name"})
    result = workflow().send_signal(name, me().actor, _object(body, "variables"))
    return jsonify(signal=result.signal, delivered=result.delivered, started=result.started)


@bp.post("/models")
@login_required
def deploy_model() -> Any:
    """Deploy a BPMN diagram (designers only): 201 with the new version, 200 when nothing changed, 422 with
    every problem ``{file, line, element, message}`` and nothing deployed."""
    from engine.designer import Designer
    from engine.loader import MAX_BPMN_BYTES

    if not me().has("designer", "admin"):
        raise Forbidden("只有流程设计人员可以部署流程")
    if request.is_json:
        body = _json_body()
        if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
            raise FormError({"xml": "请求体须为 JSON 对象 {\"xml\": \"…\"}，或直接发送 BPMN XML"})
        # a lone surrogate stays invalid UTF-8, which the loader refuses like any malformed file (not a 500)
        xml, file_name = body["xml"].encode("utf-8", "surrogatepass"), body.get("file_name")
        if file_name is not None and (not isinstance(file_name, str) or unstorable(file_name)):
            raise FormError({"file_name": "文件名应为不含控制字符的文字"})
    else:
        xml, file_name = request.get_data(cache=False)[: MAX_BPMN_BYTES + 1], request.args.get("file_name")
    if not xml:
        raise FormError({"xml": "请求体为空：请发送 BPMN XML"})
    designer = Designer(workflow())
    name = str(file_name)[:200] if file_name else designer.file_name_for(None, xml)
    results = designer.deploy(xml, me().actor, file_name=name)
    models = [{"key": r.model.key, "name": r.model.name, "version": r.model.version, "created": r.created,
               "status": r.model.status, "deployed_by": r.model.deployed_by,
               "deployed_at": r.model.deployed_at.isoformat()}
              for r in results]
    first = models[0]
    warnings = [w.as_dict() for r in results for w in r.warnings]  # deployed all the same
    return jsonify(key=first["key"], version=first["version"], created=first["created"], status=first["status"],
                   models=models,
                   warnings=warnings), (201 if any(r.created for r in results) else 200)


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
            "Problem": {"type": "object", "required": ["message"], "properties": {
                "file": {"type": "string"}, "line": {"type": "integer", "nullable": True},
                "element": {"type": "string", "nullable": True, "description": "BPMN 元素标识"},
                "message": {"type": "string", "description": "中文说明"}}},
            "DeployProblems": {"type": "object", "required": ["problems"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}},
            "Deployed": {"type": "object", "properties": {
                "key": {"type": "string"}, "version": {"type": "integer"}, "created": {"type": "boolean"},
                "status": {"type": "string", "enum": ["pending", "published", "rejected"],
                           "description": "pending：待审批人发布后生效（发布审批）"},
                "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"},
                             "description": "已部署，但请注意：如办理人不是系统用户、候选组不存在、数据对象被忽略"},
                "models": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "name": {"type": "string"}, "version": {"type": "integer"},
                    "created": {"type": "boolean"}, "deployed_by": {"type": "string", "nullable": True},
                    "deployed_at": {"type": "string", "format": "date-time"}}}}}},
            "Resolution": {"type": "object", "required": ["id", "number", "status", "light"], "properties": {
                "id": {"type": "integer"}, "number": {"type": "string"}, "meeting_id": {"type": "integer", "nullable": True},
                "meeting": {"type": "string"}, "meeting_title": {"type": "string"}, "content": {"type": "string"},
                "lead_unit": {"type": "string"}, "lead_unit_name": {"type": "string"},
                "co_units": {"type": "array", "items": {"type": "string"}},
                "co_unit_names": {"type": "array", "items": {"type": "string"}},
                "deadline": {"type": "string", "format": "date-time"}, "deadline_date": {"type": "string", "format": "date"},
                "status": {"type": "string"}, "light": {"type": "string", "enum": ["green", "yellow", "red", "closed"]},
                "days_left": {"type": "integer", "nullable": True}, "supervise_count": {"type": "integer"},
                "closed_at": {"type": "string", "format": "date-time", "nullable": True},
                "created_at": {"type": "string", "format": "date-time"}}},
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
            "description": "按键集分页：默认每页 100 条，最多 200 条；下一页用响应中的 next_cursor 作 cursor。",
            "parameters": [{"name": "view", "in": "query", "schema": {
                "type": "string", "enum": ["mine", "claimable", "open", "done"], "default": "open"}},
                {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["due", "created"],
                                                           "default": "due"},
                 "description": "due：按办理时限（无时限的在后）；created：新的在前。已办（done）按办理时间新的在前"},
                *PAGE_PARAMETERS],
            "responses": {"200": {"description": "任务列表（一页）", "content": {"application/json": {"schema": {
                "type": "object", "required": ["tasks", "limit", "next_cursor"], "properties": {
                    "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                    **PAGE_PROPERTIES}}}}},
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
                "type": "object", "properties": {
                    "start_event": {"type": "string"}, "business_key": {"type": "string"},
                    "variables": {"type": "object", "description": "开始表单（开始事件的 camunda:formData）的字段标识 → 值；"
                                                                   "没有开始表单的流程不接受变量"}}}}}},
            "responses": {"201": {"description": "已发起", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Result"}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "无权发起", "content": _ERR},
                "404": {"description": "流程不存在", "content": _ERR},
                "422": {"description": "开始表单有误（每个字段的中文说明）", "content": _ERR}}}},
        "/api/messages": {"post": {
            "summary": "发送消息：送达正在等待该消息的唯一流程实例（可按业务编号或实例限定），或由消息开始事件发起新流程",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "description": "消息名称（bpmn:message 的 name）"},
                    "business_key": {"type": "string"}, "instance_id": {"type": "string"},
                    "variables": {"type": "object", "description": "成为流程变量的变量（变量名 → JSON 值）"}}}}}},
            "responses": {"200": {"description": "已送达或已发起", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Result"}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "无权向该流程发送消息", "content": _ERR},
                "404": {"description": "没有流程在等待该消息", "content": _ERR},
                "409": {"description": "有多个流程实例在等待该消息：请指定业务编号或实例", "content": _ERR},
                "422": {"description": "请求有误（每个字段的中文说明）", "content": _ERR}}}},
        "/api/signals": {"post": {
            "summary": "广播信号（仅管理人员）：送达所有等待该信号的流程实例，并发起所有以该信号开始的流程",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "description": "信号名称（bpmn:signal 的 name）"},
                    "variables": {"type": "object"}}}}}},
            "responses": {"200": {"description": "已广播", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "signal": {"type": "string"},
                    "delivered": {"type": "array", "items": {"type": "string"}, "description": "收到信号的实例"},
                    "started": {"type": "array", "items": {"type": "string"}, "description": "新发起的实例"}}}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "不是管理人员", "content": _ERR},
                "404": {"description": "没有流程在等待该信号", "content": _ERR},
                "409": {"description": "等待的实例过多", "content": _ERR},
                "422": {"description": "请求有误", "content": _ERR}}}},
        "/api/models": {"post": {
            "summary": "提交流程图（仅流程设计人员）：检查通过后生成待审批的新版本，审批人发布后生效；运行中的实例仍按原版本办理",
            "parameters": [{"name": "file_name", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "文件名（用于问题定位；默认按流程标识）"}],
            "requestBody": {"required": True, "content": {
                "application/xml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object", "required": ["xml"], "properties": {
                    "xml": {"type": "string"}, "file_name": {"type": "string"}}}}}},
            "responses": {"201": {"description": "已部署为新版本", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Deployed"}}}},
                "200": {"description": "流程图没有变化，版本不变", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Deployed"}}}},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "不是流程设计人员", "content": _ERR},
                "422": {"description": "未通过检查，未部署：每个问题的元素、行号和说明", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DeployProblems"}}}}}}},
        "/api/whoami": {"get": {"summary": "当前用户", "responses": {
            "200": {"description": "用户", "content": {"application/json": {"schema": {"type": "object"}}}},
            "401": {"description": "未登录", "content": _ERR}}}},
        "/api/resolutions": {"get": {
            "summary": "督办台账：议定事项（与 /resolutions 页面相同的筛选与权限：召集人、办公室、区政府领导）",
            "parameters": [
                {"name": "meeting", "in": "query", "schema": {"type": "integer"}, "description": "会议 id"},
                {"name": "lead", "in": "query", "schema": {"type": "string"}, "description": "牵头单位代码"},
                {"name": "co", "in": "query", "schema": {"type": "string"}, "description": "配合单位代码"},
                {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "牵头或配合单位代码"},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": [
                    "open", "in_progress", "reported", "returned", "closed"]}},
                {"name": "light", "in": "query", "schema": {"type": "string", "enum": [
                    "green", "yellow", "red", "closed"]}, "description": "绿：3天以上；黄：3天内到期；红：逾期"},
                {"name": "due_from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "due_to", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "编号或内容包含"},
                {"name": "sort", "in": "query", "schema": {"type": "string", "enum": [
                    "deadline", "-deadline", "number", "lead", "status", "-closed_at", "-created_at"]}},
                *PAGE_PARAMETERS],
            "description": "按键集分页：默认每页 100 条，最多 200 条；下一页用 next_cursor 作 cursor。全部事项请用导出。",
            "responses": {"200": {"description": "符合条件的事项（一页）", "content": {"application/json": {"schema": {
                "type": "object", "required": ["resolutions", "limit", "next_cursor"], "properties": {
                    "count": {"type": "integer", "description": "本页事项数"},
                    "total": {"type": "integer", "nullable": True, "description": "符合条件的事项数（不超过 1000 时）"},
                    "total_over": {"type": "integer", "nullable": True,
                                   "description": "符合条件的事项超过此数时给出（不再精确计数）"},
                    "generated_at": {"type": "string", "format": "date-time"},
                    "resolutions": {"type": "array", "items": {"$ref": "#/components/schemas/Resolution"}},
                    **PAGE_PROPERTIES}}}}},
                "400": {"description": "筛选条件有误", "content": _ERR},
                "401": {"description": "未登录", "content": _ERR},
                "403": {"description": "无权查看督办台账", "content": _ERR}}}},
    },
}

