"""The ledger as of a date: the figures a 督办通报 or a 阶段性落实情况报告 states, computed with grouped queries and
kept with the document (a JSON snapshot), so an issued document reads the same however the ledger moves on.

"As of" a date: items agreed by the end of that Beijing day; closed means closed by then; overdue means past the
deadline at that moment and not closed by then.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from meeting.models import ResolutionItem, Unit
from meeting.monitoring import add_day, co_scorecards, of_source
from meeting.statuses import ItemSource, ResolutionStatus
from meeting.timeutil import at_local, local_today

ISSUED = ResolutionStatus.issued()
CLOSED = ResolutionStatus.CLOSED


@dataclass(frozen=True)
class UnitFigures:
    code: str
    name: str
    assigned: int
    closed: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.closed / self.assigned if self.assigned else 0.0


def _cutoff(as_of: date) -> datetime:
    return at_local(add_day(as_of), 0)  # the first moment after the as-of day


def lead_figures(session: Session, as_of: date, period_from: date, source: str | None = None) -> list[UnitFigures]:
    end = _cutoff(as_of)
    item = ResolutionItem
    closed_by = (item.status == CLOSED) & (item.closed_at < end)
    overdue = ~closed_by & (item.deadline < end)
    rows = session.execute(
        select(Unit.code, Unit.name, func.count(item.id), func.sum(case((closed_by, 1), else_=0)),
               func.sum(case((overdue, 1), else_=0)))
        .join(item, item.lead_unit == Unit.code)
        .where(item.status.in_(ISSUED), item.created_at >= at_local(period_from, 0), item.created_at < end,
               *of_source(source))
        .group_by(Unit.code, Unit.name, Unit.sort).order_by(Unit.sort)).all()
    return [UnitFigures(code, name, int(n), int(c or 0), int(o or 0)) for code, name, n, c, o in rows]


def overdue_list(session: Session, as_of: date, period_from: date, limit: int = 200, source: str | None = None
                 ) -> list[dict[str, Any]]:
    end = _cutoff(as_of)
    item = ResolutionItem
    closed_by = (item.status == CLOSED) & (item.closed_at < end)
    rows = session.execute(
        select(item.number, item.content, Unit.name, item.deadline, item.supervise_count)
        .join(Unit, Unit.code == item.lead_unit)
        .where(item.status.in_(ISSUED), ~closed_by, item.deadline < end,
               item.created_at >= at_local(period_from, 0), item.created_at < end, *of_source(source))
        .order_by(item.deadline, item.id).limit(limit)).all()
    return [{"number": n, "content": c, "lead": lead, "deadline": local_today(d).isoformat(),
             "days": (as_of - local_today(d)).days, "supervisions": int(s or 0)} for n, c, lead, d, s in rows]


def snapshot(session: Session, as_of: date, period_from: date, source: str | None = None) -> dict[str, Any]:
    """Everything a document states about the ledger as of ``as_of`` for items agreed since ``period_from``, of
    one 来源 (``source``, kept in the snapshot) or all."""
    leads = lead_figures(session, as_of, period_from, source)
    cos = co_scorecards(session, period_from, as_of, source)
    assigned = sum(u.assigned for u in leads)
    closed = sum(u.closed for u in leads)
    return {
        "as_of": as_of.isoformat(), "period_from": period_from.isoformat(), "source": source or "",
        "assigned": assigned, "closed": closed, "open": assigned - closed,
        "overdue": sum(u.overdue for u in leads),
        "rate": round(closed / assigned * 100, 1) if assigned else 0.0,
        "units": [{**asdict(u), "rate": round(u.rate * 100, 1)} for u in leads],
        "co_units": [{"code": c.code, "name": c.name, "assigned": c.assigned, "answered": c.answered,
                      "on_time": c.on_time, "silent": c.silent, "pending": c.pending} for c in cos],
        "overdue_items": overdue_list(session, as_of, period_from, source=source),
    }


def cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def source_label(figures: dict[str, Any]) -> str:
    """The 来源 a snapshot was taken for (会议纪要 / 交办 / 协调 / 信访), or "" for every source."""
    source = figures.get("source") or ""
    return ItemSource.label_of(source) if source in ItemSource.labels() else ""


def summary_sentence(figures: dict[str, Any]) -> str:
    """自2026年1月1日至2026年12月6日，联席会议共交办议定事项N项，已办结M项，办结率X%；逾期未办结K项。"""
    start, end = date.fromisoformat(figures["period_from"]), date.fromisoformat(figures["as_of"])
    label = source_label(figures)
    what = f"来源为“{label}”的督办事项" if label else "议定事项"
    return (f"自{cn_day(start)}至{cn_day(end)}，联席会议共交办{what}{figures['assigned']}项，已办结{figures['closed']}项，"
            f"办结率{figures['rate']}%；尚在落实{figures['open']}项，其中逾期未办结{figures['overdue']}项。")


def praise_and_criticism(figures: dict[str, Any]) -> tuple[str, str]:
    """A first draft the office edits: units that closed everything on time, units with overdue items and
    co-units that did not answer."""
    good = [u["name"] for u in figures["units"] if u["assigned"] and u["closed"] == u["assigned"] and not u["overdue"]]
    late = [f"{u['name']}（逾期{u['overdue']}项）" for u in figures["units"] if u["overdue"]]
    silent = [f"{c['name']}（未反馈{c['silent']}项）" for c in figures["co_units"] if c["silent"]]
    praise = f"{'、'.join(good)}按时办结全部议定事项，予以通报表扬。" if good else ""
    parts = []
    if late:
        parts.append(f"{'、'.join(late)}存在逾期未办结事项")
    if silent:
        parts.append(f"配合单位{'、'.join(silent)}未按时反馈配合落实情况")
    criticism = "；".join(parts) + "，予以通报批评。" if parts else ""
    return praise, criticism


def local_date(moment: datetime) -> date:
    return local_today(moment)
