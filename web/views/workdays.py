"""工作日设置 (/admin/workdays): an administrator enters or corrects holidays and 调休 make-up working days from the
State Council's notice and confirms a year's schedule; the office is warned on every page while this year or
the next has none. Also the office's 督办 rules (/admin/supervision-rules)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import FormError
from meeting import workdays
from meeting.rules import INT_LIMITS, ITEM_CLASSES, load_rules, save_rules
from meeting.statuses import Rung
from meeting.timeutil import local_today
from web.auth import me, roles_required
from web.services import database, workflow

bp = Blueprint("workdays", __name__)
ADMINS = ("sysadmin",)  # 系统管理员 keeps the settings (admins always may)
WARNED = ("office", "convener", "sysadmin", "admin")


@bp.app_context_processor
def warning() -> dict[str, Any]:
    """The missing-schedule warning for those who set or live by the deadlines."""
    if not current_user.is_authenticated or not me().has(*WARNED):
        return {"workday_warning": None}
    with database().sessions() as s:
        text = workdays.schedule_warning(s, local_today(workflow().now()))
    return {"workday_warning": text}


def _year() -> int:
    raw = request.args.get("year", "").strip()
    today = local_today(workflow().now())
    if not raw:
        return today.year + 1 if today.month >= 10 else today.year
    if not (raw.isascii() and raw.isdigit()) or not 2000 <= int(raw) <= 2100:
        abort(404)
    return int(raw)


@bp.get("/admin/workdays")
@roles_required(*ADMINS)
def index(errors: dict[str, str] | None = None, form: dict[str, str] | None = None, status: int = 200) -> Any:
    year = int(form["year"]) if form and form.get("year", "").isascii() and form.get("year", "").isdigit() \
        and len(form["year"]) == 4 else _year()
    with database().sessions() as s:
        rows = workdays.overrides_of(s, year)
        cal = workdays.calendar_for(s)
        confirmed = s.get(workdays.WorkdayYear, year)
    library = year in workdays.library_years()
    return render_template("admin/workdays.html", year=year, rows=rows, library=library, confirmed=confirmed,
                           covered=cal.covers(year), errors=errors or {}, form=form or {}), status


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FormError({"day": "请填写日期（YYYY-MM-DD）"}) from None


@bp.post("/admin/workdays")
@roles_required(*ADMINS)
def set_day() -> Any:
    form = {k: request.form.get(k, "") for k in ("day", "kind", "name", "year")}
    try:
        day = _day(form["day"])
        if form["kind"] not in ("workday", "holiday"):
            raise FormError({"kind": "请选择上班或放假"})
        with database().transaction() as s:
            workdays.set_day(s, day, form["kind"] == "workday", form["name"], me().username, workflow().now())
    except FormError as exc:
        return index(exc.errors, form, 422)
    flash(f"已设置 {day.isoformat()} 为{'工作日（调休上班）' if form['kind'] == 'workday' else '休息日（放假）'}。", "success")
    return redirect(url_for("workdays.index", year=day.year))


@bp.post("/admin/workdays/<day>/delete")
@roles_required(*ADMINS)
def remove_day(day: str) -> Any:
    try:
        when = _day(day)
    except FormError:
        abort(404)
    with database().transaction() as s:
        removed = workdays.remove_day(s, when)
    flash("已删除该日设置，按节假日库或周一至周五计算。" if removed else "该日没有设置。", "info")
    return redirect(url_for("workdays.index", year=when.year))


@bp.post("/admin/workdays/confirm")
@roles_required(*ADMINS)
def confirm() -> Any:
    form = {k: request.form.get(k, "") for k in ("year", "source")}
    if not (form["year"].isascii() and form["year"].isdigit() and len(form["year"]) == 4):
        abort(404)
    try:
        with database().transaction() as s:
            workdays.confirm_year(s, int(form["year"]), form["source"], me().username, workflow().now())
    except FormError as exc:
        return index(exc.errors, form, 422)
    flash(f"已确认{form['year']}年节假日安排已录入。", "success")
    return redirect(url_for("workdays.index", year=int(form["year"])))


# ---------------------------------------------------------------------------------------------- 督办规则
@bp.get("/admin/supervision-rules")
@roles_required(*ADMINS)
def rules(errors: dict[str, str] | None = None, form: dict[str, Any] | None = None, status: int = 200) -> Any:
    with database().sessions() as s:
        current = load_rules(s).as_dict()
    values = {**current, **(form or {})}
    return render_template("admin/supervision_rules.html", values=values, limits=INT_LIMITS, classes=ITEM_CLASSES,
                           rungs=[(r.value, r.label) for r in (Rung.NOTICE, Rung.LETTER, Rung.REPORT)],
                           errors=errors or {}), status


@bp.post("/admin/supervision-rules")
@roles_required(*ADMINS)
def save() -> Any:
    raw: dict[str, Any] = {name: request.form.get(name, "") for name in INT_LIMITS}
    ladders = {cls: [v for v in request.form.get(f"ladder_{cls}", "").replace("，", ",").split(",") if v.strip()]
               for cls in ITEM_CLASSES}
    raw["ladders"] = {cls: steps for cls, steps in ladders.items() if steps}  # an empty box keeps the default
    try:
        with database().transaction() as s:
            save_rules(s, raw, me().username, workflow().now())
    except FormError as exc:
        return rules(exc.errors, raw, 422)
    flash("督办规则已保存。", "success")
    return redirect(url_for("workdays.rules"))
