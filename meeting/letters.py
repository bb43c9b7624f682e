"""督办函: the letter the ladder's second rung sends to the leader of a unit whose item is overdue, 签发 by the
convener, numbered from the document register (kind ``letter``) and laid out after GB/T 9704 (meeting/gbt9704.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.attachments import store_attachment
from meeting import documents, supervision
from meeting.directory import unit_name
from meeting.gbt9704 import OfficialDocument
from meeting.models import Meeting, Minutes, ResolutionItem, SupervisionLetter, User, UserRole
from meeting.notify import notify, notify_groups
from meeting.statuses import Rung, SupervisionKind
from meeting.timeutil import local_today
from meeting.workdays import calendar_for

ISSUER = "汉滨区社会救助联席会议办公室"
MARK = "汉滨区社会救助联席会议督办函"
REPLY_WORKDAYS = 5  # the unit answers the letter within

documents.declare_kind("letter", "督办函", "汉救联督〔{year}〕{seq}号")


def cn_date(moment: datetime) -> str:
    day = local_today(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def person_with_role(session: Session, role: str) -> str:
    """The display name of the (first) person holding ``role``: the 签发人 of a letter is the convener."""
    name = session.scalar(select(User.display_name).join(UserRole, UserRole.user_id == User.id)
                          .where(UserRole.role == role, User.active).order_by(User.id).limit(1))
    return name or ""


def source_line(session: Session, item: ResolutionItem) -> str:
    """``2026年第一次社会救助联席会议（汉救联纪〔2026〕1号）``: where the item was agreed."""
    if item.meeting_id is None:
        return "联席会议"
    meeting = session.get(Meeting, item.meeting_id)
    number = session.scalar(select(Minutes.number).where(Minutes.meeting_id == item.meeting_id))
    title = meeting.title if meeting else "联席会议"
    return f"{title}（{number}）" if number else title


def build_letter(session: Session, letter: SupervisionLetter, item: ResolutionItem, number: str,
                 now: datetime) -> bytes:
    unit = unit_name(session, letter.unit_code)
    reply_by = calendar_for(session).add(local_today(now), REPLY_WORKDAYS)
    doc = OfficialDocument(title=number, author=ISSUER)
    doc.masthead(MARK, number=number)
    doc.title(f"关于督促落实议定事项{item.number}的函")
    doc.addressee(f"{unit}主要负责人：")
    doc.paragraph(f"{source_line(session, item)}议定的事项“{item.content}”由你单位牵头落实，办理时限为"
                  f"{cn_date(item.deadline)}。截至{cn_date(now)}，该事项已逾期{letter.overdue_days}天，联席会议办公室"
                  f"已督办{letter.supervise_round}次，你单位仍未报告落实结果。")
    doc.paragraph(f"请你单位主要负责人亲自过问，抓紧落实，并于{reply_by.year}年{reply_by.month}月{reply_by.day}日前将"
                  f"落实情况和逾期原因书面报送联席会议办公室。逾期仍未办结的，将报区政府分管领导，并建议约谈你单位"
                  f"主要负责人。")
    doc.paragraph("特此函告。")
    doc.signature(ISSUER, cn_date(now))
    signer = person_with_role(session, "convener")
    doc.annotation(f"签发人：{signer}" if signer else "经联席会议召集人签发")
    doc.colophon([("抄送", "联席会议召集人，区政府办公室。")], issuer=ISSUER, date=cn_date(now))
    return doc.to_bytes()


def issue(session: Session, letter: SupervisionLetter, now: datetime, actor: str | None,
          instance_id: str | None) -> None:
    """Number, lay out and send a signed letter; recorded in the item's history."""
    item = session.get(ResolutionItem, letter.resolution_id)
    if item is None:
        return
    row = documents.take_number(session, "letter", now, subject=f"letter:{letter.id}",
                                title=f"关于督促落实议定事项{item.number}的函", by=actor)
    data = build_letter(session, letter, item, row.number, now)
    attachment = store_attachment(session, "document", f"督办函-{row.number}.docx", data, actor or "system", now,
                                  instance_id)
    letter.number, letter.issued_at, letter.document_id = row.number, now, attachment.id
    supervision.record(session, item, SupervisionKind.LETTER, now, unit=letter.unit_code, rung=Rung.LETTER,
                       actor=letter.signed_by, letter_id=letter.id)
    supervision.climb(item, Rung.LETTER)
    title = f"督办函 {row.number}：{supervision.headline(item)}"
    notify(session, supervision.unit_group(letter.unit_code), "issued", title,
           f"请单位主要负责人阅办，于{REPLY_WORKDAYS}个工作日内书面报告落实情况和逾期原因。",
           supervision.item_link(item), now)
    notify_groups(session, ["office", "convener"], "info", title, "督办函已发出。", supervision.item_link(item), now)
