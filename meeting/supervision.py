"""督办: 催办 and 督办 of resolution items and their co-units, the escalation ladder, 督办函 drafts, manual
催办 / 督办 by the office, and each item's supervision history.

Counts: an item's ``remind_count`` / ``supervise_count`` are what went to its lead unit; each co-unit's are on its
``ResolutionCoUnit`` row. Every 催办 and 督办 (automatic or by hand) is one ``supervision_events`` row, so the
history, the ledger's totals and the scorecards are SQL over that table and those counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.errors import ActionError, FormError
from engine.models import AuditEvent, HumanTask
from meeting.directory import unit_name
from meeting.models import (
    ResolutionCoUnit,
    ResolutionItem,
    SupervisionEvent,
    SupervisionLetter,
)
from meeting.notify import notify, notify_groups
from meeting.rules import SupervisionRules, load_rules
from meeting.statuses import CoUnitStatus, LetterStatus, ResolutionStatus, Rung, SupervisionKind
from meeting.timeutil import end_of_day, format_day, local_today
from meeting.workdays import calendar_for

SUPERVISE_PERIOD = timedelta(days=7)  # the P7D of the overdue timers in processes/resolution_item.bpmn
RUNG_ORDER = {Rung.NONE: 0, Rung.NOTICE: 1, Rung.LETTER: 2, Rung.REPORT: 3}
MAX_OPINION = 2000


def unit_group(code: str) -> str:
    return f"unit:{code}"


def item_link(item: ResolutionItem) -> str:
    return f"/resolutions/{item.id}"


def headline(item: ResolutionItem) -> str:
    return f"{item.number} {item.content[:40]}"


def overdue_days(deadline: datetime, now: datetime) -> int:
    """Whole Beijing calendar days past the deadline day (0 on the deadline day or before)."""
    return max(0, (local_today(now) - local_today(deadline)).days)


def record(session: Session, item: ResolutionItem, kind: SupervisionKind, now: datetime, *, unit: str | None,
           rung: Rung = Rung.NONE, manual: bool = False, opinion: str | None = None, actor: str | None = None,
           deadline: datetime | None = None, letter_id: int | None = None) -> SupervisionEvent:
    event = SupervisionEvent(resolution_id=item.id, unit_code=unit, kind=kind, rung=rung, manual=manual,
                             opinion=opinion, actor=actor, created_at=now, letter_id=letter_id,
                             overdue_days=overdue_days(deadline or item.deadline, now))
    session.add(event)
    return event


def climb(item: ResolutionItem, rung: Rung) -> None:
    """The item's highest rung so far (an extension does not undo what was sent)."""
    if RUNG_ORDER[rung] > RUNG_ORDER.get(Rung.parse(item.escalation), 0):
        item.escalation = rung


def co_link(item: ResolutionItem, unit: str) -> ResolutionCoUnit:
    for link in item.co_unit_links:
        if link.unit_code == unit:
            return link
    raise ActionError(f"单位“{unit}”不是议定事项{item.number}的配合单位。")


# ---------------------------------------------------------------------------------------------- the lead unit
def reminded_for_this_deadline(item: ResolutionItem, last_change: datetime | None) -> bool:
    """A reminder was sent after the deadline last changed (an approved extension sets a new one)."""
    if item.reminded_at is None:
        return False
    return last_change is None or item.reminded_at > last_change


def remind_lead(session: Session, item: ResolutionItem, now: datetime) -> None:
    item.reminded_at = now
    item.remind_count += 1
    record(session, item, SupervisionKind.REMIND, now, unit=item.lead_unit)
    notify(session, unit_group(item.lead_unit), "reminder", f"催办：{headline(item)}",
           f"办理时限为{format_day(item.deadline)}，请抓紧落实并报告结果。", item_link(item), now)


