"""One line per task for the inbox: what it is about, whose it is, where it comes from, how urgent, its number.

A clerk scanning the inbox asks "which item, of which unit, from where, urgent or not": the answers come from
the records behind a task's context ids, read with one query per kind of record for a whole page of tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting import cases
from meeting.actions.membership import KIND_NAMES
from meeting.models import (
    AssignedMatter,
    AssistanceCase,
    CoordinationRequest,
    MajorIssue,
    Meeting,
    MembershipChange,
    PetitionReferral,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.statuses import CaseKind, ItemSource

# The context keys of a task, most specific first: the inbox names the record of the first one present.
CONTEXT_KEYS = ("resolution_id", "major_issue_id", "matter_id", "petition_id", "coordination_id", "case_id",
                "topic_id", "change_id", "meeting_id")


@dataclass(frozen=True)
class TaskSummary:
    subject: str  # what the task is about ("" when it is about nothing yet, e.g. a topic still to be written)
    unit_role: str  # 牵头 / 提出 / 涉及 ("" when no unit stands behind it)
    unit: str  # the unit's name
    source: str  # 会议纪要 / 交办 / 信访 … for items; "" to let the caller name the process
    urgent: str  # 紧急 / 重点 or ""
    number: str  # the item's number, else ""

    @property
    def unit_line(self) -> str:
        return f"{self.unit_role}：{self.unit}" if self.unit else ""


EMPTY = TaskSummary("", "", "", "", "", "")


def _ids(contexts: Iterable[dict[str, Any]], key: str) -> set[int]:
    return {ctx[key] for ctx in contexts if isinstance(ctx.get(key), int) and not isinstance(ctx.get(key), bool)}


class _Records:
    """The records behind a page of task contexts, one query per kind."""

    def __init__(self, session: Session, contexts: Sequence[dict[str, Any]]) -> None:
        def load(model: Any, key: str) -> dict[int, Any]:
            ids = _ids(contexts, key)
            return {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}

        self.items: dict[int, ResolutionItem] = load(ResolutionItem, "resolution_id")
        self.majors: dict[int, MajorIssue] = load(MajorIssue, "major_issue_id")
        self.topics: dict[int, Topic] = load(Topic, "topic_id")
        self.changes: dict[int, MembershipChange] = load(MembershipChange, "change_id")
        self.meetings: dict[int, Meeting] = load(Meeting, "meeting_id")
        self.matters: dict[int, AssignedMatter] = load(AssignedMatter, "matter_id")
        self.petitions: dict[int, PetitionReferral] = load(PetitionReferral, "petition_id")
        self.requests: dict[int, CoordinationRequest] = load(CoordinationRequest, "coordination_id")
        self.cases: dict[int, AssistanceCase] = load(AssistanceCase, "case_id")
        self.units: dict[str, str] = dict(session.execute(select(Unit.code, Unit.name)).all())

    def unit(self, code: str | None) -> str:
        return self.units.get(code or "", code or "")

    def summary(self, ctx: dict[str, Any]) -> TaskSummary:
        for key in CONTEXT_KEYS:
            value = ctx.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                found = self._of(key, value)
                if found is not None:
                    return found
        return EMPTY

    def _of(self, key: str, value: int) -> TaskSummary | None:
        if key == "resolution_id" and (item := self.items.get(value)) is not None:
            return TaskSummary(item.content, "牵头", self.unit(item.lead_unit), ItemSource.label_of(item.source),
                               "重点" if item.key_item else "", item.number)
        if key == "major_issue_id" and (major := self.majors.get(value)) is not None:
            return TaskSummary(f"重大问题：{major.title}", "", "", "", "", "")
        if key == "matter_id" and (matter := self.matters.get(value)) is not None:
            return TaskSummary(f"交办事项：{matter.title}", "牵头" if matter.proposed_lead else "",
                               self.unit(matter.proposed_lead), ItemSource.ASSIGNED.label, "", matter.number)
        if key == "petition_id" and (petition := self.petitions.get(value)) is not None:
            return TaskSummary(f"信访件：{petition.title}", "责任" if petition.lead_unit else "",
                               self.unit(petition.lead_unit), ItemSource.PETITION.label, "", petition.number)
        if key == "coordination_id" and (request := self.requests.get(value)) is not None:
            return TaskSummary(f"协调事项：{request.title}", "提出" if request.unit_code else "",
                               self.unit(request.unit_code), ItemSource.COORDINATION.label, "",
                               request.letter_number or "")
        if key == "case_id" and (case := self.cases.get(value)) is not None:
            # The applicant by name with the identity number masked: the case page shows it to its handlers.
            who = f"{case.applicant_name}（{cases.masked(case)['id_number'] or '—'}）"
            return TaskSummary(f"{CaseKind.label_of(case.kind)}：{who} {'、'.join(case.aid_types)}".strip(), "镇街",
                               self.unit(case.town_code), CaseKind.label_of(case.kind),
                               "紧急" if case.kind == CaseKind.URGENT else "", case.number)
        if key == "topic_id" and (topic := self.topics.get(value)) is not None:
            return TaskSummary(f"议题：{topic.title}", "提出", self.unit(topic.unit_code), "",
                               "紧急" if topic.urgency == "urgent" else "", "")
        if key == "change_id" and (change := self.changes.get(value)) is not None:
            kind = KIND_NAMES.get(change.kind, "")
            return TaskSummary(f"成员单位调整{('：' + kind) if kind else ''}", "涉及", self.unit(change.unit_code),
                               "", "", "")
        if key == "meeting_id" and (meeting := self.meetings.get(value)) is not None:
            return TaskSummary(meeting.title, "", "", "", "", "")
        return None


def task_summaries(session: Session, contexts: Sequence[dict[str, Any]],
                   senders: Sequence[tuple[str, str | None]] | None = None) -> list[TaskSummary]:
    """One summary per context, in order. ``senders`` (the task's instance and who completed it, per context)
    name a finished task whose context names no record by the topic that person sent in that instance: a topic
    is written in the task itself, so its record exists only once sent, and one topic call holds many units'."""
    records = _Records(session, contexts)
    summaries = [records.summary(ctx) for ctx in contexts]
    wanted = {(iid, who) for (iid, who), summary in zip(senders or (), summaries, strict=False)
              if who and summary is EMPTY}
    if not wanted:
        return summaries
    sent = {(t.instance_id, t.proposer): t for t in session.scalars(
        select(Topic).where(Topic.instance_id.in_({iid for iid, _ in wanted})))}
    for index, sender in enumerate(senders or ()):
        topic = sent.get(sender) if summaries[index] is EMPTY else None
        if topic is not None:
            records.topics[topic.id] = topic
            summaries[index] = records.summary({"topic_id": topic.id})
    return summaries
