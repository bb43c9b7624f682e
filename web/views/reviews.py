"""发布审批 (four eyes): a designer's deploy waits as a pending version until an approver (role ``approver``, or an
administrator) who is not its author publishes or rejects it, after reading what changed against the version in
force, with every change of who does the work or which action runs highlighted. Both decisions are audited
(engine/deployment.py). Decision tables are reviewed on the same pages (web/views/reviews_decisions.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine.designer import Designer
from engine.errors import DeployError, FormError
from engine.models import PENDING, DecisionModel, ProcessModel
from web.auth import login_manager, me
from web.diagrams import diagram_response
from web.services import workflow

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
APPROVER_ROLES = ("approver", "admin")


@bp.before_request
def approvers_only() -> Any:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not me().has(*APPROVER_ROLES):
        abort(403)
    return None


def _model(key: str, version: int) -> ProcessModel:
    return Designer(workflow()).model(key, version)


@bp.get("/")
def index() -> Any:
    service = workflow()
    with service.db.sessions() as s:
        decided = list(s.scalars(select(ProcessModel).where(ProcessModel.reviewed_by.is_not(None))
                                 .order_by(ProcessModel.reviewed_at.desc()).limit(20)))
        decided_tables = list(s.scalars(select(DecisionModel).where(DecisionModel.reviewed_by.is_not(None))
                                        .order_by(DecisionModel.reviewed_at.desc()).limit(20)))
    return render_template("reviews/index.html", pending=service.pending_versions(), decided=decided,
                           pending_tables=service.decisions.pending(), decided_tables=decided_tables)


@bp.get("/<key>/v<int:version>")
def show(key: str, version: int) -> Any:
    designer = Designer(workflow())
    model = _model(key, version)
    base = designer.published(key)
    diff = designer.review_diff(model)
    sensitive = [c for c in diff.changes if c.assignments]
    return render_template("reviews/show.html", model=model, base=base, diff=diff, sensitive=sensitive,
                           own=model.deployed_by == me().username, pending=model.status == PENDING)


@bp.get("/<key>/v<int:version>.bpmn")
def xml(key: str, version: int) -> Response:
    model = _model(key, version)
    return diagram_response(model.xml, f"{key}-v{version}.bpmn")


@bp.post("/<key>/v<int:version>/publish")
def publish(key: str, version: int) -> Any:
    try:
        model = workflow().publish(key, version, me().actor, request.form.get("comment", ""))
    except DeployError as exc:
        flash("未发布：该版本按当前已部署的流程检查未通过——" + "；".join(p.message for p in exc.problems[:5]),
              "danger")
        return redirect(url_for("reviews.show", key=key, version=version))
    flash(f"已发布“{model.name}”第 {version} 版：新发起的流程使用此版本。", "success")
    return redirect(url_for("reviews.index"))


@bp.post("/<key>/v<int:version>/reject")
def reject(key: str, version: int) -> Any:
    try:
        model = workflow().reject(key, version, me().actor, request.form.get("comment", ""))
    except FormError as exc:
        flash(exc.errors.get("comment", exc.message), "danger")
        return redirect(url_for("reviews.show", key=key, version=version))
    flash(f"已驳回“{model.name}”第 {version} 版。", "info")
    return redirect(url_for("reviews.index"))

