"""救急难 monthly 归纳: per town, the month's urgent cases — verified in time, escalated to the town's 分管领导, late,
先行救助 (count and yuan), referred to departments, sent to the district office.

Who reads it: the monitors (office, convener, district leader) and administrators all towns; a town's staff (its
window, 民政办, rapid-response team, 分管领导, liaison) their own town only; anyone else 403.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from meeting.cases import town_codes_of, viewer_for
from meeting.timeutil import local_today
from meeting.urgent_summary import COLUMNS, monthly_summary, totals
from web.auth import me
from web.services import database, workflow
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("urgent", __name__)
READ_ALL = (*MONITOR_ROLES, "admin")
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def _month(raw: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """``YYYY-MM`` within 2000 … 2199, else 404 (a month that cannot have cases)."""
    if not raw:
        return default
    match = MONTH.match(raw.strip())
    if match is None:
        abort(404)
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2199 and 1 <= month <= 12):
        abort(404)
    return year, month


@bp.get("/urgent/summary")
@login_required
def summary() -> Any:
    user = me()
    now = workflow().now()
    today = local_today(now)
    with database().sessions() as s:
        towns: set[str] | None = None
        if not user.has(*READ_ALL):
            towns = town_codes_of(viewer_for(s, user.username, user.groups, user.unit_code))
            if not towns:
                abort(403)
        year, month = _month(request.args.get("month"), (today.year, today.month))
        rows = monthly_summary(s, year, month, now, towns)
    if towns is not None and not rows:
        abort(403)  # groups of a town that is no town any more
    return render_template("urgent/summary.html", rows=rows, columns=COLUMNS, totals=totals(rows),
                           month=f"{year:04d}-{month:02d}", all_towns=towns is None)
