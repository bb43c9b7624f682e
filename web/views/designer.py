"""Process designers (role ``designer``; admins too): the process models and their versions, the modeler,
server checks, drafts, deploy, version diffs, new models from a template, import and export. The decision
tables' routes are in web/views/designer_decisions.py, on this blueprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from engine.designer import KEY_PATTERN, Designer, DraftConflict, executable_keys, locate, process_name
from engine.errors import Conflict, DeployError, Problem
from engine.loader import MAX_BPMN_BYTES, SourceFile, _Collector, parse_xml
from web.auth import login_manager, me
from web.diagrams import diagram_response
from web.filters import person_name
from web.params import parse_int
from web.services import workflow

bp = Blueprint("designer", __name__, url_prefix="/designer")
DESIGNER_ROLES = ("designer", "admin")
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "designer_templates"
NEW_MODEL_TEMPLATES = {"approval": "填报—审核（退回修改）", "blank": "空白（一个用户任务）"}


def may_design() -> bool:
    return bool(current_user.is_authenticated and me().has(*DESIGNER_ROLES))


@bp.before_request
def designers_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not may_design():
        abort(403)
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _designer() -> Designer:
    return Designer(workflow())


def _key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        abort(404)
    return key


def _json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes (Werkzeug's silent covers only ValueError)
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        abort(_json_error(400, "请求体须为 JSON：{\"xml\": \"<bpmn:definitions …>\"}"))
    return body


def _json_error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify(error=status, message=message, **extra)
    response.status_code = status
    return response


def _xml_bytes(body: dict[str, Any]) -> bytes:
    data = str(body["xml"]).encode("utf-8", "surrogatepass")  # a lone surrogate: invalid UTF-8, refused by the loader
    if len(data) > MAX_BPMN_BYTES:
        abort(_json_error(413, f"流程图过大：上限 {MAX_BPMN_BYTES // 1_000_000} MB"))
    return data


def _revision(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(_json_error(400, "revision 须为整数或 null"))


def _problems_response(xml: bytes, problems: list[Problem], message: str) -> Response:
    return _json_error(422, message, problems=locate(xml, problems))


def element_templates() -> list[dict[str, Any]]:
    """The registry's element templates, with what each action reads and returns in its description."""
    registry = workflow().registry
    templates = registry.element_templates()
    for t in templates:
        action = registry.get(t["id"].removeprefix("action."))
        extra = []
        if action.reads:
            extra.append("读取：" + "、".join(action.reads))
        if action.returns:
            extra.append("返回：" + "、".join(action.returns))
        if extra:
            t["description"] = f"{t['description']}（{'；'.join(extra)}）"
    return templates


def _decisions() -> dict[str, list[Any]]:
    """Every decision table's versions (newest first), by decision id: listed next to the process models."""
    return workflow().decisions.catalogue()


# ---------------------------------------------------------------------- pages
@bp.get("/")
def index() -> Any:
    return render_template("designer/index.html", models=_designer().models(), templates=NEW_MODEL_TEMPLATES,
                           decisions=_decisions())


@bp.get("/templates.json")
def templates_json() -> Any:
    return jsonify(element_templates())


@bp.get("/<key>/")
def open_model(key: str) -> Any:
    designer = _designer()
    if designer.draft(_key(key)) is not None:
        return redirect(url_for("designer.edit_draft", key=key))
    latest = designer.latest(key)
    if latest is None:
        abort(404)
    return redirect(url_for("designer.edit_version", key=key, version=latest.version))


def _modeler_page(key: str, name: str, xml_url: str, mode: str, version: int | None, file_name: str) -> Any:
    designer = _designer()
    draft = designer.draft(key)
    versions = designer.versions(key)
    registry = workflow().registry
    config = {
        "key": key, "name": name, "mode": mode, "version": version, "fileName": file_name,
        "xmlUrl": xml_url,
        "checkUrl": url_for("designer.check"),
        "deployUrl": url_for("designer.deploy", key=key),
        "draftUrl": url_for("designer.save_draft", key=key),
        "draftPageUrl": url_for("designer.edit_draft", key=key),
        "templatesUrl": url_for("designer.templates_json"),
        "listUrl": url_for("designer.index"),
        "draftRevision": draft.revision if (draft is not None and mode == "draft") else None,
        "csrfToken": generate_csrf(),
        "actions": registry.names(),
        "processes": designer.deployed_keys(),
        "fieldTypes": workflow().field_types.names(),
        "budgets": {"max_multi_instance": workflow().budgets.max_multi_instance,
                    "min_timer_seconds": workflow().budgets.min_timer_seconds},
    }
    return render_template("designer/modeler.html", key=key, name=name, mode=mode, version=version, draft=draft,
                           versions=versions, config=config)


