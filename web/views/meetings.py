"""Meetings: the list, one meeting (plan, topics, attendance, resolutions, minutes) and its 会议纪要 .docx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template
from flask_login import login_required
from sqlalchemy import or_, select

from engine.models import Attachment
from engine.paging import Key, page
from meeting.minutes_doc import DOCX_TYPE, minutes_docx
from meeting.models import (
    Attendance,
    MajorIssue,
    Meeting,
    MeetingTopic,
    Minutes,
    ResolutionCoUnit,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.queries import attendance_summary
from web.auth import me
from web.paging import page_args, pager_links
from web.services import database, workflow
from web.views.monitor import MONITOR_ROLES

bp = Blueprint("meetings", __name__)
# Who reads every meeting: the monitors, administrators and the 抄送 readers (issued minutes only).
READ_ALL = (*MONITOR_ROLES, "admin")
DRAFT_READERS = ("office", "convener", "admin")
PAGE_SIZE = 50
MEETING_ORDER = [Key(Meeting.meeting_at, desc=True), Key(Meeting.id, desc=True)]  # the latest first


def _unit_meetings(unit: str) -> Any:
    """Meetings a unit attended or was asked to, or has resolution items from."""
    attended = select(Attendance.meeting_id).where(Attendance.unit_code == unit)
    leads = select(ResolutionItem.meeting_id).where(ResolutionItem.lead_unit == unit)
    co = (select(ResolutionItem.meeting_id).join(ResolutionCoUnit, ResolutionCoUnit.resolution_id == ResolutionItem.id)
          .where(ResolutionCoUnit.unit_code == unit))
    return or_(Meeting.id.in_(attended), Meeting.id.in_(leads), Meeting.id.in_(co))


def _may_read(s: Any, meeting: Meeting) -> bool:
    user = me()
    if user.has(*READ_ALL):
        return True
    if user.has("cc"):
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        if minutes is not None and minutes.status == "issued":
            return True
    if user.unit_code:
        return s.scalar(select(Meeting.id).where(Meeting.id == meeting.id, _unit_meetings(user.unit_code))) is not None
    return False


def load_meeting_or_abort(s: Any, meeting_id: int) -> Meeting:
    """The meeting, if this user may read it: 404 when there is none, 403 when it is not theirs."""
    meeting = s.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    if not _may_read(s, meeting):
        abort(403)
    return meeting


def visible_meetings() -> Any:
    """The meetings this user may read (403 for someone who reads none): the monitors every one, 抄送 readers
    those with issued minutes, a unit those it attended, was asked to or has items from."""
    user = me()
    stmt = select(Meeting)
    if not user.has(*READ_ALL):
        issued = select(Minutes.meeting_id).where(Minutes.status == "issued")
        clauses = []
        if user.has("cc"):
            clauses.append(Meeting.id.in_(issued))
        if user.unit_code:
            clauses.append(_unit_meetings(user.unit_code))
        if not clauses:
            abort(403)
        stmt = stmt.where(or_(*clauses))
    return stmt


@bp.get("/meetings")
@login_required
def index() -> Any:
    paging = page_args(PAGE_SIZE)
    with database().sessions() as s:
        found = page(s, visible_meetings(), MEETING_ORDER, paging.limit, paging.after, paging.before)
        meetings = found.rows
        minutes = {m.meeting_id: m for m in s.scalars(select(Minutes).where(
            Minutes.meeting_id.in_([m.id for m in meetings])))}
    return render_template("meetings/index.html", meetings=meetings, minutes=minutes,
                           pager=pager_links(found, paging))


@bp.get("/meetings/<int:meeting_id>")
@login_required
def show(meeting_id: int) -> Any:
    now = workflow().now()
    with database().sessions() as s:
        meeting = load_meeting_or_abort(s, meeting_id)
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        topics = list(s.execute(select(Topic, MeetingTopic.outcome, MeetingTopic.material_id)
                                .join(MeetingTopic, MeetingTopic.topic_id == Topic.id)
                                .where(MeetingTopic.meeting_id == meeting.id).order_by(Topic.id)))
        items = list(s.scalars(select(ResolutionItem).where(ResolutionItem.meeting_id == meeting.id)
                               .order_by(ResolutionItem.id)))
        majors = list(s.scalars(select(MajorIssue).where(MajorIssue.meeting_id == meeting.id).order_by(MajorIssue.id)))
        attendance = attendance_summary(s, meeting.id)
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        # a department invited from outside the directory has no liaison here: the office phones its contact
        guests = {code: " ".join(filter(None, (who, phone))) for code, who, phone in s.execute(
            select(Unit.code, Unit.contact_name, Unit.contact_phone).where(Unit.kind == "guest")) if who or phone}
        document = s.get(Attachment, minutes.document_id) if minutes is not None and minutes.document_id else None
    user = me()
    may_draft = user.has(*DRAFT_READERS)
    return render_template(
        "meetings/show.html", meeting=meeting, minutes=minutes, topics=topics, items=items, majors=majors,
        attendance=attendance, names=names, guests=guests, document=document, lights={i.id: i.light(now) for i in items},
        may_download=minutes is not None and (minutes.status == "issued" or may_draft),
        may_monitor=user.has(*READ_ALL), may_instance=user.has("office", "convener", "admin"),
    )


@bp.get("/meetings/<int:meeting_id>/minutes.docx")
@login_required
def minutes_document(meeting_id: int) -> Any:
    """The issued document as it was attached; before issue, a draft generated now (office and convener)."""
    with database().sessions() as s:
        meeting = load_meeting_or_abort(s, meeting_id)
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        if minutes is None:
            abort(404)
        if minutes.status == "issued" and minutes.document_id:
            row = s.get(Attachment, minutes.document_id)
            if row is None:
                abort(404)
            name, data = row.file_name, row.content
        else:
            if not me().has(*DRAFT_READERS):
                abort(403)
            name, data = minutes_docx(s, meeting.id, workflow().now())
            name = name.replace(".docx", "（草稿）.docx")
    disposition = f"attachment; filename=\"minutes-{meeting_id}.docx\"; filename*=UTF-8''{quote(name)}"
    return Response(data, mimetype=DOCX_TYPE, headers={"Content-Disposition": disposition,
                                                        "Cache-Control": "private, no-store"})
