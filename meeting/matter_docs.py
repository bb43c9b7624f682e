"""The documents of the joint meeting's other sources of work, laid out after GB/T 9704 (meeting/gbt9704.py):
the 办理情况报告 of a 交办事项 (主送 the 交办机关), the 协调函 of a coordination request (主送 the units named) and the
专题协调会纪要 (纪要 format: the 标志 is the title; 出席 after the body). Each is generated from its record once
the record holds its 文号 (taken from the document register when signed or sent); before that there is none.

How to use it::

    content = matter_report(session, matter)          # or coordination_letter / coordination_minutes
    if content is not None:
        name, data = file_name(content), build_docx(content)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting import documents
from meeting.gbt9704 import OfficialDocument
from meeting.minutes_doc import ITEM_WIDTHS, LEADER, cn_date
from meeting.models import AssignedMatter, CoordinationRequest, Meeting, Minutes, ResolutionItem, Topic, Unit
from meeting.snapshot import cn_day
from meeting.statuses import ItemSource

OFFICE = "汉滨区社会救助联席会议办公室"
REPORT_MARK = OFFICE + "文件"
LETTER_MARK = "汉滨区社会救助联席会议协调函"
MINUTES_MARK = "汉滨区社会救助联席会议专题协调会纪要"
SOURCE_KINDS = {"instruction": "批示件", "letter": "来文"}


@dataclass(frozen=True)
class SourceDocument:
    """Everything one document says, read from the database in one place (``build_docx`` lays it out)."""

    kind: str  # 办理情况报告 / 协调函 / 专题协调会纪要: the file name's first word
    mark: str  # 发文机关标志 (or 纪要标志)
    number: str  # 文号
    title: str  # 标题 ("" for a 纪要: its 标志 is the title)
    addressee: str  # 主送机关 ("" for a 纪要)
    paragraphs: list[str]
    issue_day: str  # 成文日期 and 印发日期, 2026年6月8日
    colophon: list[tuple[str, str]]  # (抄送 | 报 | 分送, text)
    items: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # number, content, lead, co, deadline
    present: list[str] = field(default_factory=list)  # 纪要: 出席


def _names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Unit.code, Unit.name)).all())


def _listed(names: dict[str, str], codes: list[str] | tuple[str, ...]) -> list[str]:
    return [names.get(c, c) for c in dict.fromkeys(c for c in codes if c)]


def _issued_on(session: Session, kind: str, subject: str) -> datetime | None:
    row = documents.number_of(session, kind, subject)
    return row.taken_at if row is not None else None


def matter_report(session: Session, matter: AssignedMatter) -> SourceDocument | None:
    """The 办理情况报告 back to the 交办机关, once signed (None before)."""
    if not matter.report_number or matter.report_signed_at is None:
        return None
    names = _names(session)
    kind = SOURCE_KINDS.get(matter.source_kind, "来文")
    source = f"{matter.source_org}{kind}" + (f"（{matter.source_number}）" if matter.source_number else "")
    leader = f"{matter.instruction_leader}批示" if matter.instruction_leader else "要求"
    opening = (f"{cn_day(matter.received_on)}，我办收到{source}，收文登记为{matter.number}。"
               f"{leader}：“{matter.instruction}”现将办理情况报告如下。")
    studied = _studied_at(session, matter)
    body = [p.strip() for p in (matter.report_body or "").splitlines() if p.strip()]
    handlers = _listed(names, [matter.proposed_lead or "", *matter.proposed_co])
    return SourceDocument(
        kind="办理情况报告", mark=REPORT_MARK, number=matter.report_number,
        title=f"关于{matter.title}办理情况的报告", addressee=f"{matter.source_org}：",
        paragraphs=[opening, *studied, *body, "特此报告。"], issue_day=cn_date(matter.report_signed_at),
        colophon=[("抄送", "，".join(["联席会议召集人", *handlers]) + "。")])


def _studied_at(session: Session, matter: AssignedMatter) -> list[str]:
    """For a matter put on the agenda: the meeting that studied it and the 纪要 that recorded it."""
    if matter.topic_id is None:
        return []
    row = session.execute(select(Meeting.title, Minutes.number).join(Topic, Topic.meeting_id == Meeting.id)
                          .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
                          .where(Topic.id == matter.topic_id)).first()
    if row is None:
        return []
    title, number = row
    return [f"按召集人审定意见，该事项提交{title}研究" + (f"，议定事项见会议纪要（{number}）" if number else "")
            + "，议定事项已全部办结销号。"]


def coordination_letter(session: Session, request: CoordinationRequest) -> SourceDocument | None:
    """The 协调函 to the units named, once numbered (None before)."""
    issued = _issued_on(session, "coordination_letter", f"coordination:{request.id}")
    if not request.letter_number or issued is None:
        return None
    names = _names(session)
    asking = names.get(request.unit_code or "", "联席会议办公室")
    paragraphs = [f"{asking}提出：{request.problem.strip()}",
                  "该问题需相关部门协调解决。" + (request.office_comment.strip() if request.office_comment else "")]
    due = f"于{cn_date(request.reply_due)}前" if request.reply_due else "及时"
    paragraphs += [f"请你单位按照职责研究提出意见，{due}书面反馈联席会议办公室。逾期未反馈的，记为未反馈并报联席会议召集人。",
                   "特此函告。"]
    copy_to = _listed(names, [request.unit_code or ""]) + ["联席会议召集人"]
    return SourceDocument(
        kind="协调函", mark=LETTER_MARK, number=request.letter_number, title=f"关于{request.title}的协调函",
        addressee="、".join(_listed(names, request.units)) + "：", paragraphs=paragraphs, issue_day=cn_date(issued),
        colophon=[("抄送", "，".join(copy_to) + "。")])


def coordination_minutes(session: Session, request: CoordinationRequest) -> SourceDocument | None:
    """The 专题协调会纪要, once recorded and numbered (None before)."""
    issued = _issued_on(session, "coordination_minutes", f"coordination:{request.id}")
    if not request.minutes_number or issued is None:
        return None
    names = _names(session)
    day = cn_date(request.meeting_at) if request.meeting_at else cn_date(issued)
    where = f"在{request.meeting_place}" if request.meeting_place else ""
    opening = (f"{day}，联席会议办公室{where}召开专题协调会，研究{request.title}问题。"
               f"{names.get(request.unit_code or '', '联席会议办公室')}提出：{request.problem.strip()}")
    body = [p.strip() for p in (request.minutes or "").splitlines() if p.strip()]
    items = [(i.number, i.content, names.get(i.lead_unit, i.lead_unit), "、".join(_listed(names, i.co_units)) or "—",
              cn_date(i.deadline))
             for i in session.scalars(select(ResolutionItem).where(
                 ResolutionItem.source == ItemSource.COORDINATION,
                 ResolutionItem.number.like(f"XT-____-{request.id:03d}-%")).order_by(ResolutionItem.id))]
    participants = _listed(names, request.participants)
    return SourceDocument(
        kind="专题协调会纪要", mark=MINUTES_MARK, number=request.minutes_number, title="", addressee="",
        paragraphs=[opening, *body], issue_day=cn_date(issued), items=items, present=participants,
        colophon=[("报", f"{LEADER}，联席会议召集人。"), ("分送", "，".join(participants) + "。")])


def build_docx(content: SourceDocument) -> bytes:
    doc = OfficialDocument(title=f"{content.kind} {content.number}", author=OFFICE)
    doc.masthead(content.mark, number=content.number)
    if content.title:
        doc.title(content.title)
    if content.addressee:
        doc.addressee(content.addressee)
    for text in content.paragraphs:
        doc.paragraph(text)
    if content.items:
        doc.heading("议定事项")
        rows = [[str(n), text, lead, co, deadline]
                for n, (_number, text, lead, co, deadline) in enumerate(content.items, start=1)]
        doc.table(["序号", "议定事项", "牵头单位", "配合单位", "完成时限"], rows, ITEM_WIDTHS)
        doc.paragraph("以上事项纳入联席会议督办台账（来源：协调），由牵头单位负责落实，配合单位积极配合。")
    if content.present:
        doc.blank()
        doc.name_list("出席", content.present)
    else:
        doc.signature(OFFICE, content.issue_day)
    doc.colophon(content.colophon, issuer=OFFICE, date=content.issue_day)
    return doc.to_bytes()


def file_name(content: SourceDocument) -> str:
    return f"{content.kind}-{content.number}.docx"
