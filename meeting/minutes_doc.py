"""会议纪要 as a Word document laid out after GB/T 9704-2012 (党政机关公文格式) §10.3, with meeting/gbt9704.py.

The 纪要标志 "汉滨区社会救助联席会议纪要" in red with the 文号 under it and a red rule; the body (the opening
sentence with date, place and 主持人, the summary, the office's text, the items table and the major issues); the
出席 / 请假 / 未回复 / 列席 lists (unit, post and name, from the 签到 of the meeting day, or the replies where
nobody signed in); and the 版记 at the foot of the last even page: 报 (the 负责人 and the offices chosen), 送 (the
member units), 抄送 (as chosen), and the 印发 line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.attachments import store_attachment
from engine.models import Attachment
from meeting.gbt9704 import OfficialDocument
from meeting.models import Attendance, MajorIssue, Meeting, Minutes, ResolutionItem, Unit
from meeting.statuses import AttendanceReply, MinutesStatus, SignIn
from meeting.timeutil import local_today

TITLE = "汉滨区社会救助联席会议纪要"
ISSUER = "汉滨区社会救助联席会议办公室"
LEADER = "区政府分管领导"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CHINESE_NUMERALS = "一二三四五六七八九十"
ITEM_WIDTHS = (14.0, 62.0, 26.0, 28.0, 26.0)


@dataclass(frozen=True)
class MinutesContent:
    """Everything the document says, read from the database in one place."""

    number: str
    meeting_title: str
    meeting_day: str
    place: str
    presider: str
    summary: str
    body: str
    items: list[tuple[str, str, str, str, str]]  # number, content, lead, co-units, deadline
    majors: list[str]
    present: list[str]
    leave: list[str]
    attending: list[str]  # 列席
    issue_day: str
    draft: bool
    unanswered: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)  # 报
    distribute: str = ""  # 送
    cc: list[str] = field(default_factory=list)  # 抄送


def cn_date(moment: datetime) -> str:
    day = local_today(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _who(name: str, post: str | None, person: str | None, substitute: bool = False) -> str:
    """区财政局 副局长 张三 (a substitute is marked 代会)."""
    parts = [name, (post or "").strip(), (person or "").strip()]
    text = " ".join(p for p in parts if p)
    return f"{text}（代会）" if substitute else text


def attendance_lists(rows: list[Attendance], names: dict[str, str]
                     ) -> tuple[list[str], list[str], list[str], list[str]]:
    """出席, 请假, 未回复, 列席: from the 签到 where the office recorded one, else from the replies."""
    present: list[str] = []
    leave: list[str] = []
    silent: list[str] = []
    attending: list[str] = []
    for row in rows:
        unit = names.get(row.unit_code, row.unit_code)
        if row.sign_in:
            came = row.sign_in != SignIn.ABSENT
            person, post = row.signed_name, row.signed_post
            substitute = row.sign_in == SignIn.SUBSTITUTE
        else:
            came = row.reply in AttendanceReply.coming()
            person, post, substitute = row.attendee_name, row.attendee_post, row.reply == AttendanceReply.SUBSTITUTE
        if came:
            (attending if row.invited else present).append(_who(unit, post, person, substitute))
        elif row.invited:
            continue
        elif row.reply in (AttendanceReply.UNANSWERED, AttendanceReply.PENDING):
            silent.append(unit)
        else:
            leave.append(unit)
    return present, leave, silent, attending


def minutes_content(session: Session, meeting_id: int, now: datetime) -> MinutesContent:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise LookupError(f"meeting {meeting_id} not found")
    minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
    units = {u.code: u for u in session.scalars(select(Unit))}
    names = {code: u.name for code, u in units.items()}

    def order(code: str) -> tuple[int, str]:
        return (units[code].sort if code in units else 999, code)

    rows = sorted(session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id)),
                  key=lambda r: order(r.unit_code))
    present, leave, silent, attending = attendance_lists(rows, names)
    items = [(item.number, item.content, names.get(item.lead_unit, item.lead_unit),
              "、".join(names.get(c, c) for c in item.co_units) or "—", cn_date(item.deadline))
             for item in session.scalars(select(ResolutionItem).where(
                 ResolutionItem.meeting_id == meeting_id, ResolutionItem.major_issue_id.is_(None))
                 .order_by(ResolutionItem.id))]
    majors = [m.title for m in session.scalars(select(MajorIssue).where(MajorIssue.meeting_id == meeting_id)
                                                .order_by(MajorIssue.id))]
    members = {c for c, u in units.items() if u.kind == "member" and u.active}
    distribute = set(minutes.distribute_to) if minutes is not None else members
    issued = minutes.issued_at if minutes is not None and minutes.issued_at else None
    return MinutesContent(
        number=(minutes.number or "") if minutes is not None else "",
        meeting_title=meeting.title, meeting_day=cn_date(meeting.meeting_at), place=meeting.place,
        presider=meeting.presider_name or "", summary=meeting.outcome_summary or "",
        body=minutes.body if minutes is not None else "",
        items=items, majors=majors, present=present, leave=leave, attending=attending, unanswered=silent,
        issue_day=cn_date(issued or now),
        draft=minutes is None or minutes.status != MinutesStatus.ISSUED,
        report=[LEADER] + [names.get(c, c) for c in sorted(minutes.report_to if minutes else [], key=order)],
        distribute=("各成员单位" if distribute >= members else
                    "，".join(names.get(c, c) for c in sorted(distribute, key=order))),
        cc=[names.get(c, c) for c in sorted(minutes.copy_to if minutes else [], key=order)],
    )


def build_minutes_docx(content: MinutesContent) -> bytes:
    doc = OfficialDocument(title=f"{TITLE} {content.number}".strip(), author=ISSUER)
    number = content.number or ("（文号待审签时编定）" if content.draft else "")
    doc.masthead(TITLE, number, "（草稿）" if content.draft else "")
    _body(doc, content)
    # 出席、请假、未回复、列席 (空一行，左空二字).
    doc.blank()
    doc.name_list("出席", content.present)
    doc.name_list("请假", content.leave)
    if content.unanswered:
        doc.name_list("未回复", content.unanswered)
    doc.name_list("列席", content.attending)
    lines = [("报", "，".join(content.report) + "。"), ("送", content.distribute + "。" if content.distribute else ""),
             ("抄送", "，".join(content.cc) + "。" if content.cc else "")]
    doc.colophon(lines, ISSUER, content.issue_day)
    return doc.to_bytes()


def _body(doc: OfficialDocument, content: MinutesContent) -> None:
    """主体: the opening sentence, summary and body, the items table, the major issues."""
    where = f"在{content.place}" if content.place else ""
    chair = f"，{content.presider}主持会议" if content.presider else ""
    doc.paragraph(f"{content.meeting_day}，汉滨区社会救助联席会议{where}召开{content.meeting_title}{chair}。")
    for text in [content.summary, *content.body.splitlines()]:
        if text.strip():
            doc.paragraph(text.strip())
    heading = 0
    if content.items:
        doc.heading(f"{CHINESE_NUMERALS[heading]}、议定事项")
        heading += 1
        rows = [[str(i), text, lead, co, deadline]
                for i, (_number, text, lead, co, deadline) in enumerate(content.items, start=1)]
        doc.table(["序号", "议定事项", "牵头单位", "配合单位", "完成时限"], rows, ITEM_WIDTHS)
        doc.paragraph("以上事项由牵头单位负责落实，配合单位积极配合，并在完成时限内向联席会议办公室报送落实情况。")
    if content.majors:
        doc.heading(f"{CHINESE_NUMERALS[heading]}、报区政府决定的重大问题")
        for index, title in enumerate(content.majors, start=1):
            doc.paragraph(f"{index}. {title}")


def file_name(content: MinutesContent) -> str:
    return f"会议纪要{('-' + content.number) if content.number else ''}.docx"


def minutes_docx(session: Session, meeting_id: int, now: datetime) -> tuple[str, bytes]:
    content = minutes_content(session, meeting_id, now)
    return file_name(content), build_minutes_docx(content)


def attach_issued_minutes(session: Session, minutes: Minutes, now: datetime, instance_id: str | None) -> Attachment:
    """Generate the issued document and keep it as an attachment of the meeting's instance."""
    name, data = minutes_docx(session, minutes.meeting_id, now)
    row = store_attachment(session, "minutes", name, data, "system", now, instance_id)
    minutes.document_id = row.id
    return row
