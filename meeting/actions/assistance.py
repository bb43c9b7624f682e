"""一门受理、协同办理 (seed 一(四), 各镇): a town's 便民服务中心 window registers an application once (一次性告知 of
missing materials, with a deadline), the routing decision sends each requested aid type to the department that acts
(民政 items to the town's own 民政办), each department 签收s within a working day and handles within the rule's
limit or returns it as 非本部门职责 (back to the window to re-route), the window informs the applicant and 回访s.

The applicant's 身份证号 and phone are sensitive form fields: kept on the case only, never in the audit or the
process data (engine/sensitive.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import cases, idcard
from meeting.actions._common import comment_required, decision, link, load, need_id, text
from meeting.actions._registry import registry
from meeting.models import AssistanceCase, CaseHandling, Unit
from meeting.notify import notify_groups
from meeting.roles import town_group
from meeting.routing import route_by_rules
from meeting.rules import load_rules
from meeting.statuses import CaseKind, CaseSource, CaseStatus, HandlingStatus, Satisfaction
from meeting.timeutil import as_date, end_of_day, iso_local, local_today
from meeting.workdays import add_workdays

INFORM_METHODS = {"in_person": "当面告知", "phone": "电话告知", "written": "书面告知", "sms": "短信告知"}
REROUTE_MODES = ("rules", "manual", "close")
# A department's part the window must decide on again: returned as 非本部门职责, or closed as 逾期未办结.
UNSETTLED = (HandlingStatus.RETURNED, HandlingStatus.LAPSED)
WINDOW_WORKDAYS = 2  # the window re-routes, or informs the applicant, within


def _case(ctx: ActionContext, *statuses: CaseStatus) -> AssistanceCase:
    case = load(ctx.session, AssistanceCase, need_id(ctx, "case_id"), "案件")
    if statuses:
        case.require(*statuses)
    return case


def person_fields(ctx: ActionContext, id_required: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The applicant as the start form gives it, and the problems by field."""
    name = text(ctx, "applicant_name")[:100]
    id_number = idcard.normalise(text(ctx, "applicant_id_number"))
    phone = text(ctx, "applicant_phone")[:32]
    errors = cases.check_person(name, id_number, phone, ctx.now, id_required)
    size = ctx.data.get("household_size")
    return {"applicant_name": name, "id_number": id_number or None, "phone": phone or None,
            "address": text(ctx, "applicant_address")[:200], "village": text(ctx, "applicant_village")[:100],
            "household_size": int(size) if isinstance(size, int) else None,
            "circumstances": text(ctx, "circumstances"), "attachment_id": text(ctx, "case_attachment") or None}, errors


def starter(ctx: ActionContext) -> str | None:
    """Who registers: the person completing the step, or (for the steps right after a start) who started it."""
    return ctx.actor or text(ctx, "initiator") or None


