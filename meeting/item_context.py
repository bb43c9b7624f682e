"""What a resolution item's task pages show, so that each decision shows what is being decided: the item with its
co-units, deadlines and 佐证材料; a pending 延期申请 (old deadline, requested date, reason, extensions so far and
the rules); a 督办函 waiting to be signed; a round of progress reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Attachment
from meeting.models import ExtensionRequest, ProgressRound, ResolutionItem, SupervisionLetter
from meeting.rules import load_rules
from meeting.statuses import CoUnitStatus, ExtensionStatus, ItemSource, LetterStatus, ResolutionStatus, Rung
from meeting.timeutil import format_day, local_today
from meeting.workdays import calendar_for


def _item_details(session: Session, item: ResolutionItem, units: dict[str, str]) -> list[tuple[str, str]]:
    co = "、".join(f"{units.get(c.unit_code, c.unit_code)}（{CoUnitStatus.label_of(c.status)}"
                  + (f"，配合时限{format_day(c.deadline)}" if c.deadline else "") + "）"
                  for c in item.co_unit_links) or "无"
    details = [("牵头单位", units.get(item.lead_unit, item.lead_unit)), ("配合单位", co),
               ("完成时限", format_day(item.deadline))]
    if item.original_deadline is not None and item.original_deadline != item.deadline:
        details.append(("原时限", format_day(item.original_deadline)))
    details.append(("状态", ResolutionStatus.label_of(item.status)))
    if item.source != ItemSource.MINUTES:
        details.append(("来源", ItemSource.label_of(item.source) + (f"（{item.source_ref}）" if item.source_ref else "")))
    if item.key_item:
        details.append(("事项类别", "重点事项（销号须佐证材料和召集人同意）"))
    if item.escalation != Rung.NONE:
        details.append(("督办", f"{Rung.label_of(item.escalation)}，已督办{item.supervise_count}次"))
    if item.evidence_id:
        name = session.scalar(select(Attachment.file_name).where(Attachment.id == item.evidence_id))
        details.append(("佐证材料", f"{name}（见议定事项页面下载）" if name else "已上传"))
    return details


def _extension(session: Session, item: ResolutionItem) -> tuple[str, list[tuple[str, str]]] | None:
    request = session.scalar(select(ExtensionRequest).where(
        ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(ExtensionRequest.requested_at.desc()).limit(1))
    if request is None:
        return None
    approved = session.scalar(select(func.count()).select_from(ExtensionRequest).where(
        ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.APPROVED)) or 0
    rules = load_rules(session)
    cal = calendar_for(session)
    added = cal.between(local_today(item.deadline), local_today(request.requested_deadline))
    return (f"申请延至{format_day(request.requested_deadline)}", [
        ("原办理时限", format_day(item.deadline)),
        ("申请延至", f"{format_day(request.requested_deadline)}（延长{added}个工作日）"),
        ("延期理由", request.reason),
        ("已延期次数", f"{approved}次（每项最多{rules.extension_max_count}次，每次最多{rules.extension_max_workdays}个工作日）"),
        ("申请时间", format_day(request.requested_at)),
    ])


def _letter(session: Session, letter: SupervisionLetter, item: ResolutionItem, units: dict[str, str]
            ) -> tuple[str, list[tuple[str, str]]]:
    details = [("致", f"{units.get(letter.unit_code, letter.unit_code)}主要负责人"),
               ("事由", f"议定事项{item.number}逾期{letter.overdue_days}天，已督办{letter.supervise_round}次仍未办结"),
               ("状态", LetterStatus.label_of(letter.status))]
    if letter.sign_due:
        details.append(("签发期限", format_day(letter.sign_due)))
    if letter.number:
        details.append(("文号", letter.number))
    return f"关于督促落实议定事项{item.number}的函", details


def item_subjects(session: Session, ctx: dict[str, Any], units: dict[str, str]) -> list[tuple[str, int, str, str,
                                                                                               list[tuple[str, str]]]]:
    """(kind, id, label, title, details) for the item a task is about and what is decided on it."""
    out: list[tuple[str, int, str, str, list[tuple[str, str]]]] = []
    rid = ctx.get("resolution_id")
    item = session.get(ResolutionItem, rid) if isinstance(rid, int) else None
    if item is None:
        return out
    lid = ctx.get("letter_id")
    letter = session.get(SupervisionLetter, lid) if isinstance(lid, int) else None
    if letter is not None and letter.resolution_id == item.id:
        title, details = _letter(session, letter, item, units)
        out.append(("letter", letter.id, "督办函", title, details))
    extension = _extension(session, item)
    if extension is not None:
        out.append(("extension", item.id, "延期申请", *extension))
    out.append(("resolution", item.id, "议定事项", f"{item.number} {item.content}",
                _item_details(session, item, units)))
    round_id = ctx.get("round_id")
    rnd = session.get(ProgressRound, round_id) if isinstance(round_id, int) else None
    if rnd is not None:
        out.append(("round", rnd.id, "进展报送", f"截至{rnd.cutoff.isoformat()}的落实进展", [
            ("截止日期", rnd.cutoff.isoformat()), ("报送期限", format_day(rnd.due_at))]))
    return out
