"""救急难 (seed 一(四), 各镇): a town's window, 民政办 or rapid-response team registers an urgent case (reported at the
window, found by a village or community, or referred); the team verifies it on site within the hours of the rules
(the town's 分管领导 is told when it is still unverified after 12 hours, the district office when 24 hours pass);
a true case may get 先行救助 within the town's authority (an amount per case set per town), a referral to the
departments by the routing decision, and — what exceeds the town's authority — the district office's study
(协调, a joint-meeting topic, or 区级救助). The 身份证号 is optional for an urgent case, checked when given; it and the phone are sensitive fields, kept on the
case only (the case pages mask them for everyone but its handlers).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import cases
from meeting.actions._common import comment_required, decision, link, load, need_id, text
from meeting.actions._registry import registry
from meeting.actions.assistance import person_fields, route_aid_types, starter
from meeting.models import AssistanceCase, Topic, Unit
from meeting.notify import notify_groups
from meeting.roles import town_group
from meeting.rules import load_rules
from meeting.statuses import CaseKind, CaseSource, CaseStatus, TopicStatus
from meeting.timeutil import as_date, iso_local, local_today

DISTRICT_ROUTES = {"coordination": "协调", "topic": "议题", "district_aid": "区级救助"}
NO_REFERRAL = "none"
VERIFY_RESULTS = {"confirmed": "属实", "unfounded": "不属实"}
MAX_AMOUNT = 10_000_000


def _case(ctx: ActionContext, *statuses: CaseStatus) -> AssistanceCase:
    case = load(ctx.session, AssistanceCase, need_id(ctx, "case_id"), "急难案件")
    if case.kind != CaseKind.URGENT:
        raise FormError({"__all__": f"案件{case.number}不是急难案件"})
    if statuses:
        case.require(*statuses)
    return case


def advance_limit(ctx: ActionContext, town_code: str) -> int:
    """The town's 先行救助 authority per case, in yuan: its own setting, else the rules' default."""
    town = ctx.session.get(Unit, town_code)
    own = town.advance_limit if town is not None else None
    return own if own is not None else load_rules(ctx.session).advance_limit_yuan


def _amount(ctx: ActionContext, field: str) -> int | None:
    value = ctx.data.get(field)
    if value is None or value == "":
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_AMOUNT else None


def _referred_types(ctx: ActionContext) -> list[str]:
    """The aid types to refer: a list (a multi-select field) or one choice; ``none`` refers nothing."""
    raw = ctx.data.get("refer_aid_types")
    values = raw if isinstance(raw, list) else [raw] if raw not in (None, "", NO_REFERRAL) else []
    return cases.clean_aid_types(values)


@registry.action(
    "urgent.register",
    title="登记急难案件",
    description="镇（街办）窗口、民政办或快速响应服务队伍登记急难问题（窗口受理、村（社区）主动发现或部门转介）；"
                "按规则确定现场核实时限（默认24小时）和报告分管领导的时限（默认12小时）。身份证号可暂缺，填写的按国家标准校验。",
    reads=("case_source", "applicant_name", "applicant_id_number", "applicant_phone", "applicant_address",
           "applicant_village", "circumstances", "case_attachment", "initiator"),
    returns=("case_id", "case_town", "case_number", "verify_due", "escalate_at"),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    actor = starter(ctx)
    town = cases.town_of(ctx.session, actor)
    person, errors = person_fields(ctx, id_required=False)
    source = text(ctx, "case_source")
    if source not in {s.value for s in CaseSource}:
        errors["case_source"] = "请选择案件来源"
    if not person["circumstances"]:
        errors["circumstances"] = "请写明急难情况"
    if errors:
        raise FormError(errors)
    rules = load_rules(ctx.session)
    case = AssistanceCase(
        number=cases.next_number(ctx.session, town, CaseKind.URGENT, ctx.now), kind=CaseKind.URGENT, source=source,
        town_code=town.code, aid_types=[], reroute_count=0, reported_at=ctx.now,
        verify_due_at=ctx.now + timedelta(hours=rules.urgent_verify_hours), status=CaseStatus.VERIFYING,
        instance_id=ctx.instance_id, registered_by=actor, created_at=ctx.now, **person)
    ctx.session.add(case)
    ctx.session.flush()
    ctx.set_business_key(case.number)
    assert case.verify_due_at is not None
    notify_groups(ctx.session, [town_group(town.code, "team")], "task", f"急难案件待现场核实：{case.number}",
                  f"请在{rules.urgent_verify_hours}小时内到现场核实。", link("cases", case.id), ctx.now)
    return {"case_id": case.id, "case_town": town.code, "case_number": case.number,
            "verify_due": iso_local(case.verify_due_at),
            "escalate_at": iso_local(ctx.now + timedelta(hours=rules.urgent_escalate_hours))}


@registry.action(
    "urgent.escalate",
    title="报告分管领导",
    description="快速响应服务队伍超过规定时限（默认12小时）仍未现场核实的，告知镇（街办）分管领导和民政办，并记录报告时间。",
    reads=("case_id",),
)
def escalate(ctx: ActionContext) -> None:
    case = _case(ctx)
    if case.status != CaseStatus.VERIFYING:
        return  # verified in the same instant
    case.escalated_at = ctx.now
    hours = load_rules(ctx.session).urgent_escalate_hours
    notify_groups(ctx.session, [town_group(case.town_code, "leader"), town_group(case.town_code, "mzb")],
                  "supervision", f"急难案件超过{hours}小时未核实：{case.number}",
                  "快速响应服务队伍尚未完成现场核实，请督促。", link("cases", case.id), ctx.now)


@registry.action(
    "urgent.late",
    title="记为超时未核实",
    description="现场核实时限（默认24小时）届满仍未核实的，记为超时（计入月度归纳），告知区联席会议办公室和镇（街办）分管领导。",
    reads=("case_id",),
)
def late(ctx: ActionContext) -> None:
    case = _case(ctx)
    if case.status != CaseStatus.VERIFYING:
        return
    hours = load_rules(ctx.session).urgent_verify_hours
    notify_groups(ctx.session, ["office", town_group(case.town_code, "leader")], "supervision",
                  f"急难案件超过{hours}小时未核实：{case.number}", "现场核实已超时，记入月度归纳。",
                  link("cases", case.id), ctx.now)


@registry.action(
    "urgent.verify",
    title="现场核实",
    description="快速响应服务队伍现场核实情况是否属实并记录核实情况；属实的，可在本镇（街办）额度内提出先行救助金额、"
                "转介部门办理的救助类别，超出镇街权限的报区联席会议办公室。",
    reads=("case_id", "verify_result", "findings", "advance_amount", "refer_aid_types", "to_district",
           "district_reason"),
    returns=("needs_advance", "needs_referral", "needs_district", "advance_limit"),
)
def verify(ctx: ActionContext) -> dict[str, Any]:
    case = _case(ctx, CaseStatus.VERIFYING)
    errors: dict[str, str] = {}
    result = text(ctx, "verify_result")
    if result not in VERIFY_RESULTS:
        errors["verify_result"] = "请选择情况是否属实"
    found = result == "confirmed"
    findings = text(ctx, "findings")
    if not findings:
        errors["findings"] = "请填写核实情况"
    amount = _amount(ctx, "advance_amount")
    limit = advance_limit(ctx, case.town_code)
    if amount is None:
        errors["advance_amount"] = "先行救助金额应为不小于0的整数（元）"
    elif found and amount > limit:
        errors["advance_amount"] = f"先行救助金额超出本镇（街办）额度{limit}元，超出部分请报区联席会议办公室"
    aid_types = _referred_types(ctx)
    to_district = ctx.data.get("to_district") is True
    if found and to_district and not text(ctx, "district_reason"):
        errors["district_reason"] = "报区联席会议办公室时请写明超出镇街权限的理由"
    if errors:
        raise FormError(errors)
    case.verified_at, case.verified_by, case.verified_true, case.findings = ctx.now, ctx.actor, found, findings
    if not found:
        case.status, case.closed_at = CaseStatus.UNFOUNDED, ctx.now
        return {"needs_advance": False, "needs_referral": False, "needs_district": False, "advance_limit": limit}
    case.aid_types = aid_types
    case.advance_amount = amount or None
    if to_district:
        case.district_reason = text(ctx, "district_reason")
        notify_groups(ctx.session, ["office"], "task", f"急难案件报区联席会议办公室：{case.number}",
                      case.district_reason, link("cases", case.id), ctx.now)
    case.status = CaseStatus.DISTRICT if to_district else CaseStatus.HANDLING
    return {"needs_advance": bool(amount), "needs_referral": bool(aid_types), "needs_district": to_district,
            "advance_limit": limit}


@registry.action(
    "urgent.grant",
    title="发放先行救助",
    description="镇（街办）民政办在本镇额度内发放先行救助，记录发放金额和日期。",
    reads=("case_id", "granted_amount", "granted_on"),
)
def grant(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.HANDLING, CaseStatus.DISTRICT)
    amount = _amount(ctx, "granted_amount")
    limit = advance_limit(ctx, case.town_code)
    errors: dict[str, str] = {}
    if not amount:
        errors["granted_amount"] = "请填写发放金额（元）"
    elif amount > limit:
        errors["granted_amount"] = f"先行救助金额超出本镇（街办）额度{limit}元"
    try:
        day = as_date(ctx.data.get("granted_on"))
    except ValueError:
        day = None
    if day is None or day > local_today(ctx.now):
        errors["granted_on"] = "请填写发放日期（不晚于今天）"
    elif case.reported_at is not None and day < local_today(case.reported_at):
        errors["granted_on"] = "发放日期不能早于案件登记日期"
    if errors:
        raise FormError(errors)
    case.advance_amount, case.advance_granted_at, case.advance_granted_by = amount, ctx.now, ctx.actor


@registry.action(
    "urgent.refer",
    title="转介部门办理",
    description="按已发布的分派规则（决策表 assistance_routing）把核实时确定的救助类别转介办理部门；规则未覆盖的类别告知民政办。",
    reads=("case_id",),
    returns=("handling_ids", "unrouted", "has_handlings"),
)
def refer(ctx: ActionContext) -> dict[str, Any]:
    case = _case(ctx, CaseStatus.HANDLING, CaseStatus.DISTRICT)
    status = case.status
    out = route_aid_types(ctx, case, list(case.aid_types))
    case.status = status  # the urgent case's own status stands; its handlings carry theirs
    if out["unrouted"]:
        notify_groups(ctx.session, [town_group(case.town_code, "mzb")], "returned",
                      f"急难案件有救助类别未能转介：{case.number}", "、".join(out["unrouted"]),
                      link("cases", case.id), ctx.now)
    return {**out, "has_handlings": bool(out["handling_ids"])}


@registry.action(
    "urgent.district",
    title="区联席会议办公室研究",
    description="办公室研究超出镇街权限的急难案件：发起协调（通知办公室发起协调请求）、列为联席会议议题（直接受理入议题库），"
                "或给予区级救助（记录金额和说明）。",
    reads=("case_id", "district_route", "district_amount", "district_note"),
)
def district(ctx: ActionContext) -> None:
    route = decision(ctx, "district_route", tuple(DISTRICT_ROUTES))
    case = _case(ctx, CaseStatus.DISTRICT)
    note = comment_required(ctx, "district_note", "请写明研究意见")
    if route == "district_aid":
        amount = _amount(ctx, "district_amount")
        if not amount:
            raise FormError({"district_amount": "区级救助请填写救助金额（元）"})
        note = f"区级救助{amount}元。{note}"
    case.district_route, case.district_note = route, note
    if route == "topic":
        topic = Topic(title=f"急难案件{case.number}"[:100], background=f"{case.circumstances}\n核实情况：{case.findings or ''}",
                      proposal=note, related_units=[], urgency="urgent", unit_code=case.town_code,
                      proposer=ctx.actor, status=TopicStatus.ACCEPTED, instance_id=ctx.instance_id,
                      created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(topic)
        ctx.session.flush()
        case.topic_id = topic.id
        notify_groups(ctx.session, ["convener"], "info", f"急难案件列为联席会议议题：{case.number}", note,
                      link("cases", case.id), ctx.now)
    elif route == "coordination":
        notify_groups(ctx.session, ["office"], "task", f"请就急难案件发起协调：{case.number}", note,
                      link("cases", case.id), ctx.now)
    notify_groups(ctx.session, [town_group(case.town_code, "mzb")], "decision",
                  f"区联席会议办公室研究意见（{DISTRICT_ROUTES[route]}）：{case.number}", note,
                  link("cases", case.id), ctx.now)
    case.status = CaseStatus.HANDLING


@registry.action(
    "urgent.close",
    title="急难案件办结",
    description="先行救助、部门办理和区级研究各自完成后，急难案件办结。",
    reads=("case_id",),
)
def close(ctx: ActionContext) -> None:
    case = _case(ctx, CaseStatus.HANDLING, CaseStatus.DISTRICT)
    case.status, case.closed_at = CaseStatus.CLOSED, ctx.now
