"""单位名录 (/admin/units) and 联络员变更备案 (/admin/liaisons).

The system administrator adds, renames, merges, retires and reactivates units (history kept, open work follows
a merged unit); the office records a unit's new liaison. Administrators and the office read the directory."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reassign
from engine.errors import FormError
from meeting import liaisons, people, roles, units_admin
from meeting.directory import merged_codes
from meeting.models import UNIT_KINDS, ResolutionItem, Unit, User
from meeting.statuses import ResolutionStatus, UnitKind
from web.auth import me
from web.services import database, workflow
from web.views.admin_common import LIAISON_KEEPERS, UNIT_READERS, duty_required, form_dict, operator

bp = Blueprint("units", __name__, url_prefix="/admin/units")
liaison_bp = Blueprint("liaisons", __name__, url_prefix="/admin/liaisons")
UNIT_FIELDS = ("code", "name", "kind", "duties", "is_lead", "sort")
KINDS = [(k, UnitKind.label_of(k)) for k in UNIT_KINDS]


@bp.get("")
@duty_required(*UNIT_READERS)
def index() -> Any:
    kind = request.args.get("kind", "")
    retired = request.args.get("retired") == "1"
    with database().sessions() as s:
        rows = units_admin.overview(s, kind if kind in UNIT_KINDS else "", retired)
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        return render_template("admin/units.html", rows=rows, kinds=KINDS, kind=kind, retired=retired, names=names,
                               may_edit=me().has(roles.SYSADMIN))


@bp.route("/new", methods=["GET", "POST"])
@duty_required(roles.SYSADMIN)
def create() -> Any:
    values = form_dict(*UNIT_FIELDS)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with database().transaction() as s:
                unit = units_admin.create(s, values, actor=me().username, at=workflow().now())
        except FormError as exc:
            errors = exc.errors
        else:
            flash(f"已新增单位：{unit.name}", "success")
            return redirect(url_for("units.show", code=unit.code))
    return render_template("admin/unit_new.html", values=values, errors=errors, kinds=KINDS), \
        422 if errors else 200


def _details(s: Session, unit: Unit) -> dict[str, Any]:
    members = list(s.scalars(select(User).where(User.unit_code == unit.code).order_by(User.active.desc(),
                                                                                    User.username)))
    items = list(s.scalars(select(ResolutionItem).where(ResolutionItem.lead_unit == unit.code,
                                                        ResolutionItem.status.in_(ResolutionStatus.open()))
                           .order_by(ResolutionItem.deadline)))
    others = list(s.scalars(select(Unit).where(Unit.active, Unit.code != unit.code).order_by(Unit.kind, Unit.sort)))
    return {"members": members, "items": items, "others": others, "history": units_admin.history(s, unit.code),
            "tasks": reassign.open_tasks_of_group(s, unit.group),
            "merged": [s.get(Unit, c) for c in merged_codes(s, unit.code)],
            "merged_into": s.get(Unit, unit.merged_into) if unit.merged_into else None}


@bp.get("/<code>")
@duty_required(*UNIT_READERS)
def show(code: str, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
         status: int = 200) -> Any:
    with database().sessions() as s:
        unit = units_admin.get(s, code)
        return render_template("admin/unit.html", unit=unit, kinds=KINDS, errors=errors or {}, values=values,
                               may_edit=me().has(roles.SYSADMIN), **_details(s, unit)), status


def _act(code: str, action: Any, done: str, values: dict[str, str] | None = None) -> Any:
    try:
        with database().transaction() as s:
            message = action(s, units_admin.get(s, code))
    except FormError as exc:
        return show(code, errors=exc.errors, values=values, status=422)
    flash(message or done, "success")
    return redirect(url_for("units.show", code=code))


@bp.post("/<code>")
@duty_required(roles.SYSADMIN)
def update(code: str) -> Any:
    values = form_dict(*UNIT_FIELDS)
    return _act(code, lambda s, u: units_admin.update_unit(s, u, values, actor=me().username, at=workflow().now()),
                "单位信息已保存。", values)


@bp.post("/<code>/merge")
@duty_required(roles.SYSADMIN)
def merge(code: str) -> Any:
    values = form_dict("target", "note")

    def act(s: Session, unit: Unit) -> str:
        target = s.get(Unit, values["target"]) if values["target"] else None
        if target is None:
            raise FormError({"target": "请选择并入的单位"})
        r = units_admin.merge(s, unit, target, actor=me().username, at=workflow().now(), note=values["note"])
        return (f"{unit.name}已并入{target.name}：人员{r.people}名、未办结事项{r.items}项、议题{r.topics}个、"
                f"待办{r.tasks}件随之转入。")

    return _act(code, act, "", values)


@bp.post("/<code>/retire")
@duty_required(roles.SYSADMIN)
def retire(code: str) -> Any:
    note = request.form.get("note", "")
    return _act(code, lambda s, u: units_admin.retire(s, u, actor=me().username, at=workflow().now(), note=note),
                "单位已撤销（保留在名录和历史记录中）。")


@bp.post("/<code>/reactivate")
@duty_required(roles.SYSADMIN)
def reactivate(code: str) -> Any:
    return _act(code, lambda s, u: units_admin.reactivate(s, u, actor=me().username, at=workflow().now()),
                "单位已恢复。")


# ---------------------------------------------------------------------------------------------- liaisons
LIAISON_FIELDS = ("unit_code", "effective_on", "note", "new_user", "new_username", "display_name", "post",
                  "phone", "email", "previous", "hand_over", "deactivate_previous")


@liaison_bp.get("")
@duty_required(*LIAISON_KEEPERS)
def index_liaisons(errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   status: int = 200) -> Any:
    chosen = (values or {}).get("unit_code") or request.args.get("unit", "")
    with database().sessions() as s:
        units = list(s.scalars(select(Unit).where(Unit.active, Unit.kind.in_(("member", "town", "invited")))
                               .order_by(Unit.kind, Unit.sort)))
        current = {u.code: people.active_liaisons(s, u.code) for u in units}
        colleagues = list(s.scalars(select(User).where(User.unit_code == chosen, User.active)
                                    .order_by(User.username))) if chosen else []
        claimed = {u.username: len(reassign.claimed_by(s, u.username, f"unit:{chosen}")) for u in current.get(chosen, [])}
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        users = {u.username: u.display_name for u in s.scalars(select(User))}
        return render_template("admin/liaisons.html", units=units, current=current, chosen=chosen,
                               colleagues=colleagues, claimed=claimed, recent=liaisons.recent(s), names=names,
                               users=users, errors=errors or {}, values=values or {},
                               today=workflow().now().date().isoformat()), status


@liaison_bp.post("")
@duty_required(*LIAISON_KEEPERS)
def record_liaison() -> Any:
    v = form_dict(*LIAISON_FIELDS)
    req = liaisons.LiaisonRequest(
        unit_code=v["unit_code"], effective_on=v["effective_on"], note=v["note"], new_user=v["new_user"],
        new_username=v["new_username"], previous=v["previous"], hand_over=v["hand_over"] == "1",
        deactivate_previous=v["deactivate_previous"] == "1",
        new_person={k: v[k] for k in ("display_name", "post", "phone", "email")})
    try:
        with database().transaction() as s:
            done = liaisons.record(s, req, by=operator(), at=workflow().now())
            new = s.scalar(select(User).where(User.username == done.change.new_user))
            unit = s.get(Unit, done.change.unit_code)
    except FormError as exc:
        return index_liaisons(errors=exc.errors, values=v, status=422)
    assert new is not None and unit is not None
    if done.one_time_password:
        return render_template("admin/password_issued.html", person=new, password=done.one_time_password,
                               created=True, back=url_for("liaisons.index_liaisons", unit=unit.code))
    flash(f"已备案：{unit.name}联络员变更为{new.display_name}" +
          (f"，{done.handed_over}件已签收的待办已转交" if done.handed_over else ""), "success")
    return redirect(url_for("liaisons.index_liaisons", unit=unit.code))
