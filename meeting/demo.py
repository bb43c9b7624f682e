"""A whole joint meeting, run through the service layer exactly as people would do it in the browser.

Three units propose topics (one is returned once), a regular meeting at which 区残联 never replies (closed as
未回复 at the reply deadline; the meeting goes ahead), 区人社局 sends a substitute and 区统计局 asks for leave; the
签到 of the meeting day with the convener presiding; minutes sent to the attending units for comments twice (the
convener returns the first draft), numbered from the document register when signed (汉救联纪〔2026〕1号);
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
from meeting import demo_cases, demo_checks, demo_matters, demo_supervision, directory
from meeting.models import (
    Attendance,
    DocumentNumber,
    ExtensionRequest,
    MajorIssue,
    Minutes,
    MinutesComment,
    Notification,
    ResolutionItem,
)
from meeting.runtime import actor_for, build_service, deploy_defaults
from meeting.statuses import (
    AttendanceReply,
    DocumentNumberStatus,
    ExtensionStatus,
    InstanceStatus,
    MajorIssueStatus,
    ResolutionStatus,
    SignIn,
)

DEMO_START = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


class Walkthrough:
    """Small helpers to act as a named user on the task with a given BPMN id."""

    def __init__(self, db: Database, service: WorkflowService, clock: ManualClock) -> None:
        self.db, self.service, self.clock = db, service, clock
        self.refused_by_rule = 0  # extension requests the office's rules refused (a refusal stores nothing)

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
        return _run(Walkthrough(db, service, clock), other_sources=True)
    finally:
        db.dispose()


def _run(w: Walkthrough, other_sources: bool = False) -> dict[str, Any]:
    topic_ids = _collect_topics(w)
    meeting_instance = _hold_meeting(w, topic_ids)
    _decide_major_issue(w)
    _issue_minutes(w)
    _implement(w)
    # 落实结果报告: compiled, approved, received by the district leader.
    w.do("office", "compile_report", {"report_body": "三项议定事项均已办结。"})
    w.do("convener", "approve_report", {"report_decision": "approve"})
    w.do("district", "receive_report", {"receipt_comment": "很好，继续抓好落实。"})
    if other_sources:  # ``demo``: also 交办, 信访, 协调, towns' cases (demo_matters, demo_cases); bench.world: the meeting
        demo_matters.run(w)
        demo_cases.run(w)
        demo_checks.run(w)
    return summary(w.db, meeting_instance, w.refused_by_rule)


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


SILENT_UNIT = "canlian"  # never returns its 参会回执
SUBSTITUTE_UNIT = "renshe"  # sends a substitute (代会)


def reply_for(code: str) -> dict[str, Any] | None:
    """The demo's 参会回执 of one member unit (None: it never replies)."""
    if code == SILENT_UNIT:
        return None
    if code == "tongji":
        return {"attendance": "leave", "leave_reason": "参加市级培训。"}
    if code == SUBSTITUTE_UNIT:
        return {"attendance": "substitute", "attendee_name": "王五", "attendee_post": "办公室主任",
                "attendee_phone": "0915-3200001"}
    return {"attendance": "attend", "attendee_name": demo_person(code), "attendee_post": "副局长"}


_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("建华", "志强", "丽娟", "海涛", "秀英", "国平", "晓东", "文静", "德明", "红梅", "永刚")


def demo_person(code: str) -> str:
    """A person's name for a unit's demo attendee (stable per unit; never the unit's code)."""
    n = sum(ord(ch) for ch in code)
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN[n % len(_GIVEN)]