@bp.get("/<key>/v<int:version>")
def edit_version(key: str, version: int) -> Any:
    model = _designer().model(_key(key), version)
    return _modeler_page(key, model.name, url_for("designer.version_xml", key=key, version=version), "version",
                         version, model.file_name)


@bp.get("/<key>/draft")
def edit_draft(key: str) -> Any:
    designer = _designer()
    draft = designer.draft(_key(key))
    if draft is None:
        flash("该流程没有草稿。", "info")
        return redirect(url_for("designer.index"))
    latest = designer.latest(key)
    name = process_name(draft.xml.encode("utf-8"), key) or (latest.name if latest else key)
    return _modeler_page(key, name, url_for("designer.draft_xml", key=key), "draft",
                         draft.base_version, latest.file_name if latest else f"{key}.bpmn")


def _xml_response(xml: str, file_name: str) -> Response:
    """Always a download: an uploaded diagram is never rendered as a document of our origin."""
    return diagram_response(xml, file_name)


@bp.get("/<key>/v<int:version>.bpmn")
def version_xml(key: str, version: int) -> Any:
    model = _designer().model(_key(key), version)
    return _xml_response(model.xml, f"{key}-v{version}.bpmn")


@bp.get("/<key>/draft.bpmn")
def draft_xml(key: str) -> Any:
    draft = _designer().draft(_key(key))
    if draft is None:
        abort(404)
    return _xml_response(draft.xml, f"{key}-draft.bpmn")


@bp.get("/<key>/diff")
def diff(key: str) -> Any:
    designer = _designer()
    versions = designer.versions(_key(key))
    if not versions:
        abort(404)
    draft = designer.draft(key)
    choices = [str(v.version) for v in versions] + (["draft"] if draft else [])
    new = request.args.get("to") or ("draft" if draft and len(versions) == 1 else str(versions[0].version))
    default_old = str(versions[1].version) if len(versions) > 1 and new != "draft" else str(versions[0].version)
    old = request.args.get("from") or default_old
    if old not in choices or new not in choices:
        abort(404)
    result = designer.diff(key, old if old == "draft" else int(old), new if new == "draft" else int(new))

    def xml_url(v: str) -> str:
        if v == "draft":
            return url_for("designer.draft_xml", key=key)
        return url_for("designer.version_xml", key=key, version=int(v))

    return render_template("designer/diff.html", key=key, name=versions[0].name, old=old, new=new,
                           choices=choices, diff=result,
                           old_url=xml_url(old), new_url=xml_url(new))


# ---------------------------------------------------------------------- JSON endpoints of the modeler
@bp.post("/check")
def check() -> Any:
    body = _json_body()
    xml = _xml_bytes(body)
    key = body.get("key") if isinstance(body.get("key"), str) else None
    designer = _designer()
    problems = designer.check(xml, designer.file_name_for(key, xml), key=key if key and KEY_PATTERN.match(key) else None)
    return jsonify(ok=not problems, problems=problems)


@bp.post("/<key>/deploy")
def deploy(key: str) -> Any:
    body = _json_body()
    xml = _xml_bytes(body)
    try:
        results = _designer().deploy(xml, me().actor, key=_key(key), draft_revision=_revision(body.get("draft_revision")))
    except DeployError as exc:
        return _problems_response(xml, exc.problems, "流程图未通过检查，未部署。")
    mine = next((r for r in results if r.model.key == key), results[0])
    return jsonify(key=mine.model.key, name=mine.model.name, version=mine.model.version, created=mine.created,
                   status=mine.model.status,
                   deployed=[{"key": r.model.key, "version": r.model.version, "created": r.created,
                              "status": r.model.status} for r in results],
                   warnings=[w.as_dict() for r in results for w in r.warnings]), (201 if mine.created else 200)


@bp.post("/<key>/draft")
def save_draft(key: str) -> Any:
    body = _json_body()
    xml = _xml_bytes(body)
    base = body.get("base_version")
    try:
        info = _designer().save_draft(_key(key), xml, me().actor, _revision(body.get("revision")),
                                      force=body.get("force") is True,
                                      base_version=base if isinstance(base, int) else None)
    except DraftConflict as exc:
        return _json_error(409, exc.naming(person_name(exc.by)), updated_by=exc.by,
                           updated_at=exc.at.isoformat() if exc.at else None, revision=exc.revision)
    except DeployError as exc:
        return _problems_response(xml, exc.problems, "草稿不是有效的 BPMN 文件，未保存。")
    return jsonify(info.as_dict())