def supervised_this_week(item: ResolutionItem, now: datetime) -> bool:
    """A 督办 was already sent for the current occurrence of ``R/deadline/P7D`` (the deadline, then every 7 days).

    The overdue timers on 落实并报告, 审批延期申请 and 按意见整改 share that cycle; a timer armed when its task
    opens after the deadline fires at once for the occurrence already past, which another task's timer may have
    covered."""
    if item.supervised_at is None or now < item.deadline:
        return False
    weeks = (now - item.deadline) // SUPERVISE_PERIOD
    return item.supervised_at >= item.deadline + weeks * SUPERVISE_PERIOD


@dataclass(frozen=True)
class Escalation:
    rung: Rung
    letter: SupervisionLetter | None


def escalate(session: Session, item: ResolutionItem, now: datetime, rules: SupervisionRules | None = None
             ) -> Escalation | None:
    """The weekly 督办 of an overdue item, one rung of the ladder per overdue week: a notice to the lead unit
    (with the office and the convener); a 督办函 for the convener to sign; a report to the 负责人 proposing a
    约谈. None when this week's 督办 was already sent."""
    if supervised_this_week(item, now):
        return None
    rules = rules or load_rules(session)
    week = (now - item.deadline) // SUPERVISE_PERIOD + 1 if now >= item.deadline else 1
    rung = rules.rung_for_week(item, week)
    item.supervised_at = now
    item.supervise_count += 1
    climb(item, rung)
    record(session, item, SupervisionKind.SUPERVISE, now, unit=item.lead_unit, rung=rung)
    lead = unit_name(session, item.lead_unit)
    days = overdue_days(item.deadline, now)
    body = (f"牵头单位{lead}，办理时限{format_day(item.deadline)}，已逾期{days}天（第{item.supervise_count}次督办，"
            f"{rung.label}）。")
    notify_groups(session, [unit_group(item.lead_unit), "office", "convener"], "supervision",
                  f"督办：{headline(item)}", body, item_link(item), now)
    letter = None
    if rung == Rung.LETTER:
        letter = draft_letter(session, item, now, rules)
    elif rung == Rung.REPORT:
        report_to_leader(session, item, now, days, lead)
    return Escalation(rung, letter)


def draft_letter(session: Session, item: ResolutionItem, now: datetime, rules: SupervisionRules) -> SupervisionLetter:
    due = end_of_day(calendar_for(session).add(local_today(now), rules.letter_sign_workdays))
    letter = SupervisionLetter(resolution_id=item.id, unit_code=item.lead_unit, status=LetterStatus.DRAFT,
                               overdue_days=overdue_days(item.deadline, now), supervise_round=item.supervise_count,
                               drafted_at=now, sign_due=due)
    session.add(letter)
    session.flush()
    return letter


def report_to_leader(session: Session, item: ResolutionItem, now: datetime, days: int, lead: str) -> None:
    """The top rung: the 负责人 (区政府分管领导) hears of the item, with a proposed 约谈 of the unit's leader."""
    record(session, item, SupervisionKind.REPORT, now, unit=item.lead_unit, rung=Rung.REPORT)
    body = (f"{lead}牵头的议定事项已逾期{days}天，经{item.supervise_count}次督办仍未办结。建议约谈{lead}主要负责人，"
            f"督促限期办结。")
    notify(session, "district", "supervision", f"逾期事项报告：{headline(item)}", body, item_link(item), now)


# ---------------------------------------------------------------------------------------------- 督办函
def sign_letter(session: Session, letter: SupervisionLetter, approved: bool, by: str | None, now: datetime,
                comment: str | None) -> None:
    letter.sign(approved, by, now, comment)


def lapse_letter(session: Session, letter: SupervisionLetter, now: datetime) -> None:
    if letter.status != LetterStatus.DRAFT:
        return
    letter.lapse()
    item = session.get(ResolutionItem, letter.resolution_id)
    if item is not None:
        notify_groups(session, ["office", "convener"], "info", f"督办函逾期未签发：{headline(item)}",
                      f"督办函应于{format_day(letter.sign_due or now)}前签发，期满未签发，已记录。", item_link(item), now)


