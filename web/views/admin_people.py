"""人员管理 (/admin/people): the system administrator creates, edits, deactivates and reactivates people, resets
passwords and imports people from Excel; the security administrator grants roles and groups; the audit
administrator reads. Each change is one call into meeting/people.py in one transaction, audited there."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reassign
from engine.errors import FormError, NotFound
from meeting import people, people_import, roles, signin
from meeting.models import Unit, User
from web.auth import me
from web.services import database, workflow
from web.views.admin_common import PEOPLE_READERS, duty_required, form_dict, operator, page_number

bp = Blueprint("people", __name__, url_prefix="/admin/people")
PROFILE_FIELDS = ("display_name", "unit_code", "post", "phone", "email", "is_liaison")


def _units(s: Session) -> list[Unit]:
    return list(s.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.sort, Unit.code)))


def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound("人员不存在")
    return user


@bp.get("")
@duty_required(*PEOPLE_READERS)
def index() -> Any:
    query = people.PeopleQuery(text=request.args.get("q", "").strip()[:100], unit=request.args.get("unit", ""),
                               role=request.args.get("role", ""), status=request.args.get("status", "active"),
                               liaison=request.args.get("liaison") == "1")
    number = page_number()
    with database().sessions() as s:
        rows, total = people.search(s, query, number)
        units = _units(s)
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        return render_template("admin/people.html", rows=rows, total=total, page=number, query=query, units=units,
                               names=names, pages=max(1, -(-total // people.PAGE_SIZE)),
                               groups=roles.grantable(s), label=lambda k: roles.group_label(k, names))


@bp.route("/new", methods=["GET", "POST"])
@duty_required(roles.SYSADMIN)
def create() -> Any:
    values = form_dict("username", *PROFILE_FIELDS)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            with database().transaction() as s:
                user, password = people.create(s, values["username"], values, by=operator(),
                                               at=workflow().now())
        except FormError as exc:
            errors = exc.errors
        else:  # shown once, after the commit: the password exists only on this page
            return render_template("admin/password_issued.html", person=user, password=password, created=True)
    with database().sessions() as s:
        return render_template("admin/person_new.html", values=values, errors=errors, units=_units(s)), \
            422 if errors else 200


@bp.get("/<int:user_id>")
@duty_required(*PEOPLE_READERS)
def show(user_id: int, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
         status: int = 200) -> Any:
    with database().sessions() as s:
        user = _user(s, user_id)
        names = {u.code: u.name for u in s.scalars(select(Unit))}
        colleagues = [u for u in s.scalars(select(User).where(User.unit_code == user.unit_code, User.active,
                                                              User.id != user.id).order_by(User.username))] \
            if user.unit_code else []
        policy = signin.load(s)
        groups = roles.grantable(s)
        sections: dict[str, list[roles.GroupDef]] = {}
        for g in groups:  # in the catalogue's order: roles, the three administrators, then each town
            sections.setdefault(g.section, []).append(g)
        return render_template(
            "admin/person.html", person=user, errors=errors or {}, values=values, units=_units(s), names=names,
            groups=groups, sections=list(sections.items()), label=lambda k: roles.group_label(k, names), colleagues=colleagues,
            held=reassign.claimed_by(s, user.username), password=signin.state(user, policy, workflow().now()),
            may_edit=me().has(roles.SYSADMIN), may_grant=me().has(roles.SECADMIN),
            exclusive=roles.EXCLUSIVE), status


def _act(user_id: int, action: Any, done: str, values: dict[str, str] | None = None) -> Any:
    """Run one change on a person; a refusal shows the person's page again with the reasons and the values."""
    try:
        with database().transaction() as s:
            action(s, _user(s, user_id))
    except FormError as exc:
        return show(user_id, errors=exc.errors, values=values, status=422)
    flash(done, "success")
    return redirect(url_for("people.show", user_id=user_id))


