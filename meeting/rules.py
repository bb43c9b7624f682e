"""The office's 督办 rules: extensions, co-unit deadlines, the escalation ladder per item class, the cycles of
progress reports. Defaults follow office practice (延期 usually once, at most twice, asked in writing before the
deadline); an administrator may change them (``supervision_settings``, one JSON row over these defaults).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.errors import FormError
from meeting.models import ResolutionItem, SupervisionSettings
from meeting.statuses import Rung

SETTINGS_ID = 1
# Item classes the ladder is configured for: 重点事项 and the others.
ITEM_CLASSES = {"normal": "一般事项", "key": "重点事项"}
CLIMBING_RUNGS = (Rung.NOTICE, Rung.LETTER, Rung.REPORT)


def _default_ladders() -> dict[str, list[str]]:
    # First overdue week a 督办通知, the second a 督办函 signed by the convener, the third a report to the 负责人
    # with a proposed 约谈; later weeks repeat the last rung.
    ladder = [Rung.NOTICE.value, Rung.LETTER.value, Rung.REPORT.value]
    return {"normal": list(ladder), "key": list(ladder)}


@dataclass(frozen=True)
class SupervisionRules:
    extension_grace_workdays: int = 0  # requests accepted this many working days after the deadline (0: before)
    extension_max_count: int = 2  # approved extensions per item
    extension_max_workdays: int = 30  # the new deadline at most this many working days after the current one
    co_unit_lead_workdays: int = 5  # a co-unit's default deadline: this many working days before the lead's
    co_remind_workdays: int = 2  # 催办 a co-unit this many working days before its deadline
    letter_sign_workdays: int = 2  # the convener signs a 督办函 within
    closing_approval_workdays: int = 3  # the convener approves the 销号 of a key item within
    progress_due_workdays: int = 5  # lead units report progress within this after the cut-off
    # 信访 (信访工作条例): concluded within 60 days of the referral, extendable once by up to 30 days with approval.
    petition_limit_days: int = 60
    petition_extension_max_count: int = 1
    petition_extension_max_days: int = 30
    # 一门受理、协同办理 and 救急难 (seed 一(四), 各镇).
    case_sign_workdays: int = 1  # a department 签收s a routed case within
    case_lapse_workdays: int = 5  # past its limit by this, a silent department's part is closed as 逾期未办结
    case_visit_workdays: int = 10  # the window 回访s within this after informing the applicant
    urgent_verify_hours: int = 24  # the rapid-response team verifies an urgent case on site within
    urgent_escalate_hours: int = 12  # unverified after this, the town leader is told
    advance_limit_yuan: int = 3000  # a town's 先行救助 authority per case, unless the town has its own
    # 家庭经济状况核对 (seed 一(三)): a provider department answers within; 催办 this many working days before.
    check_answer_workdays: int = 5
    check_remind_workdays: int = 1
    ladders: dict[str, list[str]] = field(default_factory=_default_ladders)

    def ladder_for(self, item: ResolutionItem) -> list[str]:
        return self.ladders.get(item_class(item)) or self.ladders.get("normal") or [Rung.NOTICE.value]

    def rung_for_week(self, item: ResolutionItem, week: int) -> Rung:
        """The rung of the ``week``-th overdue week (1 = at the deadline)."""
        ladder = self.ladder_for(item)
        return Rung.parse(ladder[min(max(week, 1), len(ladder)) - 1])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def item_class(item: ResolutionItem) -> str:
    return "key" if item.key_item else "normal"


INT_LIMITS: dict[str, tuple[int, int, str]] = {
    "extension_grace_workdays": (0, 20, "时限届满后仍可申请延期的工作日数"),
    "extension_max_count": (0, 10, "每项最多延期次数"),
    "extension_max_workdays": (1, 250, "每次最多延长的工作日数"),
    "co_unit_lead_workdays": (0, 60, "配合单位时限早于牵头单位的工作日数"),
    "co_remind_workdays": (0, 20, "配合单位到期前催办的工作日数"),
    "letter_sign_workdays": (1, 20, "督办函签发时限（工作日）"),
    "closing_approval_workdays": (1, 20, "重点事项销号审批时限（工作日）"),
    "progress_due_workdays": (1, 30, "进展报送时限（工作日）"),
    "petition_limit_days": (1, 365, "信访事项办理时限（日）"),
    "petition_extension_max_count": (0, 3, "信访事项最多延期次数"),
    "petition_extension_max_days": (1, 90, "信访事项每次最多延长的天数"),
    "case_sign_workdays": (1, 10, "部门签收一门受理案件的时限（工作日）"),
    "case_lapse_workdays": (1, 30, "部门逾期多少个工作日后记为逾期未办结"),
    "case_visit_workdays": (1, 60, "告知申请人后回访的时限（工作日）"),
    "urgent_verify_hours": (1, 72, "急难案件现场核实时限（小时）"),
    "urgent_escalate_hours": (1, 72, "急难案件未核实报告镇（街办）分管领导的时限（小时）"),
    "advance_limit_yuan": (0, 1000000, "镇（街办）先行救助额度（元/件，镇街未单独设置时）"),
    "check_answer_workdays": (1, 30, "核对部门反馈时限（工作日）"),
    "check_remind_workdays": (0, 10, "核对反馈到期前催办的工作日数"),
}


def parse_rules(raw: dict[str, Any]) -> SupervisionRules:
    """Rules from stored or submitted values over the defaults; FormError naming each bad value."""
    rules = SupervisionRules()
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for name, (low, high, label) in INT_LIMITS.items():
        if name not in raw or raw[name] in (None, ""):
            continue
        try:
            value = int(str(raw[name]).strip())
        except ValueError:
            errors[name] = f"{label}须为整数"
            continue
        if not low <= value <= high:
            errors[name] = f"{label}须在 {low} 至 {high} 之间"
            continue
        changes[name] = value
    ladders = raw.get("ladders")
    if ladders is not None:
        try:
            changes["ladders"] = _parse_ladders(ladders)
        except ValueError as exc:
            errors["ladders"] = str(exc)
    if errors:
        raise FormError(errors)
    return replace(rules, **changes)


def _parse_ladders(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ValueError("督办升级规则格式不正确")
    out: dict[str, list[str]] = {}
    for cls, rungs in value.items():
        if cls not in ITEM_CLASSES:
            raise ValueError(f"没有事项类别“{cls}”")
        steps = [rungs] if isinstance(rungs, str) else list(rungs or [])
        steps = [str(s).strip() for s in steps if str(s).strip()]
        if not steps or len(steps) > 8 or any(s not in {r.value for r in CLIMBING_RUNGS} for s in steps):
            raise ValueError(f"{ITEM_CLASSES[cls]}的督办升级规则须为 1 至 8 级，每级为督办通知、督办函或报负责人")
        out[cls] = steps
    return {**_default_ladders(), **out}


def load_rules(session: Session) -> SupervisionRules:
    row = session.get(SupervisionSettings, SETTINGS_ID)
    if row is None or not row.rules:
        return SupervisionRules()
    known = {f.name for f in fields(SupervisionRules)}
    try:
        return parse_rules({k: v for k, v in row.rules.items() if k in known})
    except FormError:
        return SupervisionRules()  # a stored value the limits no longer admit: the defaults, never a failure


def save_rules(session: Session, raw: dict[str, Any], by: str, now: datetime) -> SupervisionRules:
    rules = parse_rules(raw)
    row = session.get(SupervisionSettings, SETTINGS_ID)
    if row is None:
        row = SupervisionSettings(id=SETTINGS_ID, rules={}, updated_at=now)
        session.add(row)
    row.rules, row.updated_by, row.updated_at = rules.as_dict(), by, now
    return rules
