"""Towns' cases (seed 一(四), 各镇): what the two case processes share — the town a clerk works for, case numbers,
routing a case's aid types to the departments that act (by the published routing decision), who may see a case
and its personal data unmasked, and the log of every such view.

Who sees a case: the district office (all towns), the town's own window, 民政办 and rapid-response team, and the
departments the case was routed to. Who sees its 身份证号 and phone unmasked: the same people (the case's handlers);
each time they are shown, a ``PersonalDataView`` row records who, when and which case.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.errors import FormError
from meeting import idcard
from meeting.models import AssistanceCase, CaseHandling, PersonalDataView, Unit, User
from meeting.privacy import mask_phone
from meeting.roles import TOWN_GROUPS, town_group
from meeting.rules import load_rules
from meeting.statuses import CaseKind, HandlingStatus
from meeting.timeutil import local_today
from meeting.workdays import add_workdays

MZB = "mzb"  # a routing rule's department for 民政 items: the town's own 民政办
ROUTING_DECISION = "assistance_routing"
# The aid types a window can register (the routing decision's input values), in the order of the form.
AID_TYPES = ("最低生活保障", "特困人员供养", "临时救助", "医疗救助", "疾病应急救助", "教育救助", "住房救助", "就业救助",
             "残疾人帮扶", "困难职工帮扶")
SUPERVISORS = frozenset({"office", "convener", "admin"})


def town_of(session: Session, username: str | None) -> Unit:
    """The town (镇（街办）) the clerk works for: their own unit, which must be a town."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    town = session.get(Unit, user.unit_code) if user is not None and user.unit_code else None
    if town is None or town.kind != "town" or not town.active:
        raise FormError({"__all__": "只有镇（街办）的工作人员可以登记案件"})
    return town


def next_number(session: Session, town: Unit, kind: CaseKind, now: datetime) -> str:
    """五里镇受〔2026〕3号 (一门受理) / 五里镇急〔2026〕1号 (救急难): the town's n-th case of the kind this year."""
    year = local_today(now).year
    word = "急" if kind == CaseKind.URGENT else "受"
    prefix = f"{town.name}{word}〔{year}〕"
    count = session.scalar(select(func.count()).select_from(AssistanceCase)
                           .where(AssistanceCase.number.like(f"{prefix}%")))
    return f"{prefix}{(count or 0) + 1}号"


def check_person(name: str, id_number: str, phone: str, now: datetime, id_required: bool = True) -> dict[str, str]:
    """The problems with an applicant's name, identity number and phone, by field."""
    errors: dict[str, str] = {}
    if not name:
        errors["applicant_name"] = "此项必填"
    if id_number or id_required:
        why = idcard.problem(id_number, local_today(now)) if id_number else "此项必填"
        if why:
            errors["applicant_id_number"] = why
    digits = phone.replace("-", "").replace(" ", "")
    if phone and not (digits.isdigit() and 7 <= len(digits) <= 12):
        errors["applicant_phone"] = "联系电话应为7至12位数字"
    return errors


def clean_aid_types(values: Iterable[object]) -> list[str]:
    return [t for t in dict.fromkeys(str(v) for v in values) if t in AID_TYPES]


# ------------------------------------------------------------------------------------------------------ routing
@dataclass(frozen=True)
class Route:
    aid_type: str
    department: str
    limit_days: int




def handling_group(case: AssistanceCase, department: str) -> str:
    """The group that works on a department's part: the town's 民政办 for 民政 items, else the unit."""
    return town_group(case.town_code, MZB) if department == MZB else f"unit:{department}"


