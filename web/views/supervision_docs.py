"""The documents of 督办 and their archive: 督办通报 (every issue, each with its .docx), 阶段性落实情况报告, rounds
of progress reports, and the .docx of a 督办函. Who may read: the monitors (office, convener, district) everything;
the member units the 督办通报 that were issued to them, and the 督办函 addressed to them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Attachment
from meeting.models import Bulletin, InterimReport, ProgressRound, SupervisionLetter
from meeting.statuses import IssuedDocStatus
from web.auth import me, roles_required
from web.services import database
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("docs", __name__)
ISSUED = (IssuedDocStatus.ISSUED, IssuedDocStatus.RECEIVED)
PAGE = 100


def _monitor() -> bool:
    return me().has(*MONITOR_ROLES, "admin")


def _docx(s: Session, attachment_id: str | None) -> Response:
    row = s.get(Attachment, attachment_id) if attachment_id else None
    if row is None:
        abort(404)
    disposition = f"attachment; filename*=UTF-8''{quote(row.file_name)}"
    return Response(row.content, mimetype=row.content_type.split(";")[0],
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------------------------------------- 督办通报
@bp.get("/bulletins")
@login_required
def bulletins() -> Any:
    """The archive: monitors see drafts too; every signed-in member of a unit sees the issued ones (not the
    administrators, who hold no unit: 三员分立 keeps them out of the business)."""
    if not (_monitor() or me().unit_code):
        abort(403)
    with database().sessions() as s:
        stmt = select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc()).limit(PAGE)
        if not _monitor():
            stmt = stmt.where(Bulletin.status.in_(ISSUED))
        rows = list(s.scalars(stmt))
    return render_template("docs/bulletins.html", rows=rows, monitor=_monitor())


def _bulletin_or_abort(s: Session, bulletin_id: int) -> Bulletin:
    row = s.get(Bulletin, bulletin_id)
    if row is None or (row.status not in ISSUED and not _monitor()):
        abort(404)
    if not (_monitor() or me().unit_code):
        abort(403)
    return row


@bp.get("/bulletins/<int:bulletin_id>")
@login_required
def bulletin(bulletin_id: int) -> Any:
    with database().sessions() as s:
        row = _bulletin_or_abort(s, bulletin_id)
    return render_template("docs/bulletin.html", b=row, f=row.figures, monitor=_monitor())


@bp.get("/bulletins/<int:bulletin_id>/document.docx")
@login_required
def bulletin_document(bulletin_id: int) -> Any:
    with database().sessions() as s:
        return _docx(s, _bulletin_or_abort(s, bulletin_id).document_id)


# ---------------------------------------------------------------------------------------------- 阶段性报告
@bp.get("/interim")
@roles_required(*MONITOR_ROLES)
def interim_list() -> Any:
    with database().sessions() as s:
        rows = list(s.scalars(select(InterimReport).order_by(InterimReport.created_at.desc()).limit(PAGE)))
    return render_template("docs/interim_list.html", rows=rows)


def _interim_or_abort(s: Session, report_id: int) -> InterimReport:
    row = s.get(InterimReport, report_id)
    if row is None:
        abort(404)
    return row


@bp.get("/interim/<int:report_id>")
@roles_required(*MONITOR_ROLES)
def interim(report_id: int) -> Any:
    with database().sessions() as s:
        row = _interim_or_abort(s, report_id)
    return render_template("docs/interim.html", r=row, f=row.figures)


@bp.get("/interim/<int:report_id>/document.docx")
@roles_required(*MONITOR_ROLES)
def interim_document(report_id: int) -> Any:
    with database().sessions() as s:
        return _docx(s, _interim_or_abort(s, report_id).document_id)


# ---------------------------------------------------------------------------------------------- 月报, 督办函
@bp.get("/progress")
@roles_required(*MONITOR_ROLES)
def progress() -> Any:
    with database().sessions() as s:
        rows = list(s.scalars(select(ProgressRound).order_by(ProgressRound.cutoff.desc(), ProgressRound.id.desc())
                              .limit(PAGE)))
    return render_template("docs/progress.html", rows=rows)


@bp.get("/letters/<int:letter_id>/document.docx")
@login_required
def letter_document(letter_id: int) -> Any:
    with database().sessions() as s:
        row = s.get(SupervisionLetter, letter_id)
        if row is None or row.document_id is None:
            abort(404)
        if not (_monitor() or me().unit_code == row.unit_code):
            abort(403)
        return _docx(s, row.document_id)
