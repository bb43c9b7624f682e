"""Decision tables (DMN) in the designer blueprint: the list, the dmn-js editor, check, deploy (a designer's
version waits for an approver, as diagrams do), download, and a new decision from a template. The routes share
the blueprint's guard (designers and admins only) and its ``no-store`` header."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from flask import abort, flash, jsonify, render_template, request, url_for
from flask_wtf.csrf import generate_csrf

from engine.designer import locate
from engine.dmn import MAX_DMN_BYTES, decision_ids
from engine.errors import DeployError, NotFound, Problem
from engine.loader import SourceFile
from engine.models import DecisionModel
from web.auth import me
from web.diagrams import diagram_response
from web.services import workflow
from web.views.designer import _json_body, _json_error, bp

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "designer_templates"
# A decision id: what load_decisions accepts (a Python-style identifier, at most 100 characters).
MAX_KEY = 100


def _key(key: str) -> str:
    if not key.isidentifier() or len(key) > MAX_KEY:
        abort(404)
    return key


def _model(key: str, version: int) -> DecisionModel:
    try:
        return workflow().decisions.model(_key(key), version)
    except NotFound:
        abort(404)


def _xml(body: dict[str, Any]) -> bytes:
    data = str(body["xml"]).encode("utf-8", "surrogatepass")
    if len(data) > MAX_DMN_BYTES:
        abort(_json_error(413, f"决策表文件过大：上限 {MAX_DMN_BYTES // 1_000_000} MB"))
    return data


def _editor(key: str, name: str, version: int | None, xml_url: str | None, xml: str | None) -> Any:
    decisions = workflow().decisions
    config = {
        "key": key, "name": name, "version": version, "xmlUrl": xml_url, "xml": xml,
        "fileName": f"{key}.dmn", "checkUrl": url_for("designer.check_decision"),
        "deployUrl": url_for("designer.deploy_decision", decision=key),
        "listUrl": url_for("designer.index"), "csrfToken": generate_csrf(),
    }
    return render_template("designer/decision.html", key=key, name=name, version=version,
                           versions=decisions.versions(key), config=config)


@bp.get("/decisions/<decision>/v<int:version>")
def edit_decision(decision: str, version: int) -> Any:
    model = _model(decision, version)
    return _editor(decision, model.name, version,
                   url_for("designer.decision_xml", decision=decision, version=version), None)


@bp.get("/decisions/<decision>/v<int:version>.dmn")
def decision_xml(decision: str, version: int) -> Any:
    model = _model(decision, version)
    return diagram_response(model.xml, f"{decision}-v{version}.dmn")


@bp.post("/decisions/check")
def check_decision() -> Any:
    xml = _xml(_json_body())
    try:
        workflow().decisions.check([SourceFile("decision.dmn", xml)])
    except DeployError as exc:
        return jsonify(ok=False, problems=locate(xml, exc.problems))
    return jsonify(ok=True, problems=[])


@bp.post("/decisions/<decision>/deploy")
def deploy_decision(decision: str) -> Any:
    """Deploy the edited file: pending until an approver publishes it (administrators' deploys too: nobody
    publishes their own rules)."""
    key = _key(decision)
    xml = _xml(_json_body())
    problems: list[Problem] = []
    source = SourceFile(f"{key}.dmn", xml)
    if key not in decision_ids(xml):
        problems.append(Problem(source.name, None, None, f"文件中没有标识为“{key}”的决策：请勿修改决策标识"))
        try:
            workflow().decisions.check([source])  # the other problems too, in one answer
        except DeployError as exc:
            problems.extend(exc.problems)
    if not problems:
        try:
            results = workflow().decisions.deploy([source], me().actor, pending=True)
        except DeployError as exc:
            problems = exc.problems
    if problems:
        return _json_error(422, "决策表未通过检查，未部署。", problems=locate(xml, problems))
    mine = next(r for r in results if r.model.key == key)
    return jsonify(key=key, name=mine.model.name, version=mine.model.version, created=mine.created,
                   status=mine.model.status,
                   deployed=[{"key": r.model.key, "version": r.model.version, "created": r.created,
                              "status": r.model.status} for r in results]), (201 if mine.created else 200)


@bp.post("/decisions/new")
def new_decision() -> Any:
    """A new decision from the template, opened in the editor; nothing is stored until it is deployed."""
    key = request.form.get("key", "").strip()
    name = request.form.get("name", "").strip()[:100]
    error = None
    if not key.isidentifier() or len(key) > MAX_KEY or not key.isascii():
        error = "决策标识须以字母或下划线开头，只含字母、数字和下划线（最多 100 个字符）。"
    elif not name:
        error = "请填写决策名称。"
    elif workflow().decisions.versions(key):
        error = f"决策标识“{key}”已被使用。"
    if error:
        flash(error, "danger")
        from web.views.designer import index

        response = index()
        return response, 422
    xml = (TEMPLATES_DIR / "decision.dmn").read_text(encoding="utf-8")
    xml = xml.replace('"__KEY__"', quoteattr(key)).replace('"__NAME__"', quoteattr(name))
    return _editor(key, name, None, None, xml)