# ---------------------------------------------------------------------------------------------- co-units
def remind_co(session: Session, item: ResolutionItem, unit: str, now: datetime) -> None:
    link = co_link(item, unit)
    if link.status != CoUnitStatus.PENDING:
        return
    link.reminded_at = now
    link.remind_count += 1
    record(session, item, SupervisionKind.REMIND, now, unit=unit, deadline=link.deadline)
    due = format_day(link.deadline) if link.deadline else format_day(item.deadline)
    notify(session, unit_group(unit), "reminder", f"催办（配合）：{headline(item)}",
           f"请于{due}前报告本单位配合落实情况。", item_link(item), now)


def answer_co(item: ResolutionItem, unit: str, now: datetime) -> None:
    link = co_link(item, unit)
    link.status, link.answered_at = CoUnitStatus.ANSWERED, now


def record_silent(session: Session, item: ResolutionItem, unit: str, now: datetime) -> None:
    """At its deadline a co-unit that never answered is recorded 未反馈: the unit is told, the office and the
    convener hear of it, the lead unit goes on without it."""
    link = co_link(item, unit)
    if link.status != CoUnitStatus.PENDING:
        return
    link.status = CoUnitStatus.SILENT
    link.supervise_count += 1
    record(session, item, SupervisionKind.SILENT, now, unit=unit, rung=Rung.NOTICE, deadline=link.deadline)
    name = unit_name(session, unit)
    due = format_day(link.deadline or item.deadline)
    notify(session, unit_group(unit), "supervision", f"督办（未反馈）：{headline(item)}",
           f"配合时限{due}已到，贵单位未报告配合落实情况，已记为未反馈并报告联席会议办公室和召集人。",
           item_link(item), now)
    notify_groups(session, ["office", "convener"], "supervision", f"配合单位未反馈：{headline(item)}",
                  f"配合单位{name}在配合时限{due}前未反馈，已记为未反馈；牵头单位照常落实和报告。", item_link(item), now)
    notify(session, unit_group(item.lead_unit), "info", f"配合单位未反馈：{headline(item)}",
           f"配合单位{name}在配合时限{due}前未反馈，请继续落实并按时报告结果。", item_link(item), now)


def default_co_deadline(session: Session, item: ResolutionItem, now: datetime, rules: SupervisionRules) -> datetime:
    """A co-unit's deadline when none was set: some working days before the lead's, but at least one working day
    from now and never after the lead's."""
    cal = calendar_for(session)
    before_lead = end_of_day(cal.add(local_today(item.deadline), -rules.co_unit_lead_workdays))
    earliest = end_of_day(cal.add(local_today(now), 1))
    return min(max(before_lead, earliest), item.deadline)


# ---------------------------------------------------------------------------------------------- by hand
@dataclass(frozen=True)
class Target:
    code: str
    name: str
    role: str  # 牵头 or 配合
    deadline: datetime


def targets(session: Session, item: ResolutionItem) -> list[Target]:
    """Whom the office may 催办 / 督办 by hand: the lead unit while the item is open, and each co-unit whose
    input is still awaited."""
    if item.status not in ResolutionStatus.open():
        return []
    out = [Target(item.lead_unit, unit_name(session, item.lead_unit), "牵头", item.deadline)]
    out += [Target(link.unit_code, unit_name(session, link.unit_code), "配合", link.deadline or item.deadline)
            for link in item.co_unit_links if link.status == CoUnitStatus.PENDING]
    return out


