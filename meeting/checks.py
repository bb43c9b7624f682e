"""家庭经济状况核对 (seed 一(三) and the information duties of section 三): what the household check process and its
pages share — numbering, the providers and items the published decision ``household_check_items`` chooses, each
provider's answer with its working-day deadline, who may see a check and its personal data unmasked (the same rule
as towns' cases, ``meeting/cases.py``), and the log of every such view.

Who sees a check: the 核对 office and the joint-meeting office (all), the requesting town's staff, and the provider
departments asked. Who sees the members' 身份证号 and the phone unmasked: the same people except those who only
supervise; each time, a ``PersonalDataView`` row records who, when and which check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.dmn import evaluate_table
from meeting import idcard
from meeting.cases import Viewer, town_codes_of
from meeting.models import CheckAnswer, HouseholdCheck, PersonalDataView, Unit
from meeting.privacy import mask_phone
from meeting.routing import published_table
from meeting.rules import load_rules
from meeting.statuses import AnswerStatus
from meeting.timeutil import local_today
from meeting.workdays import add_workdays, calendar_for

ITEMS_DECISION = "household_check_items"
CHECK_OFFICE = "check"
# The aid types a check can be asked for (the decision's input values), in the order of the form.
CHECK_AID_TYPES = ("最低生活保障", "特困人员供养", "临时救助", "医疗救助")
# The provider departments and what each answers (section 三).
PROVIDERS: dict[str, str] = {
    "weijian": "家庭人口、生育",
    "zhujian": "房产、交易、出租、公积金",
    "renshe": "就业、社保、领取待遇",
    "gongan": "机动车辆、户籍",
    "canlian": "残疾等级、帮扶",
    "zonggonghui": "困难职工帮扶",
}
ALL_SEE = frozenset({CHECK_OFFICE, "office", "convener", "admin"})
HANDLERS = frozenset({CHECK_OFFICE, "office"})


def next_number(session: Session, now: datetime) -> str:
    """核〔2026〕3号: the district's n-th check this year."""
    prefix = f"核〔{local_today(now).year}〕"
    count = session.scalar(select(func.count()).select_from(HouseholdCheck)
                           .where(HouseholdCheck.number.like(f"{prefix}%")))
    return f"{prefix}{(count or 0) + 1}号"


@dataclass(frozen=True)
class Ask:
    provider: str
    items: list[str]


def providers_for(session: Session, aid_type: str) -> tuple[int, list[Ask]]:
    """(the decision version, the providers asked and their items) by the published ``household_check_items``;
    a provider named twice gets its items merged, an inactive unit is skipped."""
    version, table = published_table(session, ITEMS_DECISION)
    active = set(session.scalars(select(Unit.code).where(Unit.active)))
    found: dict[str, list[str]] = {}
    for row in evaluate_table(table, {"aid_type": aid_type}).rows:
        provider = str(row.get("provider") or "").strip()
        if provider not in active:
            continue
        items = [i.strip() for i in str(row.get("items") or "").replace("，", "、").split("、") if i.strip()]
        found.setdefault(provider, [])
        found[provider] += [i for i in items if i not in found[provider]]
    return version, [Ask(p, items) for p, items in found.items()]


def open_answers(session: Session, check: HouseholdCheck, asks: Iterable[Ask], now: datetime) -> list[CheckAnswer]:
    days = load_rules(session).check_answer_workdays
    rows = [CheckAnswer(check_id=check.id, provider=a.provider, items=a.items, due_at=add_workdays(session, now, days),
                        status=AnswerStatus.PENDING, created_at=now) for a in asks]
    session.add_all(rows)
    session.flush()
    return rows


def took_workdays(session: Session, answer: CheckAnswer, now: datetime) -> int:
    return calendar_for(session).between(local_today(answer.created_at), local_today(now))


# ------------------------------------------------------------------------------------------------------- access
def sees_all(viewer: Viewer) -> bool:
    return bool(ALL_SEE & viewer.groups)


def visible_filter(viewer: Viewer) -> ColumnElement[bool]:
    if sees_all(viewer):
        return HouseholdCheck.id.isnot(None)
    conditions: list[ColumnElement[bool]] = []
    towns = town_codes_of(viewer)
    if towns:
        conditions.append(HouseholdCheck.town_code.in_(towns))
    if viewer.unit:
        conditions.append(exists().where(CheckAnswer.check_id == HouseholdCheck.id,
                                         CheckAnswer.provider == viewer.unit))
    return or_(*conditions) if conditions else false()


def _asked(session: Session, viewer: Viewer, check: HouseholdCheck) -> bool:
    return viewer.unit is not None and session.scalar(select(exists().where(
        CheckAnswer.check_id == check.id, CheckAnswer.provider == viewer.unit))) is True


def may_see(session: Session, viewer: Viewer, check: HouseholdCheck) -> bool:
    if sees_all(viewer) or (check.town_code and check.town_code in town_codes_of(viewer)):
        return True
    return _asked(session, viewer, check)


def may_see_personal(session: Session, viewer: Viewer, check: HouseholdCheck) -> bool:
    """The check's handlers: the 核对 office, the office, the requesting town's staff, the providers asked."""
    if HANDLERS & viewer.groups or (check.town_code and check.town_code in town_codes_of(viewer)):
        return True
    return _asked(session, viewer, check)


def masked_members(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**m, "id_number": idcard.mask(str(m.get("id_number") or ""))} for m in members]


def masked(check: HouseholdCheck) -> dict[str, Any]:
    return {"id_number": idcard.mask(check.id_number), "phone": mask_phone(check.phone),
            "members": masked_members(list(check.members or []))}


def reveal(session: Session, viewer: Viewer, check: HouseholdCheck, now: datetime,
           purpose: str = "查看家庭经济状况核对") -> dict[str, Any]:
    """The personal data unmasked for a handler, the view logged; others get the masked values."""
    if not may_see_personal(session, viewer, check):
        return masked(check)
    session.add(PersonalDataView(at=now, actor=viewer.username, subject="household_check", subject_id=check.id,
                                 subject_number=check.number, town_code=check.town_code,
                                 fields="身份证号、联系电话、家庭成员身份证号", purpose=purpose[:100]))
    return {"id_number": check.id_number, "phone": check.phone or "", "members": list(check.members or [])}
