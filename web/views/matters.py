"""The records behind the joint meeting's other sources of work: a 交办事项, a 信访件, a 协调事项 (read-only pages
that notifications link to; the work itself is done on task pages).

Who reads them: the monitors (office, convener, district leader) and administrators every one; a unit those it is
part of (the units named, the responsible unit, the referring 区信访局). The petitioner's contact is shown masked.
Their documents (办理情况报告, 协调函, 专题协调会纪要: meeting/matter_docs.py) are for the monitors and the units
concerned only, not for administrators (三员分立 keeps them out of the business).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, url_for
from flask_login import login_required
from sqlalchemy import select

from meeting import matter_docs
from meeting.context import coordination_details, matter_details, petition_details
from meeting.minutes_doc import DOCX_TYPE
from meeting.models import (
    AssignedMatter,
    CoordinationRequest,
    PetitionReferral,
    ResolutionCoUnit,
    ResolutionItem,
    Unit,
)
from meeting.privacy import may_see_contact, reveal_contact
from web.auth import me
from web.services import database, workflow
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("matters", __name__)
READ_ALL = (*MONITOR_ROLES, "admin")


def _reader() -> str | None:
    """The unit of a reader who is no monitor (403 for someone who reads none of these records)."""
    user = me()
    if user.has(*READ_ALL):
        return None
    if not user.unit_code:
        abort(403)
    return user.unit_code


def _item_units(s: Any, resolution_id: int | None) -> set[str]:
    if resolution_id is None:
        return set()
    lead = s.scalar(select(ResolutionItem.lead_unit).where(ResolutionItem.id == resolution_id))
    co = s.scalars(select(ResolutionCoUnit.unit_code).where(ResolutionCoUnit.resolution_id == resolution_id))
    return {lead, *co} - {None}


def _page(title: str, kind: str, number: str, details: list[tuple[str, str]], item_id: int | None,
          instance_id: str | None, contact_url: str | None = None, revealed: bool = False,
          docs: list[tuple[str, str, str]] | None = None) -> Any:
    user = me()
    return render_template("matters/show.html", title=title, kind=kind, number=number, details=details,
                           item_id=item_id, instance_id=instance_id, contact_url=contact_url, revealed=revealed,
                           may_instance=user.has("office", "convener", "admin"), docs=docs or [])


def _may_read_documents(units: set[str | None]) -> bool:
    """The monitors, or a member of one of ``units`` (the record's handlers)."""
    user = me()
    return user.has(*MONITOR_ROLES) or (user.unit_code is not None and user.unit_code in units)


def _document_reader() -> None:
    """403 at once for someone who reads no such document (no monitor, no unit), whatever the record."""
    user = me()
    if not (user.has(*MONITOR_ROLES) or user.unit_code):
        abort(403)


def _matter_units(s: Any, row: AssignedMatter) -> set[str | None]:
    return {row.proposed_lead, *row.proposed_co} | _item_units(s, row.resolution_id)


def _coordination_units(row: CoordinationRequest) -> set[str | None]:
    return {row.unit_code, *row.units, *row.participants}


def _docx(content: matter_docs.SourceDocument | None) -> Response:
    if content is None:
        abort(404)
    disposition = f"attachment; filename*=UTF-8''{quote(matter_docs.file_name(content))}"
    return Response(matter_docs.build_docx(content), mimetype=DOCX_TYPE,
                    headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"})


@bp.get("/matters/<int:matter_id>")
@login_required
def matter(matter_id: int) -> Any:
    unit = _reader()
    with database().sessions() as s:
        row = s.get(AssignedMatter, matter_id)
        if row is None:
            abort(404)
        handlers = _matter_units(s, row)
        if unit is not None and unit not in handlers:
            abort(403)
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
        details = matter_details(row, units)
        docs = [("report", "下载办理情况报告", url_for("matters.matter_report", matter_id=row.id))] \
            if row.report_number and _may_read_documents(handlers) else []
        return _page(row.title, "交办事项", row.number, details, row.resolution_id, row.instance_id, docs=docs)


@bp.get("/matters/<int:matter_id>/report.docx")
@login_required
def matter_report(matter_id: int) -> Any:
    """The signed 办理情况报告 (.docx)."""
    _document_reader()
    with database().sessions() as s:
        row = s.get(AssignedMatter, matter_id)
        if row is None:
            abort(404)
        if not _may_read_documents(_matter_units(s, row)):
            abort(403)
        return _docx(matter_docs.matter_report(s, row))


@bp.get("/petitions/<int:petition_id>")
@login_required
def petition(petition_id: int) -> Any:
    unit = _reader()
    with database().sessions() as s:
        row = s.get(PetitionReferral, petition_id)
        if row is None:
            abort(404)
        if unit is not None and unit not in {"xinfang", row.lead_unit} | _item_units(s, row.resolution_id):
            abort(403)
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
        details = petition_details(s, row, units)
        user = me()
        reveal = may_see_contact(user.groups, user.unit_code, row.lead_unit)
        return _page(row.title, "信访件", row.number, details, row.resolution_id, row.instance_id,
                     contact_url=url_for("matters.petition_contact", petition_id=row.id) if reveal else None)


@bp.post("/petitions/<int:petition_id>/contact")
@login_required
def petition_contact(petition_id: int) -> Any:
    """The petitioner's contact unmasked, for the case's handlers only; every view is written to the audit log."""
    user = me()
    if not ("office" in user.groups or user.unit_code):
        abort(403)
    now = workflow().now()
    with database().transaction() as s:
        row = s.get(PetitionReferral, petition_id)
        if row is None:
            abort(404)
        if not may_see_contact(user.groups, user.unit_code, row.lead_unit):
            abort(403)
        name, phone = reveal_contact(s, row, user.username, now)
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
        details = [(k, name if k == "信访人" else phone or "—" if k == "联系电话" else v)
                   for k, v in petition_details(s, row, units)]
        return _page(row.title, "信访件", row.number, details, row.resolution_id, row.instance_id, revealed=True)


@bp.get("/coordination/<int:coordination_id>")
@login_required
def coordination(coordination_id: int) -> Any:
    unit = _reader()
    with database().sessions() as s:
        row = s.get(CoordinationRequest, coordination_id)
        if row is None:
            abort(404)
        if unit is not None and unit not in _coordination_units(row):
            abort(403)
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
        details = coordination_details(row, units)
        docs: list[tuple[str, str, str]] = []
        if _may_read_documents(_coordination_units(row)):
            if row.letter_number:
                docs.append(("letter", "下载协调函", url_for("matters.coordination_letter", coordination_id=row.id)))
            if row.minutes_number:
                docs.append(("minutes", "下载专题协调会纪要", url_for("matters.coordination_minutes", coordination_id=row.id)))
        return _page(row.title, "协调事项", row.letter_number or "", details, None, row.instance_id, docs=docs)


def _coordination_doc(coordination_id: int, which: str) -> Response:
    _document_reader()
    with database().sessions() as s:
        row = s.get(CoordinationRequest, coordination_id)
        if row is None:
            abort(404)
        if not _may_read_documents(_coordination_units(row)):
            abort(403)
        build = matter_docs.coordination_letter if which == "letter" else matter_docs.coordination_minutes
        return _docx(build(s, row))


@bp.get("/coordination/<int:coordination_id>/letter.docx")
@login_required
def coordination_letter(coordination_id: int) -> Any:
    """The 协调函 (.docx)."""
    return _coordination_doc(coordination_id, "letter")


@bp.get("/coordination/<int:coordination_id>/minutes.docx")
@login_required
def coordination_minutes(coordination_id: int) -> Any:
    """The 专题协调会纪要 (.docx)."""
    return _coordination_doc(coordination_id, "minutes")