def manual(session: Session, item: ResolutionItem, kind: SupervisionKind, unit: str, opinion: str, actor: str,
           now: datetime) -> SupervisionEvent:
    """The office's 催办 or 督办 by hand, with its wording (a 督办意见 is required for a 督办): counted, recorded
    in the history and in the audit log, and sent to the unit (a 督办 also to the convener)."""
    opinion = opinion.strip()
    chosen = {t.code: t for t in targets(session, item)}
    if item.status not in ResolutionStatus.open():
        raise FormError({"unit": f"议定事项{item.number}已办结或尚未交办，不能催办或督办。"})
    if unit not in chosen:
        raise FormError({"unit": "请选择牵头单位或尚未反馈的配合单位"})
    if kind == SupervisionKind.SUPERVISE and not opinion:
        raise FormError({"opinion": "请填写督办意见"})
    if len(opinion) > MAX_OPINION:
        raise FormError({"opinion": f"意见不超过 {MAX_OPINION} 字"})
    target = chosen[unit]
    lead = unit == item.lead_unit
    if kind == SupervisionKind.REMIND:
        if lead:
            item.remind_count += 1
        else:
            co_link(item, unit).remind_count += 1
    else:
        if lead:
            item.supervise_count += 1
        else:
            co_link(item, unit).supervise_count += 1
        climb(item, Rung.NOTICE)
    event = record(session, item, kind, now, unit=unit, manual=True, opinion=opinion or None, actor=actor,
                   rung=Rung.NOTICE if kind == SupervisionKind.SUPERVISE else Rung.NONE, deadline=target.deadline)
    word = kind.label
    title = f"{word}（{target.role}）：{headline(item)}"
    body = f"{target.role}时限{format_day(target.deadline)}。" + (f"{word}意见：{opinion}" if opinion else "请抓紧办理。")
    groups = [unit_group(unit)] + (["convener"] if kind == SupervisionKind.SUPERVISE else [])
    notify_groups(session, groups, "supervision" if kind == SupervisionKind.SUPERVISE else "reminder", title, body,
                  item_link(item), now)
    session.add(AuditEvent(at=now, actor=actor, action=f"manual_{kind.value}", instance_id=item.instance_id,
                           process_key="resolution_item" if item.instance_id else None,
                           data={"resolution_id": item.id, "unit": unit, "kind": kind.value}, comment=opinion or None))
    return event


# ---------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class HistoryRow:
    event: SupervisionEvent
    unit_name: str
    letter_number: str | None


def history(session: Session, item_id: int) -> list[HistoryRow]:
    rows = session.execute(
        select(SupervisionEvent, SupervisionLetter.number)
        .outerjoin(SupervisionLetter, SupervisionLetter.id == SupervisionEvent.letter_id)
        .where(SupervisionEvent.resolution_id == item_id)
        .order_by(SupervisionEvent.created_at, SupervisionEvent.id)).all()
    codes = sorted({e.unit_code for e, _ in rows if e.unit_code})
    names = {c: unit_name(session, c) for c in codes}
    return [HistoryRow(e, names.get(e.unit_code or "", ""), number) for e, number in rows]


@dataclass(frozen=True)
class Counts:
    reminders: int
    supervisions: int
    manual: int


def counts(session: Session, item_id: int) -> Counts:
    kind = SupervisionEvent.kind
    reminders, supervisions, by_hand = session.execute(
        select(func.count().filter(kind == SupervisionKind.REMIND),
               func.count().filter(kind.in_((SupervisionKind.SUPERVISE, SupervisionKind.SILENT))),
               func.coalesce(func.sum(case((SupervisionEvent.manual, 1), else_=0)), 0))
        .where(SupervisionEvent.resolution_id == item_id)).one()
    return Counts(int(reminders or 0), int(supervisions or 0), int(by_hand or 0))


def open_tasks(session: Session, item: ResolutionItem) -> list[HumanTask]:
    """The item's open tasks (lead, co-units, convener), for links on the item page. The item runs inside its
    meeting's instance, whose open tasks are few; the item's own are those whose context names it."""
    if item.instance_id is None:
        return []
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == item.instance_id,
                                                   HumanTask.state == "READY").order_by(HumanTask.created_at))
    return [t for t in rows if (t.context or {}).get("resolution_id") == item.id]


def letters(session: Session, item_id: int) -> list[SupervisionLetter]:
    return list(session.scalars(select(SupervisionLetter).where(SupervisionLetter.resolution_id == item_id)
                                .order_by(SupervisionLetter.drafted_at, SupervisionLetter.id)))