def _hold_meeting(w: Walkthrough, topic_ids: list[int]) -> str:
    """联席会议: plan (date and time), approval, the replies of the member units (one never replies, one sends a
    substitute, one asks for leave) closed at the deadline; on the meeting day the 签到 and the outcome, one topic
    goes to the district as a major issue."""
    meeting_instance = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": "2026年第一次社会救助联席会议",
                                  "meeting_date": w.today(7), "meeting_time": "09:00",
                                  "meeting_place": "区民政局三楼会议室", "topic_ids": topic_ids, "invited_units": []})
    w.do("convener", "approve_plan", {"plan_decision": "approve", "plan_comment": "同意。"})
    with w.db.sessions() as s:
        members = directory.member_unit_codes(s)
    for code in members:
        reply = reply_for(code)
        if reply is not None:
            w.do(code, "confirm_attendance", reply, attendee=code)

    w.advance(7.1)
    w.do("office", "sign_in", {"sign_in_sheet": [], "presider_name": "召集人（区民政局主要负责人）",
                               "presider_post": "区民政局局长"})
    w.do("office", "record_outcome", {
        "resolution_items": [
            {"content": "完成社会救助资金预算编制并报区政府。", "lead_unit": "caizheng", "co_units": ["minzheng"],
             "deadline": w.today(30), "topic_id": topic_ids[0], "key_item": True},
            {"content": "建立低保家庭就业援助台账，按月更新。", "lead_unit": "renshe",
             "co_units": [demo_supervision.SILENT_CO_UNIT], "deadline": w.today(20), "topic_id": topic_ids[1],
             "key_item": True},
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


def draft_minutes(w: Walkthrough, body: str, days: int = 3) -> None:
    w.do("office", "draft_minutes", {"minutes_body": body, "comment_deadline": w.today(days),
                                     "report_units": ["zhengfuban"], "copy_units": ["quweiban"]})


def answer_comments(w: Walkthrough, opinions: dict[str, str] | None = None, silent: tuple[str, ...] = ()) -> None:
    """Every unit asked in the open 征求意见 round answers (无意见, or the opinion given) unless ``silent``."""
    opinions = opinions or {}
    for task in _comment_tasks(w):
        unit = str(task.context.get("comment_unit"))
        if unit in silent:
            continue
        answer = ({"comment_answer": "opinion", "comment_text": opinions[unit]} if unit in opinions
                  else {"comment_answer": "none"})
        w.do(unit, "comment_minutes", answer, comment_unit=unit)


def _comment_tasks(w: Walkthrough) -> list[HumanTask]:
    with w.db.sessions() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.state == "READY",
                                                      HumanTask.bpmn_id == "comment_minutes")))


def _issue_minutes(w: Walkthrough) -> None:
    """会议纪要: the first draft goes to the attending units for comments (区财政局 proposes a change, two units stay
    silent until the deadline), the convener returns it; the second round is answered at once, the convener
    signs (文号 from the register) and the minutes are issued."""
    draft_minutes(w, "会议议定事项如下……")
    answer_comments(w, {"caizheng": "请在议定事项中写明预算报送时间。"}, silent=("yibao", "weijian"))
    w.advance(3.5)
    w.do("convener", "approve_minutes", {"minutes_decision": "return", "minutes_comment": "请写明完成时限。"})
    draft_minutes(w, "会议议定事项及完成时限如下……", days=2)
    answer_comments(w)
    w.do("convener", "approve_minutes", {"minutes_decision": "approve"})


def _implement(w: Walkthrough) -> None:
    """Three items (two 重点事项), a silent co-unit, a 督办函, 月报, a 阶段性报告 and a 督办通报
    (meeting/demo_supervision.py)."""
    demo_supervision.set_rules(w)
    demo_supervision.implement(w, _items(w))


def _items(w: Walkthrough) -> dict[str, int]:
    with w.db.sessions() as s:
        rows = s.scalars(select(ResolutionItem).where(ResolutionItem.major_issue_id.is_(None))).all()
        return {r.lead_unit: r.id for r in rows}


def summary(db: Database, meeting_instance: str | None = None, refused_by_rule: int = 0) -> dict[str, Any]:
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
            **meeting_cycle_figures(s),
            **demo_supervision.figures(s, refused_by_rule),
            **demo_matters.figures(s),
            **demo_cases.figures(s),
            **demo_checks.figures(s),
            "audit_events": s.scalar(select(func.count()).select_from(AuditEvent)),
            "all_completed": total > 0 and completed == total,
        }



def meeting_cycle_figures(s: Any) -> dict[str, Any]:
    """What the meeting cycle recorded: silence closed at deadlines, substitutes, comment rounds, 文号 given."""
    numbers = list(s.scalars(select(DocumentNumber.number).where(DocumentNumber.status == DocumentNumberStatus.USED)
                             .order_by(DocumentNumber.kind, DocumentNumber.year, DocumentNumber.seq)))
    return {
        "attendance_unanswered": s.scalar(select(func.count()).select_from(Attendance)
                                          .where(Attendance.reply == AttendanceReply.UNANSWERED)),
        "substitutes_signed_in": s.scalar(select(func.count()).select_from(Attendance)
                                          .where(Attendance.sign_in == SignIn.SUBSTITUTE)),
        "minutes_comment_rounds": s.scalar(select(func.coalesce(func.sum(Minutes.comment_rounds), 0))),
        "minutes_comments_silent": s.scalar(select(func.count()).select_from(MinutesComment)
                                            .where(MinutesComment.answer == "silent")),
        "documents_numbered": len(numbers),
        "documents": numbers,
    }
