"""The provider departments' typed answer forms (one per provider; the diagram ``household_check_answer`` declares
the same fields) and the 核对报告 assembled from the answers: each provider's findings, the providers that
answered 无记录 or 无法核实 and why, and those that did not answer (未反馈) by their deadline.

The report never holds an identity number unmasked: members' numbers in a provider's findings are masked as
they are copied in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting import idcard
from meeting.check_fields import Column
from meeting.checks import masked
from meeting.models import CheckAnswer, HouseholdCheck, Unit
from meeting.statuses import AnswerStatus
from meeting.timeutil import format_day


@dataclass(frozen=True)
class FindingField:
    id: str
    label: str
    type: str  # lines / long / text / boolean
    columns: tuple[Column, ...] = ()
    sensitive: bool = False

    @property
    def columns_property(self) -> str:
        return ",".join(f"{c.id}:{c.label}:{c.kind}" for c in self.columns)


def _cols(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


FINDING_FIELDS: dict[str, tuple[FindingField, ...]] = {
    "zhujian": (
        FindingField("zj_properties", "房产（每行一处：房屋地址，建筑面积，交易或出租情况）", "lines",
                     _cols(("address", "房屋地址", "text"), ("area", "建筑面积（平方米）", "number"),
                           ("state", "交易或出租情况", "text"))),
        FindingField("zj_fund_balance", "住房公积金余额（元）", "long"),
    ),
    "gongan": (
        FindingField("ga_vehicles", "机动车辆（每行一辆：号牌号码，品牌型号，估值）", "lines",
                     _cols(("plate", "号牌号码", "text"), ("model", "品牌型号", "text"), ("value", "估值（元）", "number"))),
        FindingField("ga_members", "户籍成员（每行一人：姓名，身份证号，与户主关系）", "lines",
                     _cols(("name", "姓名", "text"), ("id_number", "身份证号", "idcard"), ("relation", "与户主关系", "text")),
                     sensitive=True),
    ),
    "renshe": (
        FindingField("rs_employment", "就业情况", "text"),
        FindingField("rs_pension", "养老金（元/月）", "long"),
        FindingField("rs_unemployment", "失业保险金（元/月）", "long"),
    ),
    "weijian": (
        FindingField("wj_household_size", "家庭人口（人）", "long"),
        FindingField("wj_births", "生育情况", "text"),
    ),
    "canlian": (
        FindingField("cl_disabled", "残疾人（每行一人：姓名，残疾类别，残疾等级）", "lines",
                     _cols(("name", "姓名", "text"), ("kind", "残疾类别", "text"), ("level", "残疾等级", "text"))),
        FindingField("cl_support", "享受残疾人帮扶情况", "text"),
    ),
    "zonggonghui": (
        FindingField("zgh_registered", "已建档困难职工", "boolean"),
        FindingField("zgh_aid", "困难职工帮扶情况", "text"),
    ),
}
# A provider the decision names that has no form of its own (a designer added it) answers in words.
OTHER_FIELDS = (FindingField("ot_findings", "核对情况", "text"),)
ALL_FINDING_IDS = tuple(f.id for fields in (*FINDING_FIELDS.values(), OTHER_FIELDS) for f in fields)
OUTCOMES = {"found": AnswerStatus.FOUND, "no_record": AnswerStatus.NO_RECORD,
            "unverifiable": AnswerStatus.UNVERIFIABLE}


def findings_of(provider: str, data: dict[str, Any]) -> dict[str, Any]:
    """The provider's own declared fields from the submitted data; empty ones left out."""
    out: dict[str, Any] = {}
    for f in FINDING_FIELDS.get(provider, OTHER_FIELDS):
        value = data.get(f.id)
        if value in (None, "", []) or (f.type == "boolean" and value is False):
            continue
        out[f.id] = value
    return out


def _text(f: FindingField, value: Any) -> str:
    if f.type == "boolean":
        return "是" if value else "否"
    if f.type == "lines" and isinstance(value, list):
        rows = []
        for row in value:
            cells = []
            for c in f.columns:
                v = row.get(c.id) if isinstance(row, dict) else None
                if v in (None, ""):
                    continue
                cells.append(f"{c.label}{idcard.mask(str(v)) if c.kind == 'idcard' else v}")
            rows.append("，".join(cells))
        return "；".join(rows)
    return str(value)


def finding_lines(provider: str, findings: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) per filled field, identity numbers masked."""
    found = findings or {}
    return [(f.label.split("（每行")[0], _text(f, found[f.id])) for f in FINDING_FIELDS.get(provider, OTHER_FIELDS)
            if f.id in found]


def assemble(session: Session, check: HouseholdCheck, now: datetime) -> dict[str, Any]:
    """The 核对报告 as stored with the check: the household (masked), each provider's answer, the silent ones."""
    names = dict(session.execute(select(Unit.code, Unit.name)).all())
    answers = list(session.scalars(select(CheckAnswer).where(CheckAnswer.check_id == check.id)
                                   .order_by(CheckAnswer.id)))
    providers = []
    for a in answers:
        providers.append({
            "provider": a.provider, "name": names.get(a.provider, a.provider), "status": a.status,
            "items": list(a.items or []), "findings": finding_lines(a.provider, a.findings),
            "reason": a.reason or "", "answered_on": format_day(a.answered_at) if a.answered_at else "",
            "on_time": a.on_time,
        })
    person = masked(check)
    return {
        "number": check.number, "aid_type": check.aid_type, "applicant_name": check.applicant_name,
        "id_number": person["id_number"], "address": check.address,
        "members": [{"name": m.get("name", ""), "id_number": m.get("id_number", ""),
                     "relation": m.get("relation", "")} for m in person["members"]],
        "requested_on": format_day(check.created_at), "assembled_on": format_day(now),
        "providers": providers,
        "silent": [p["name"] for p in providers if p["status"] == AnswerStatus.SILENT],
    }