@bp.post("/<int:user_id>")
@duty_required(roles.SYSADMIN)
def update(user_id: int) -> Any:
    values = form_dict(*PROFILE_FIELDS, "successor", "to_office")
    return _act(user_id, lambda s, u: people.update(
        s, u, values, by=operator(), at=workflow().now(), successor=values["successor"] or None,
        to_office=values["to_office"] == "1"), "人员信息已保存。", values)


@bp.post("/<int:user_id>/deactivate")
@duty_required(roles.SYSADMIN)
def deactivate(user_id: int) -> Any:
    values = form_dict("successor", "to_office", "reason")
    return _act(user_id, lambda s, u: people.deactivate(
        s, u, by=operator(), at=workflow().now(), successor=values["successor"] or None,
        to_office=values["to_office"] == "1", reason=values["reason"]), "账号已停用。", values)


@bp.post("/<int:user_id>/reactivate")
@duty_required(roles.SYSADMIN)
def reactivate(user_id: int) -> Any:
    return _act(user_id, lambda s, u: people.reactivate(s, u, by=operator(), at=workflow().now()), "账号已启用。")


@bp.post("/<int:user_id>/password")
@duty_required(roles.SYSADMIN)
def reset_password(user_id: int) -> Any:
    try:
        with database().transaction() as s:
            user = _user(s, user_id)
            password = people.reset_password(s, user, by=operator(), at=workflow().now())
    except FormError as exc:
        return show(user_id, errors=exc.errors, status=422)
    return render_template("admin/password_issued.html", person=user, password=password, created=False)


@bp.post("/<int:user_id>/roles")
@duty_required(roles.SECADMIN)
def set_roles(user_id: int) -> Any:
    wanted = request.form.getlist("role")
    extra = request.form.get("extra", "").strip()
    if extra:
        wanted.append(extra)
    return _act(user_id, lambda s, u: people.set_roles(s, u, wanted, by=operator(), at=workflow().now()),
                "角色与群组已保存。")


# ---------------------------------------------------------------------------------------------- import
@bp.get("/template.xlsx")
@duty_required(roles.SYSADMIN)
def template() -> Any:
    with database().sessions() as s:
        data = people_import.template(s)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=people-template.xlsx"})


@bp.route("/import", methods=["GET", "POST"])
@duty_required(roles.SYSADMIN)
def import_people() -> Any:
    """Upload: always a dry run first. The page lists every row's problem; with none, it offers the import."""
    if request.method == "GET":
        return render_template("admin/import.html", plan=None, errors={})
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin/import.html", plan=None, errors={"file": "请选择要导入的 .xlsx 文件"}), 422
    try:
        rows = people_import.read_workbook(upload.read(people_import.MAX_BYTES + 1))
    except FormError as exc:
        return render_template("admin/import.html", plan=None, errors=exc.errors), 422
    return _show_plan(rows, upload.filename)


def _show_plan(rows: list[people_import.ImportRow], filename: str) -> Any:
    with database().sessions() as s:
        plan = people_import.plan(s, rows)
        names = {u.code: u.name for u in s.scalars(select(Unit))}
    payload = json.dumps([{"row": r.row, "values": r.values} for r in rows], ensure_ascii=False)
    return render_template("admin/import.html", plan=plan, errors={}, payload=payload, filename=filename,
                           names=names), 200 if plan.ok else 422


@bp.post("/import/confirm")
@duty_required(roles.SYSADMIN)
def import_confirm() -> Any:
    """The rows of a clean dry run, sent back from the page: checked again, then everyone or nobody."""
    try:
        raw = json.loads(request.form.get("rows", "[]"))
        rows = [people_import.ImportRow(int(r["row"]), {str(k): str(v) for k, v in dict(r["values"]).items()})
                for r in raw][: people_import.MAX_ROWS]
    except (ValueError, TypeError, KeyError):
        return render_template("admin/import.html", plan=None, errors={"file": "导入数据无效，请重新上传文件"}), 422
    filename = request.form.get("filename", "")[:200]
    try:
        with database().transaction() as s:
            created = people_import.apply(s, rows, by=operator(), at=workflow().now())
    except FormError:
        return _show_plan(rows, filename)
    return render_template("admin/import_done.html", created=created)
