"""Routing a town's case by the published routing decision (the DMN table ``assistance_routing`` that designers
edit in the browser): each requested aid type → the department(s) that act and their limits in working days.

The decision is read in the command's own transaction, at the version published now: a rule a designer changes
applies to cases routed after it is published; cases already routed keep their departments (each handling keeps
the version it was routed by).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.dmn import evaluate_table
from engine.errors import ActionError
from engine.models import PUBLISHED, DecisionModel
from meeting.cases import MZB, ROUTING_DECISION, Route
from meeting.models import Unit


def published_table(session: Session, key: str = ROUTING_DECISION) -> tuple[int, dict[str, Any]]:
    version = session.scalar(select(func.max(DecisionModel.version)).where(
        DecisionModel.key == key, DecisionModel.status == PUBLISHED))
    if version is None:
        raise ActionError(f"分派规则“{key}”尚未发布，无法按规则分派；请联系流程设计员部署并发布。")
    table = session.scalar(select(DecisionModel.table).where(DecisionModel.key == key,
                                                             DecisionModel.version == version))
    if table is None:
        raise ActionError(f"分派规则“{key}”第 {version} 版缺少决策表。")
    return version, table


def route_by_rules(session: Session, aid_types: list[str], exclude: Collection[str] = ()
                   ) -> tuple[int, list[Route], list[str]]:
    """(the decision version, a route per matched department and aid type, the aid types no rule routes).
    Departments in ``exclude`` (those that returned the case) and units no longer active are skipped."""
    version, table = published_table(session)
    active = set(session.scalars(select(Unit.code).where(Unit.active)))
    routes: list[Route] = []
    unrouted: list[str] = []
    for aid_type in aid_types:
        found = []
        for row in evaluate_table(table, {"aid_type": aid_type}).rows:
            department = str(row.get("department") or "").strip()
            limit = row.get("limit_days")
            if not department or department in exclude or (department != MZB and department not in active):
                continue
            days = int(limit) if isinstance(limit, int | float) and 1 <= int(limit) <= 250 else 10
            found.append(Route(aid_type, department, days))
        routes.extend(found)
        if not found:
            unrouted.append(aid_type)
    return version, routes, unrouted