@registry.action(
    "case.register",
    title="登记救助申请",
    description="便民服务中心窗口登记申请人、家庭、申请救助类别和材料；材料不全的一次性告知所缺材料和补齐期限。"
                "身份证号按国家标准校验；身份证号和电话只在案件中保存。",
    reads=("applicant_name", "applicant_id_number", "applicant_phone", "applicant_address", "applicant_village",
           "household_size", "aid_types", "circumstances", "case_attachment", "missing_materials", "materials_due"),
    returns=("case_id", "case_town", "case_number", "needs_materials", "materials_due"),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    town = cases.town_of(ctx.session, starter(ctx))
    person, errors = person_fields(ctx, id_required=True)
    aid_types = cases.clean_aid_types(ctx.data.get("aid_types") or [])
    if not aid_types:
        errors["aid_types"] = "请至少选择一项申请救助类别"
    missing = text(ctx, "missing_materials")
    due_day = None
    if missing:
        try:
            due_day = as_date(ctx.data.get("materials_due"))
        except ValueError:
            due_day = None
        if due_day is None:
            errors["materials_due"] = "告知所缺材料时请写明补齐期限"
        elif due_day <= local_today(ctx.now):
            errors["materials_due"] = "补齐期限应晚于今天"
    if errors:
        raise FormError(errors)
    case = AssistanceCase(
        number=cases.next_number(ctx.session, town, CaseKind.REFERRAL, ctx.now), kind=CaseKind.REFERRAL,
        source=CaseSource.WINDOW, town_code=town.code, aid_types=aid_types, missing_materials=missing or None,
        materials_due_at=end_of_day(due_day) if due_day else None, reroute_count=0,
        status=CaseStatus.MATERIALS if missing else CaseStatus.HANDLING, instance_id=ctx.instance_id,
        registered_by=starter(ctx), created_at=ctx.now, **person)
    ctx.session.add(case)
    ctx.session.flush()
    ctx.set_business_key(case.number)
    return {"case_id": case.id, "case_town": town.code, "case_number": case.number, "needs_materials": bool(missing),
            "materials_due": iso_local(case.materials_due_at) if case.materials_due_at else ""}


@registry.action(
    "case.materials",
    title="补齐材料",
    description="申请人在期限内补齐一次性告知的材料，窗口登记后按规则分派。",
    reads=("case_id", "materials_attachment", "materials_note"),
)
def materials(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.MATERIALS)
    if not text(ctx, "materials_attachment") and not text(ctx, "materials_note"):
        raise FormError({"materials_note": "请上传补齐的材料或写明补齐情况"})
    if text(ctx, "materials_attachment"):
        case.attachment_id = text(ctx, "materials_attachment")
    case.materials_supplied_at, case.status = ctx.now, CaseStatus.HANDLING


@registry.action(
    "case.materials_lapsed",
    title="材料逾期未补齐",
    description="补齐期限届满仍未补齐材料的，终止受理并记录；申请人补齐后可重新申请。",
    reads=("case_id",),
)
def materials_lapsed(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.MATERIALS)
    case.status, case.closed_at = CaseStatus.LAPSED, ctx.now


def route_aid_types(ctx: ActionContext, case: AssistanceCase, aid_types: list[str]) -> dict[str, Any]:
    """Handlings for ``aid_types`` by the routing decision as published now, skipping departments that returned
    the case; aid types no rule covers go back to the window."""
    version, routes, unrouted = route_by_rules(ctx.session, aid_types, cases.returned_departments(ctx.session, case.id))
    round_no = case.reroute_count + 1
    rows = cases.open_handlings(ctx.session, case, routes, round_no, version, ctx.now)
    case.routing_version = version
    case.status = CaseStatus.HANDLING if rows else CaseStatus.REROUTING
    for row in rows:
        notify_groups(ctx.session, [cases.handling_group(case, row.department)], "task",
                      f"一门受理转办：{case.number}", f"申请救助类别：{row.aid_type}", link("cases", case.id), ctx.now)
    return {"handling_ids": [r.id for r in rows], "unrouted": unrouted, "has_handlings": bool(rows)}


@registry.action(
    "case.route",
    title="按规则分派",
    description="按已发布的分派规则（决策表 assistance_routing）把每项申请救助类别分派给办理部门；民政事项由镇（街办）民政办审查审批。",
    reads=("case_id",),
    returns=("handling_ids", "unrouted", "has_handlings"),
)
def route(ctx: ActionContext) -> dict[str, Any]:
    case = _case(ctx, CaseStatus.HANDLING)
    return route_aid_types(ctx, case, list(case.aid_types))


@registry.action(
    "case.collect",
    title="汇总部门办理结果",
    description="各部门办结、退回或逾期后汇总：有退回“非本部门职责”、逾期未办结或规则未覆盖的类别时交窗口重新分派。",
    reads=("case_id", "unrouted"),
    returns=("needs_reroute", "window_due"),
)
def collect(ctx: ActionContext) -> dict[str, Any]:
    case = _case(ctx, CaseStatus.HANDLING, CaseStatus.REROUTING)
    returned = ctx.session.scalar(select(CaseHandling.id).where(
        CaseHandling.case_id == case.id, CaseHandling.round == case.reroute_count + 1,
        CaseHandling.status.in_(UNSETTLED)).limit(1))
    needs = returned is not None or bool(ctx.data.get("unrouted"))
    case.status = CaseStatus.REROUTING if needs else CaseStatus.INFORMING
    if needs:
        notify_groups(ctx.session, [town_group(case.town_code, "window")], "returned", f"案件待重新分派：{case.number}",
                      "有部门退回“非本部门职责”、逾期未办结，或规则未覆盖的申请类别，请重新分派。", link("cases", case.id), ctx.now)
    due = add_workdays(ctx.session, ctx.now, WINDOW_WORKDAYS)
    return {"needs_reroute": needs, "window_due": iso_local(due)}


@registry.action(
    "case.reroute",
    title="重新分派",
    description="窗口按现行分派规则重新分派（排除已退回的部门）、指定办理部门，或写明理由不再分派。",
    reads=("case_id", "reroute_mode", "reroute_unit", "reroute_limit", "reroute_comment"),
    returns=("handling_ids", "unrouted", "reroute_mode"),
)
def reroute(ctx: ActionContext) -> dict[str, Any]:
    mode = decision(ctx, "reroute_mode", REROUTE_MODES)
    case = _case(ctx, CaseStatus.REROUTING)
    latest = case.reroute_count + 1
    pending = [h for h in ctx.session.scalars(select(CaseHandling).where(
        CaseHandling.case_id == case.id, CaseHandling.round == latest, CaseHandling.status.in_(UNSETTLED)))]
    aid_types = list(dict.fromkeys([h.aid_type for h in pending] + list(ctx.data.get("unrouted") or [])))
    if mode == "close":
        comment_required(ctx, "reroute_comment", "不再分派时请写明理由")
        case.status = CaseStatus.INFORMING
        return {"handling_ids": [], "unrouted": [], "reroute_mode": mode}
    case.reroute_count = latest
    if mode == "rules":
        out = route_aid_types(ctx, case, aid_types)
        if not out["handling_ids"]:
            case.reroute_count = latest - 1
            raise FormError({"reroute_mode": "按现行分派规则没有其他部门可以办理，请指定办理部门或写明理由不再分派"})
        return {**out, "reroute_mode": mode}
    unit = text(ctx, "reroute_unit")
    department = ctx.session.get(Unit, unit)
    if department is None or not department.active or department.kind not in ("member", "invited"):
        raise FormError({"reroute_unit": "请选择办理部门"})
    if unit in cases.returned_departments(ctx.session, case.id):
        raise FormError({"reroute_unit": "该部门已退回“非本部门职责”，请选择其他部门"})
    limit = ctx.data.get("reroute_limit")
    if not isinstance(limit, int) or not 1 <= limit <= 60:
        raise FormError({"reroute_limit": "请填写1至60个工作日的办理时限"})
    routes = [cases.Route(t, unit, limit) for t in aid_types] or [cases.Route(case.aid_types[0], unit, limit)]
    rows = cases.open_handlings(ctx.session, case, routes, latest + 1, None, ctx.now)
    case.status = CaseStatus.HANDLING
    notify_groups(ctx.session, [cases.handling_group(case, unit)], "task", f"一门受理转办：{case.number}",
                  "窗口指定由本部门办理。", link("cases", case.id), ctx.now)
    return {"handling_ids": [r.id for r in rows], "unrouted": [], "reroute_mode": mode}


@registry.action(
    "case.inform",
    title="告知申请人",
    description="窗口汇总各部门办理结果，告知申请人（记录日期、方式和内容），并确定回访期限。",
    reads=("case_id", "informed_on", "inform_method", "inform_summary"),
    returns=("visit_due",),
)
def inform(ctx: ActionContext) -> dict[str, Any]:
    case = _case(ctx, CaseStatus.INFORMING)
    try:
        day = as_date(ctx.data.get("informed_on"))
    except ValueError:
        day = None
    errors = {}
    if day is None:
        errors["informed_on"] = "请填写告知日期"
    elif day > local_today(ctx.now):
        errors["informed_on"] = "告知日期不能晚于今天"
    if text(ctx, "inform_method") not in INFORM_METHODS:
        errors["inform_method"] = "请选择告知方式"
    if not text(ctx, "inform_summary"):
        errors["inform_summary"] = "此项必填"
    if errors:
        raise FormError(errors)
    case.informed_on, case.inform_method = day, text(ctx, "inform_method")
    case.inform_summary, case.status = text(ctx, "inform_summary"), CaseStatus.VISITING
    due = add_workdays(ctx.session, ctx.now, load_rules(ctx.session).case_visit_workdays)
    return {"visit_due": iso_local(due)}


@registry.action(
    "case.visit",
    title="回访",
    description="窗口回访申请人，记录满意度，案件办结。",
    reads=("case_id", "visited_on", "satisfaction", "visit_comment"),
)
def visit(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.VISITING)
    answer = decision(ctx, "satisfaction", ("satisfied", "basic", "unsatisfied"))
    try:
        day = as_date(ctx.data.get("visited_on"))
    except ValueError:
        day = None
    if day is None or day > local_today(ctx.now):
        raise FormError({"visited_on": "请填写回访日期（不晚于今天）"})
    if answer == "unsatisfied":
        comment_required(ctx, "visit_comment", "不满意时请记录申请人的意见")
    case.visited_on, case.satisfaction, case.visit_comment = day, answer, text(ctx, "visit_comment") or None
    case.status, case.closed_at = CaseStatus.CLOSED, ctx.now


@registry.action(
    "case.visit_lapsed",
    title="回访期限届满",
    description="回访期限届满仍未回访的，记为“未回访”并办结，计入统计。",
    reads=("case_id",),
)
def visit_lapsed(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.VISITING)
    case.satisfaction, case.status, case.closed_at = Satisfaction.UNREACHED, CaseStatus.CLOSED, ctx.now