def open_handlings(session: Session, case: AssistanceCase, routes: list[Route], round_no: int,
                   routing_version: int | None, now: datetime) -> list[CaseHandling]:
    """One handling per department and aid type, with the 签收 deadline of the rules and the rule's limit."""
    rules = load_rules(session)
    rows = []
    for r in routes:
        row = CaseHandling(case_id=case.id, department=r.department, aid_type=r.aid_type, limit_days=r.limit_days,
                           round=round_no, routing_version=routing_version,
                           sign_due_at=add_workdays(session, now, rules.case_sign_workdays),
                           due_at=add_workdays(session, now, r.limit_days), status=HandlingStatus.SIGNING,
                           created_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def returned_departments(session: Session, case_id: int) -> set[str]:
    return set(session.scalars(select(CaseHandling.department).where(
        CaseHandling.case_id == case_id, CaseHandling.status == HandlingStatus.RETURNED)))


# ------------------------------------------------------------------------------------------------------- access
@dataclass(frozen=True)
class Viewer:
    username: str
    groups: frozenset[str]
    unit: str | None
    unit_is_town: bool = False  # a town's own people (its liaison) work on its cases


def town_codes_of(viewer: Viewer) -> set[str]:
    """The towns whose cases the viewer works on: their own town, and towns whose groups they hold."""
    towns = {g.split(":")[1] for g in viewer.groups if g.startswith("town:") and g.count(":") == 2
             and g.split(":")[2] in TOWN_GROUPS}
    if viewer.unit and viewer.unit_is_town:
        towns.add(viewer.unit)
    return towns


def viewer_for(session: Session, username: str, groups: frozenset[str], unit: str | None) -> Viewer:
    kind = session.scalar(select(Unit.kind).where(Unit.code == unit)) if unit else None
    return Viewer(username, groups, unit, kind == "town")


def sees_all(viewer: Viewer) -> bool:
    return bool(SUPERVISORS & viewer.groups)


def visible_filter(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition for the cases ``viewer`` may see (a town its own; a department those routed to it)."""
    if sees_all(viewer):
        return AssistanceCase.id.isnot(None)
    towns = town_codes_of(viewer)
    conditions: list[ColumnElement[bool]] = []
    if towns:
        conditions.append(AssistanceCase.town_code.in_(towns))
    if viewer.unit:
        conditions.append(exists().where(CaseHandling.case_id == AssistanceCase.id,
                                         CaseHandling.department == viewer.unit))
    return or_(*conditions) if conditions else false()


def may_see(session: Session, viewer: Viewer, case: AssistanceCase) -> bool:
    if sees_all(viewer) or case.town_code in town_codes_of(viewer):
        return True
    return viewer.unit is not None and session.scalar(select(exists().where(
        CaseHandling.case_id == case.id, CaseHandling.department == viewer.unit))) is True


def may_see_personal(session: Session, viewer: Viewer, case: AssistanceCase) -> bool:
    """The case's handlers: the office, the town's staff and the departments it was routed to (not the convener,
    the district leader or anyone who only supervises)."""
    if "office" in viewer.groups or case.town_code in town_codes_of(viewer):
        return True
    return viewer.unit is not None and session.scalar(select(exists().where(
        CaseHandling.case_id == case.id, CaseHandling.department == viewer.unit))) is True


def masked(case: AssistanceCase) -> dict[str, str]:
    return {"id_number": idcard.mask(case.id_number), "phone": mask_phone(case.phone)}


def reveal(session: Session, viewer: Viewer, case: AssistanceCase, now: datetime,
           fields: Collection[str] = ("id_number", "phone"), purpose: str = "查看案件") -> dict[str, str]:
    """The personal data unmasked, for a handler only; the view is logged. Others get the masked values."""
    if not may_see_personal(session, viewer, case):
        return masked(case)
    labels = {"id_number": "身份证号", "phone": "联系电话"}
    session.add(PersonalDataView(at=now, actor=viewer.username, subject="assistance_case", subject_id=case.id,
                                 subject_number=case.number, town_code=case.town_code,
                                 fields="、".join(labels[f] for f in fields if f in labels), purpose=purpose[:100]))
    return {"id_number": case.id_number or "", "phone": case.phone or ""}
