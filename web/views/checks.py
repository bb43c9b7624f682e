"""家庭经济状况核对: the list of checks, a check's page with each provider's answer and the 核对报告 (page and .docx),
the members' personal data shown to the check's handlers (POST, logged like towns' cases), and the providers'
statistics.

Who sees what (meeting/checks.py): the 核对 office, the office, the convener and admins every check; a town's staff
their town's; a provider department the checks it was asked about. 身份证号 and phone are masked everywhere else.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from flask_login import login_required
from sqlalchemy import func, select

from engine.paging import Key, page
from meeting import cases, check_batch, check_doc, check_report, check_stats, checks
from meeting.models import (
    CheckAnswer,
    HouseholdBatch,
    HouseholdBatchRow,
    HouseholdCheck,
    PersonalDataView,
    Unit,
)
from meeting.statuses import CheckStatus
from web.auth import case_viewer, me, roles_required
from web.paging import page_args, pager_links
from web.services import database, workflow

bp = Blueprint("checks", __name__, url_prefix="/checks")
STATS_ROLES = ("check", "office", "convener")


def _may_list(viewer: cases.Viewer) -> bool:
    return checks.sees_all(viewer) or bool(cases.town_codes_of(viewer)) or viewer.unit is not None


@bp.get("/")
@login_required
def index() -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    args = page_args(50)
    status = request.args.get("status") or ""
    stmt = select(HouseholdCheck).where(checks.visible_filter(viewer))
    if status in CheckStatus.values():
        stmt = stmt.where(HouseholdCheck.status == status)
    with database().sessions() as s:
        result = page(s, stmt, [Key(HouseholdCheck.id, desc=True)], args.limit, args.after, args.before)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        return render_template("checks/index.html", rows=[(c, checks.masked(c)) for c in result.rows], names=names,
                               statuses=CheckStatus.labels(), status=status, pager=pager_links(result, args),
                               may_stats=me().has(*STATS_ROLES, "admin"),
                               may_start=me().has("check") or any(g.endswith(":mzb") for g in viewer.groups))


def _show(check_id: int, reveal: bool) -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    now = workflow().now()
    with (database().transaction() if reveal else database().sessions()) as s:
        check = s.get(HouseholdCheck, check_id)
        if check is None:
            abort(404)
        if not checks.may_see(s, viewer, check):
            abort(403)
        handler = checks.may_see_personal(s, viewer, check)
        if reveal and not handler:
            abort(403)
        person = checks.reveal(s, viewer, check, now) if reveal else checks.masked(check)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        answers = [(a, names.get(a.provider, a.provider), check_report.finding_lines(a.provider, a.findings))
                   for a in s.scalars(
            select(CheckAnswer).where(CheckAnswer.check_id == check.id).order_by(CheckAnswer.id))]
        requester = names.get(check.town_code, "") + "民政办" if check.town_code else "区核对办公室"
        return render_template("checks/show.html", check=check, person=person, answers=answers,
                               requester=requester, revealed=reveal, may_reveal=handler and not reveal)


@bp.get("/<int:check_id>")
@login_required
def show(check_id: int) -> Any:
    return _show(check_id, reveal=False)


@bp.post("/<int:check_id>/personal")
@login_required
def personal(check_id: int) -> Any:
    """The 身份证号 and phone of the household unmasked, for the check's handlers; the view is logged."""
    return _show(check_id, reveal=True)


@bp.get("/<int:check_id>/report.docx")
@login_required
def report_document(check_id: int) -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    with database().sessions() as s:
        check = s.get(HouseholdCheck, check_id)
        if check is None or check.report is None:
            abort(404)
        if not checks.may_see(s, viewer, check):
            abort(403)
        data = check_doc.build_report(check)
        number = check.number
    name = quote(f"家庭经济状况核对报告-{number}.docx")
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename=\"check-{check_id}.docx\"; "
                                                    f"filename*=UTF-8''{name}"})


@bp.get("/stats")
@roles_required(*STATS_ROLES)
def stats() -> Any:
    with database().sessions() as s:
        return render_template("checks/stats.html", provider_stats=check_stats.provider_stats(s),
                               totals=check_stats.totals(s))


# ------------------------------------------------------------------------------------------------ 动态复核 batches
def _batch_access(s: Any, viewer: cases.Viewer, batch: HouseholdBatch) -> tuple[bool, bool]:
    """(may see the batch, may download a provider's list): the requester's town, the 核对 office and the
    supervisors see it; each provider downloads its own list, the 核对 office every list."""
    provider = viewer.unit in check_batch.providers(s)
    sees = (checks.sees_all(viewer) or provider
            or (batch.town_code is not None and batch.town_code in cases.town_codes_of(viewer)))
    return sees, provider or checks.CHECK_OFFICE in viewer.groups


@bp.get("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int) -> Any:
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    with database().sessions() as s:
        row = s.get(HouseholdBatch, batch_id)
        if row is None:
            abort(404)
        sees, _download = _batch_access(s, viewer, row)
        if not sees:
            abort(403)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        progress = s.execute(select(HouseholdBatchRow.provider, HouseholdBatchRow.status, func.count())
                             .where(HouseholdBatchRow.batch_id == row.id)
                             .group_by(HouseholdBatchRow.provider, HouseholdBatchRow.status)).all()
        by_provider: dict[str, dict[str, int]] = {}
        for provider, status, n in progress:
            by_provider.setdefault(provider, {})[status] = int(n)
        mine = {p for p in by_provider if p == viewer.unit or checks.CHECK_OFFICE in viewer.groups}
        # The changes are the requester's to review: a provider sees its own list, not the others' answers.
        requester = checks.sees_all(viewer) or (row.town_code is not None
                                                and row.town_code in cases.town_codes_of(viewer))
        changed = [(r, c.applicant_name, checks.masked(c)["id_number"], names.get(r.provider, r.provider))
                   for r, c in check_batch.changed_rows(s, row.id)] if requester else []
        return render_template("checks/batch.html", batch=row, names=names, by_provider=by_provider, mine=mine,
                               changed=changed, requester=requester)


@bp.get("/batches/<int:batch_id>/<provider>.xlsx")
@login_required
def batch_list(batch_id: int, provider: str) -> Any:
    """A provider's list, streamed from the database into the workbook; full identity numbers, so the download
    is written to the personal-data log."""
    viewer = case_viewer()
    if not _may_list(viewer):
        abort(403)
    db, now = database(), workflow().now()
    with db.transaction() as s:
        row = s.get(HouseholdBatch, batch_id)
        if row is None or provider not in check_batch.providers(s):
            abort(404)
        _sees, download = _batch_access(s, viewer, row)
        if not download or (provider != viewer.unit and checks.CHECK_OFFICE not in viewer.groups):
            abort(403)
        s.add(PersonalDataView(at=now, actor=viewer.username, subject="household_batch", subject_id=row.id,
                               subject_number=row.number, town_code=row.town_code, fields="身份证号",
                               purpose="下载动态复核清单"))
        out = io.BytesIO()
        check_batch.write_xlsx(check_batch.provider_rows(s, row.id, provider), out,
                               f"{row.number} {row.month} 动态复核清单")
        number = row.number
    name = quote(f"动态复核清单-{number}-{provider}.xlsx")
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"batch-{batch_id}-{provider}.xlsx\"; "
                                                    f"filename*=UTF-8''{name}"})
