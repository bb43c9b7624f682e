"""A whole joint meeting, run through the service layer exactly as people would do it in the browser.

Three units propose topics (one is returned once), a regular meeting with all seventeen units answering,
three resolution items (one closed on time, one overdue with 催办 and 督办, one closed after an approved
extension), one major issue decided by the district leader, minutes issued, the report received.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from engine.clock import SHANGHAI, ManualClock
from engine.db import Database
from engine.migrate import upgrade
from engine.models import AuditEvent, HumanTask, Instance
from engine.service import Actor, WorkflowService
from meeting import directory
from meeting.models import ExtensionRequest, MajorIssue, Notification, ResolutionItem
from meeting.runtime import actor_for, build_service, deploy_defaults
from meeting.statuses import ExtensionStatus, InstanceStatus, MajorIssueStatus, ResolutionStatus

DEMO_START = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


class Walkthrough:
    """Small helpers to act as a named user on the task with a given BPMN id."""

    def __init__(self, db: Database, service: WorkflowService, clock: ManualClock) -> None:
        self.db, self.service, self.clock = db, service, clock

    def actor(self, username: str) -> Actor:
        return actor_for(self.db, username)

    def task(self, username: str, bpmn_id: str, **context: Any) -> HumanTask:
        actor = self.actor(username)
        for t in self.service.tasks_for(actor, "open", limit=1000):
            if t.bpmn_id == bpmn_id and all(t.context.get(k) == v for k, v in context.items()):
                return t
        raise LookupError(f"{username} has no open task {bpmn_id} {context}")

    def do(self, username: str, bpmn_id: str, values: dict[str, Any], **context: Any) -> HumanTask:
        t = self.task(username, bpmn_id, **context)
        actor = self.actor(username)
        self.service.claim(t.id, actor)
        self.service.complete(t.id, actor, values)
        return t

    def start(self, username: str, key: str, **kwargs: Any) -> str:
        return self.service.start(key, self.actor(username), **kwargs).instance_id

    def advance(self, days: float) -> int:
        self.clock.advance(timedelta(days=days))
        return self.service.fire_due_timers(limit=10_000)

    def today(self, plus_days: int = 0) -> str:
        return (self.clock.now().astimezone(SHANGHAI).date() + timedelta(days=plus_days)).isoformat()


def _propose(w: Walkthrough, unit: str, title: str) -> str:
    instance_id = w.start(unit, "topic_proposal")
    w.do(unit, "propose", {"title": title, "background": f"{title}的背景情况。", "proposal": "建议联席会议研究。",
                           "related_units": ["minzheng"], "urgency": "normal"})
    return instance_id


def _topic_id(w: Walkthrough, instance_id: str) -> int:
    data = w.service.workflow(instance_id).last_task.data
    return int(data["topic_id"])


def run_demo(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        upgrade(db)
        with db.transaction() as s:
            directory.seed_directory(s)
            directory.create_demo_users(s, None)
        clock = ManualClock(DEMO_START)
        service = build_service(db, clock)
        deploy_defaults(service)
        return _run(Walkthrough(db, service, clock))
    finally:
        db.dispose()


def _run(w: Walkthrough) -> dict[str, Any]:
    topic_ids = _collect_topics(w)
    meeting_instance = _hold_meeting(w, topic_ids)
    _decide_major_issue(w)
    _issue_minutes(w)
    _implement(w)
    # 落实结果报告: compiled, approved, received by the district leader.
    w.do("office", "compile_report", {"report_body": "三项议定事项均已办结。"})
    w.do("convener", "approve_report", {"report_decision": "approve"})
    w.do("district", "receive_report", {"receipt_comment": "很好，继续抓好落实。"})
    return summary(w.db, meeting_instance)


def _collect_topics(w: Walkthrough) -> list[int]:
    """议题征集: three units propose; the office returns one once, then accepts all three."""
    topics = {
        "caizheng": _propose(w, "caizheng", "统筹社会救助资金预算"),
        "renshe": _propose(w, "renshe", "低保家庭就业援助衔接"),
        "yibao": _propose(w, "yibao", "医疗救助一站式结算"),
    }
    w.do("office", "screen", {"screen_decision": "return", "screen_comment": "请补充涉及人数。"},
         topic_id=_topic_id(w, topics["renshe"]))
    w.do("renshe", "propose", {"title": "低保家庭就业援助衔接", "background": "涉及约 320 户低保家庭。",
                               "proposal": "建议建立就业援助台账。", "urgency": "urgent"})
    for unit in topics:
        w.do("office", "screen", {"screen_decision": "accept"}, topic_id=_topic_id(w, topics[unit]))
    return [_topic_id(w, topics[u]) for u in ("caizheng", "renshe", "yibao")]


def _hold_meeting(w: Walkthrough, topic_ids: list[int]) -> str:
    """联席会议: plan, approval, attendance of all seventeen units (one asks for leave); on the meeting day the
    office records the outcome, one topic goes to the district as a major issue."""
    meeting_instance = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": "2026年第一次社会救助联席会议",
                                  "meeting_date": w.today(7), "meeting_place": "区民政局三楼会议室",
                                  "topic_ids": topic_ids, "invited_units": []})
    w.do("convener", "approve_plan", {"plan_decision": "approve", "plan_comment": "同意。"})
    with w.db.sessions() as s:
        members = directory.member_unit_codes(s)
    for code in members:
        reply = ({"attendance": "leave", "leave_reason": "参加市级培训。"} if code == "tongji"
                 else {"attendance": "attend", "attendee_name": f"{code}分管负责人"})
        w.do(code, "confirm_attendance", reply, attendee=code)

    w.advance(7.1)
    w.do("office", "record_outcome", {
        "resolution_items": [
            {"content": "完成社会救助资金预算编制并报区政府。", "lead_unit": "caizheng", "co_units": ["minzheng"],
             "deadline": w.today(30), "topic_id": topic_ids[0]},
            {"content": "建立低保家庭就业援助台账，按月更新。", "lead_unit": "renshe", "co_units": [],
             "deadline": w.today(20), "topic_id": topic_ids[1]},
            {"content": "推行医疗救助“一站式”结算。", "lead_unit": "yibao", "co_units": ["weijian"],
             "deadline": w.today(25), "topic_id": topic_ids[2]},
        ],
        "major_topics": [topic_ids[2]],
        "deferred_topics": [],
        "outcome_summary": "会议听取了三个议题的汇报，形成一致意见三项，重大问题一项报区政府决定。",
    })
    return meeting_instance


def _decide_major_issue(w: Walkthrough) -> None:
    """重大问题报区政府决定."""
    w.do("office", "draft_request", {"request_title": "关于医疗救助一站式结算资金的请示",
                                     "request_body": "拟请区政府统筹安排专项资金。"})
    w.do("convener", "sign_request", {"sign_decision": "approve"})
    w.do("district", "decide", {"district_decision": "approve", "district_instructions": "同意，由区医保局牵头落实。",
                                "instruction_items": []})


def _issue_minutes(w: Walkthrough) -> None:
    """会议纪要: drafted, returned once, approved, issued."""
    w.do("office", "draft_minutes", {"minutes_no": "汉社救联〔2026〕1号", "minutes_body": "会议议定事项如下……"})
    w.do("convener", "approve_minutes", {"minutes_decision": "return", "minutes_comment": "请写明完成时限。"})
    w.do("office", "draft_minutes", {"minutes_no": "汉社救联〔2026〕1号", "minutes_body": "会议议定事项及完成时限如下……"})
    w.do("convener", "approve_minutes", {"minutes_decision": "approve"})


def _implement(w: Walkthrough) -> None:
    """Three items: one closed on time, one extended, one late with 催办 and 督办."""
    items = _items(w)
    fiscal, jobs, medical = items["caizheng"], items["renshe"], items["yibao"]
    # Item 1 closed on time, with the co-operating unit's input.
    w.do("minzheng", "co_input", {"co_opinion": "已配合核定保障人数。"}, resolution_id=fiscal)
    w.do("caizheng", "implement", {"report_action": "report", "result_body": "预算已编制并上报。"},
         resolution_id=fiscal)
    w.do("office", "verify", {"verify_decision": "accept", "verify_comment": "材料齐全。"}, resolution_id=fiscal)
    # Item 3: extension asked and approved, then the co-operating unit and the lead report.
    w.do("yibao", "implement", {"report_action": "extend", "requested_deadline": w.today(40),
                                "extension_reason": "需与市级平台对接。"}, resolution_id=medical)
    w.do("convener", "approve_extension", {"extension_approved": True, "extension_comment": "同意延期。"},
         resolution_id=medical)
    w.do("weijian", "co_input", {"co_opinion": "定点医院已完成接口改造。"}, resolution_id=medical)
    # Item 2 runs late: 催办 three days before, 督办 at the deadline, then it is reported and closed.
    w.advance(18)
    w.advance(3)
    w.do("renshe", "implement", {"report_action": "report", "result_body": "台账已建立，覆盖 320 户。"},
         resolution_id=jobs)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=jobs)
    w.do("yibao", "implement", {"report_action": "report", "result_body": "一站式结算已上线。"},
         resolution_id=medical)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=medical)


def _items(w: Walkthrough) -> dict[str, int]:
    with w.db.sessions() as s:
        rows = s.scalars(select(ResolutionItem).where(ResolutionItem.major_issue_id.is_(None))).all()
        return {r.lead_unit: r.id for r in rows}


def summary(db: Database, meeting_instance: str | None = None) -> dict[str, Any]:
    with db.sessions() as s:
        by_status = dict(s.execute(select(Instance.status, func.count()).group_by(Instance.status)).all())
        completed = by_status.get(InstanceStatus.COMPLETED, 0)
        total = sum(by_status.values())
        notes = dict(s.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())
        return {
            "instances_completed": completed,
            "instances_open": total - completed - by_status.get(InstanceStatus.CANCELLED, 0),
            "resolutions_closed": s.scalar(select(func.count()).select_from(ResolutionItem)
                                           .where(ResolutionItem.status == ResolutionStatus.CLOSED)),
            "major_issues_decided": s.scalar(select(func.count()).select_from(MajorIssue)
                                             .where(MajorIssue.status == MajorIssueStatus.DECIDED)),
            "reminders_sent": notes.get("reminder", 0),
            "overdue_escalations": s.scalar(select(func.coalesce(func.sum(ResolutionItem.supervise_count), 0))),
            "extensions_approved": s.scalar(select(func.count()).select_from(ExtensionRequest)
                                            .where(ExtensionRequest.status == ExtensionStatus.APPROVED)),
            "notifications": sum(notes.values()),
            "audit_events": s.scalar(select(func.count()).select_from(AuditEvent)),
            "all_completed": total > 0 and completed == total,
        }

