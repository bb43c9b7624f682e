"""发布审批 of decision tables, on the reviews blueprint: the approver reads the submitted table next to the one in
force (added, changed and removed rules marked) and publishes or rejects it; nobody reviews their own version."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from engine.errors import FormError, NotFound
from engine.models import PENDING, DecisionModel
from web.auth import me
from web.diagrams import diagram_response
from web.services import workflow
from web.views.reviews import bp


def _model(decision: str, version: int) -> DecisionModel:
    try:
        return workflow().decisions.model(decision, version)
    except NotFound:
        abort(404)


def rule_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Each rule of ``new`` that is ``added`` or ``changed`` against ``old`` (by rule id), and the rules of
    ``old`` that ``new`` no longer has."""
    before = {r["id"]: r for r in (old or {}).get("rules", [])}
    marks = {}
    for rule in new["rules"]:
        was = before.get(rule["id"])
        if was is None:
            marks[rule["id"]] = "added"
        elif (was["tests"], was["outputs"], was["note"]) != (rule["tests"], rule["outputs"], rule["note"]):
            marks[rule["id"]] = "changed"
    kept = {r["id"] for r in new["rules"]}
    return marks, [r for r in before.values() if r["id"] not in kept]


@bp.get("/decisions/<decision>/v<int:version>")
def decision_show(decision: str, version: int) -> Any:
    model = _model(decision, version)
    base = workflow().decisions.published(decision)
    if base is not None and base.version == model.version:
        base = None
    base_table = workflow().decisions.model(decision, base.version).table if base else None
    marks, removed = rule_changes(base_table, model.table) if base_table is not None else ({}, [])
    head_changed = base_table is not None and (base_table["inputs"], base_table["outputs"], base_table["hit_policy"]) \
        != (model.table["inputs"], model.table["outputs"], model.table["hit_policy"])
    return render_template("reviews/decision.html", model=model, base=base, table=model.table, marks=marks,
                           removed=removed, head_changed=head_changed, own=model.deployed_by == me().username,
                           pending=model.status == PENDING)


@bp.get("/decisions/<decision>/v<int:version>.dmn")
def decision_xml(decision: str, version: int) -> Any:
    model = _model(decision, version)
    return diagram_response(model.xml, f"{decision}-v{version}.dmn")


@bp.post("/decisions/<decision>/v<int:version>/publish")
def decision_publish(decision: str, version: int) -> Any:
    model = workflow().decisions.publish(decision, version, me().actor, request.form.get("comment", ""))
    flash(f"已发布决策表“{model.name}”第 {version} 版：此后的判定使用此版本。", "success")
    return redirect(url_for("reviews.index"))


@bp.post("/decisions/<decision>/v<int:version>/reject")
def decision_reject(decision: str, version: int) -> Any:
    try:
        model = workflow().decisions.reject(decision, version, me().actor, request.form.get("comment", ""))
    except FormError as exc:
        flash(exc.errors.get("comment", exc.message), "danger")
        return redirect(url_for("reviews.decision_show", decision=decision, version=version))
    flash(f"已驳回决策表“{model.name}”第 {version} 版。", "info")
    return redirect(url_for("reviews.index"))