# ---------------------------------------------------------------------- forms of the list page
@bp.post("/<key>/draft/discard")
def discard_draft(key: str) -> Any:
    try:
        _designer().discard_draft(_key(key), _revision(request.form.get("revision")))
    except DraftConflict as exc:
        flash(exc.naming(person_name(exc.by)), "warning")
        return redirect(url_for("designer.index"))
    flash(f"已删除“{key}”的草稿。", "info")
    return redirect(url_for("designer.index"))


@bp.post("/new")
def new_model() -> Any:
    key = request.form.get("key", "").strip()
    name = request.form.get("name", "").strip()[:100]
    template = request.form.get("template", "approval")
    designer = _designer()
    error = None
    if not KEY_PATTERN.match(key):
        error = "流程标识须以字母或下划线开头，只含字母、数字、下划线、连字符和点（最多 100 个字符）。"
    elif not name:
        error = "请填写流程名称。"
    elif template not in NEW_MODEL_TEMPLATES:
        error = "请选择模板。"
    elif designer.latest(key) is not None or designer.draft(key) is not None:
        error = f"流程标识“{key}”已被使用。"
    if error:
        flash(error, "danger")
        return render_template("designer/index.html", models=designer.models(), templates=NEW_MODEL_TEMPLATES,
                               decisions=_decisions(),
                               new_form={"key": key, "name": name, "template": template}), 422
    xml = (TEMPLATES_DIR / f"{template}.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('"__KEY__"', quoteattr(key)).replace('"__NAME__"', quoteattr(name))
    designer.save_draft(key, xml.encode("utf-8"), me().actor, None)
    flash(f"已新建“{name}”的草稿：画好流程后检查并部署。", "success")
    return redirect(url_for("designer.edit_draft", key=key))


@bp.post("/import")
def import_model() -> Any:
    designer = _designer()
    upload = request.files.get("file")
    problems: list[Problem] = []
    data = upload.read(MAX_BPMN_BYTES + 1) if upload else b""
    name = (upload.filename if upload else "") or "upload.bpmn"
    if not data:
        problems.append(Problem(name, None, None, "请选择一个 .bpmn 文件"))
    else:
        out = _Collector(name)
        if parse_xml(SourceFile(name, data), out) is None:
            problems = out.problems
    keys = executable_keys(data) if not problems else []
    if not problems and not keys:
        problems.append(Problem(name, None, None, "文件中没有可执行的流程（isExecutable=\"true\"）"))
    key = keys[0] if keys else ""
    if not problems and not KEY_PATTERN.match(key):
        problems.append(Problem(name, None, key, f"流程标识“{key}”无效：须以字母或下划线开头，只含字母、数字、下划线、连字符和点"))
    if problems:
        flash("文件未导入：" + "；".join(p.compiler_line() for p in problems[:5]), "danger")
        return render_template("designer/index.html", models=designer.models(), templates=NEW_MODEL_TEMPLATES,
                               decisions=_decisions(),
                               import_problems=problems), 422
    existing = designer.draft(key)
    if existing is not None and request.form.get("overwrite") != "1":
        flash(f"“{key}”已有草稿（{existing.updated_by} 保存）；如要用导入的文件替换，请勾选“替换已有草稿”。", "warning")
        return render_template("designer/index.html", models=designer.models(), templates=NEW_MODEL_TEMPLATES,
                               decisions=_decisions()), 409
    latest = designer.latest(key)
    designer.save_draft(key, data, me().actor, existing.revision if existing else None,
                        base_version=latest.version if latest else None)
    flash(f"已导入“{name}”为“{key}”的草稿：检查无误后即可部署。", "success")
    return redirect(url_for("designer.edit_draft", key=key))


# ---------------------------------------------------------------------- migration of running instances
@bp.get("/<key>/migrate")
def migration_plan(key: str) -> Any:
    from engine.migration import Migrator

    plan = Migrator(workflow()).plan(_key(key))
    return render_template("designer/migrate.html", key=key, plan=plan)


@bp.post("/<key>/migrate")
def migrate(key: str) -> Any:
    from engine.migration import Migrator

    migrator = Migrator(workflow())
    target = parse_int(request.form.get("target_version"))
    if target is None:
        abort(400)
    chosen = request.form.getlist("instance_id")
    if not chosen:
        flash("请至少选择一个流程实例。", "warning")
        return redirect(url_for("designer.migration_plan", key=_key(key)))
    try:
        moved = migrator.migrate(_key(key), target, chosen, me().actor)
    except Conflict as exc:
        flash(exc.message, "danger")
        return redirect(url_for("designer.migration_plan", key=key))
    flash(f"已将 {len(moved)} 个流程实例迁移到 v{target}。", "success")
    return redirect(url_for("designer.migration_plan", key=key))
