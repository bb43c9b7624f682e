"""Towns' cases (一门受理 and 救急难): the list and the case page, the personal-data view log and the figures.

Who sees what: the district office every case; a town's staff their town's cases; a department the cases routed to
it (meeting/cases.py). 身份证号 and phone are masked on every list and page; the case's handlers may show them on the
case page, by a POST with CSRF, and each view is written to the log the office reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, stream_with_context, url_for
from flask_login import login_required
from sqlalchemy import select

from engine.clock import SHANGHAI
from engine.paging import Key, page
from meeting import case_export, case_stats, cases
from meeting.case_context import case_details, department_name, handling_summary
from meeting.models import AssistanceCase, CaseHandling, PersonalDataView, Unit
from meeting.statuses import CaseKind, CaseStatus
from web.auth import case_viewer, me, roles_required
from web.paging import page_args, pager_links
from web.services import database, workflow

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _may_list(viewer: cases.Viewer) -> bool:
    return cases.sees_all(viewer) or bool(cases.town_codes_of(viewer)) or viewer.unit is not None


@bp.get("/")
@login_required
def index() -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    args = page_args(50)
    kind = request.args.get("kind") or ""
    status = request.args.get("status") or ""
    town = request.args.get("town") or ""
    stmt = select(AssistanceCase).where(cases.visible_filter(viewer))
    if kind in CaseKind.values():
        stmt = stmt.where(AssistanceCase.kind == kind)
    if status in CaseStatus.values():
        stmt = stmt.where(AssistanceCase.status == status)
    with database().sessions() as s:
        towns = dict(s.execute(select(Unit.code, Unit.name).where(Unit.kind == "town").order_by(Unit.sort)).all())
        if town in towns:
            stmt = stmt.where(AssistanceCase.town_code == town)
        result = page(s, stmt, [Key(AssistanceCase.id, desc=True)], args.limit, args.after, args.before)
        rows = [(c, cases.masked(c)) for c in result.rows]
        offered_towns = towns if cases.sees_all(viewer) else {k: v for k, v in towns.items()
                                                              if k in cases.town_codes_of(viewer)}
        return render_template("cases/index.html", rows=rows, towns=towns, offered_towns=offered_towns,
                               kinds=CaseKind.labels(), statuses=CaseStatus.labels(), kind=kind, status=status,
                               town=town, pager=pager_links(result, args), may_log="office" in viewer.groups)


def _show(case_id: int, reveal: bool) -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    now = workflow().now()
    with (database().transaction() if reveal else database().sessions()) as s:
        case = s.get(AssistanceCase, case_id)
        if case is None:
            abort(404)
        if not cases.may_see(s, viewer, case):
            abort(403)
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
        details = case_details(s, case, units)
        handler = cases.may_see_personal(s, viewer, case)
        if reveal:
            if not handler:
                abort(403)
            shown = cases.reveal(s, viewer, case, now)
            details = [(k, shown["id_number"] if k == "身份证号" else shown["phone"] or "—" if k == "联系电话" else v)
                       for k, v in details]
        handlings = [(h, department_name(h.department, units), handling_summary(h)) for h in s.scalars(
            select(CaseHandling).where(CaseHandling.case_id == case.id).order_by(CaseHandling.round, CaseHandling.id))]
        return render_template("cases/show.html", case=case, details=details, handlings=handlings,
                               revealed=reveal, may_reveal=handler and not reveal,
                               kind_label=CaseKind.label_of(case.kind),
                               may_instance=me().has("office", "convener", "admin"))


@bp.get("/export.csv")
@login_required
def export_csv() -> Any:
    """The cases this person may see, streamed, personal data masked."""
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    db, now = database(), workflow().now()

    def lines() -> Iterator[bytes]:
        with db.sessions() as s:
            yield from case_export.to_csv(case_export.iter_rows(s, cases.visible_filter(viewer)))

    stamp = now.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    name = quote(f"救助案件-{stamp}.csv")
    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=\"cases-{stamp}.csv\"; filename*=UTF-8''{name}"})


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int) -> Any:
    return _show(case_id, reveal=False)


@bp.post("/<int:case_id>/personal")
@login_required
def personal(case_id: int) -> Any:
    """The 身份证号 and phone unmasked, for the case's handlers; the view is logged."""
    return _show(case_id, reveal=True)


@bp.get("/access-log")
@login_required
@roles_required("office")
def access_log() -> Any:
    args = page_args(50)
    with database().sessions() as s:
        result = page(s, select(PersonalDataView), [Key(PersonalDataView.id, desc=True)], args.limit, args.after,
                      args.before)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        return render_template("cases/access_log.html", rows=result.rows, names=names,
                               pager=pager_links(result, args))


@bp.get("/stats")
@login_required
def stats() -> Any:
    viewer = case_viewer()
    if cases.sees_all(viewer):
        towns = None
    elif cases.town_codes_of(viewer):
        towns = cases.town_codes_of(viewer)
    else:
        abort(403)
    with database().sessions() as s:
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        return render_template("cases/stats.html", towns=case_stats.by_town(s, towns),
                               departments=case_stats.by_department(s, towns), names=names,
                               department_name=lambda code: department_name(code, names),
                               list_url=url_for("cases.index"))
