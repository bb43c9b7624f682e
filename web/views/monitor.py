"""The convener's dashboard, the units' scorecards and the printable 督办通报."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from meeting import case_stats
from meeting.check_stats import provider_stats
from meeting.ledger import SOURCE_FILTERS
from meeting.models import Unit
from meeting.monitoring import (
    OVERDUE_LISTED,
    co_scorecards,
    dashboard,
    overdue_count,
    overdue_items,
    scorecards,
)
from meeting.statuses import Light, ResolutionStatus
from meeting.timeutil import at_local, local_today
from web.auth import roles_required
from web.params import parse_date
from web.services import database, workflow

bp = Blueprint("monitor", __name__)
# Who watches the resolutions (admins always may): the convener, the office and the district leader.
MONITOR_ROLES = ("convener", "office", "district")
LIGHT_COLORS = {"green": "#198754", "yellow": "#e0a100", "red": "#d63343", "closed": "#8a929c"}


def _charts(board: Any) -> dict[str, Any]:
    """ECharts options (plain JSON, rendered by dist/charts.js from <script type="application/json">)."""
    names = [u.name for u in board.units]
    by_unit = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"interval": 0, "rotate": 30 if len(names) > 6 else 0}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            # Open items split by the deadline: not yet overdue, then overdue (红灯); the closed ones on top.
            {"name": "未逾期", "type": "bar", "stack": "n", "data": [u.open - u.overdue for u in board.units],
             "itemStyle": {"color": "#1d4e89"}},
            {"name": Light.RED.label, "type": "bar", "stack": "n", "data": [u.overdue for u in board.units],
             "itemStyle": {"color": LIGHT_COLORS["red"]}},
            {"name": ResolutionStatus.CLOSED.label, "type": "bar", "stack": "n",
             "data": [u.closed for u in board.units],
             "itemStyle": {"color": LIGHT_COLORS["closed"]}},
        ],
    }
    trend = {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": board.months, "boundaryGap": False},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": "交办", "type": "line", "data": board.created_per_month,
             "itemStyle": {"color": "#1d4e89"}},
            {"name": "办结", "type": "line", "data": board.closed_per_month,
             "itemStyle": {"color": LIGHT_COLORS["green"]}},
        ],
    }
    lights = {
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [{"type": "pie", "radius": ["45%", "70%"], "avoidLabelOverlap": True, "label": {"show": False},
                    "data": [{"name": k.label, "value": board.lights[k],
                              "itemStyle": {"color": LIGHT_COLORS[k]}} for k in Light.of_items()]}],
    }
    return {"chart-by-unit": by_unit, "chart-trend": trend, "chart-lights": lights}


@bp.get("/monitor")
@roles_required(*MONITOR_ROLES)
def index() -> Any:
    """The headline figures, lights, units and trend, of one 来源 (``source``) or all."""
    now = workflow().now()
    errors: dict[str, str] = {}
    source = _source(errors)
    with database().sessions() as s:
        board = dashboard(s, now, source=source)
        town_cases = case_stats.headline(s, now)
    return render_template("monitor/dashboard.html", board=board, charts=_charts(board), now=now,
                           sources=SOURCE_FILTERS, source=source, errors=errors, cases=town_cases)


def _period() -> tuple[date, date, dict[str, str]]:
    """``from`` / ``to`` (Beijing days, inclusive); the current year so far by default."""
    today = local_today(workflow().now())
    errors: dict[str, str] = {}
    values = {}
    for key, default in (("from", date(today.year, 1, 1)), ("to", today)):
        raw = request.args.get(key, "").strip()
        day = parse_date(raw) if raw else default
        if day is None:
            errors[key] = "日期格式应为 YYYY-MM-DD（1900 至 2199 年）"
        values[key] = day or default
    if values["from"] > values["to"]:
        errors["to"] = "结束日期不能早于开始日期"
        values["to"] = values["from"]
    return values["from"], values["to"], errors


def _source(errors: dict[str, str]) -> str | None:
    """``source``: one 来源 (ItemSource) or all."""
    raw = request.args.get("source", "").strip()
    if raw and raw not in SOURCE_FILTERS:
        errors["source"] = "来源无效"
        return None
    return raw or None


@bp.get("/monitor/units")
@roles_required(*MONITOR_ROLES)
def units() -> Any:
    start, end, errors = _period()
    source = _source(errors)
    with database().sessions() as s:
        cards = scorecards(s, workflow().now(), start, end, source)
        co_cards = co_scorecards(s, start, end, source)
        providers = provider_stats(s, at_local(start, 0), at_local(start, 0) + timedelta(days=(end - start).days + 1))
    return render_template("monitor/units.html", cards=cards, co_cards=co_cards, start=start, end=end, errors=errors,
                           source=source, sources=SOURCE_FILTERS, provider_stats=providers)


@bp.get("/monitor/units/report")
@roles_required(*MONITOR_ROLES)
def report() -> Any:
    start, end, errors = _period()
    source = _source(errors)
    now = workflow().now()
    with database().sessions() as s:
        cards = scorecards(s, now, start, end, source)
        co_cards = co_scorecards(s, start, end, source)
        providers = provider_stats(s, at_local(start, 0), at_local(start, 0) + timedelta(days=(end - start).days + 1))
        late = overdue_items(s, now, OVERDUE_LISTED, source)
        late_total = overdue_count(s, now, source) if len(late) >= OVERDUE_LISTED else len(late)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
    totals = {
        "assigned": sum(c.assigned for c in cards), "closed": sum(c.closed for c in cards),
        "overdue_open": sum(c.overdue_open for c in cards), "closed_late": sum(c.closed_late for c in cards),
    }
    totals["rate"] = totals["closed"] / totals["assigned"] if totals["assigned"] else 0.0
    today = local_today(now)
    overdue = [{"item": i, "lead": names.get(i.lead_unit, i.lead_unit),
                "days": (today - local_today(i.deadline)).days} for i in late]
    return render_template("monitor/report.html", cards=cards, co_cards=co_cards, start=start, end=end, errors=errors,
                           totals=totals, overdue=overdue, overdue_more=late_total - len(late), today=today,
                           source=source, provider_stats=providers)
