"""Realistic data for the monitoring tests: the demo meeting (everything closed), then a second meeting whose
resolution items are green, yellow, red, reported and closed, driven through the service layer by the people
who would do each step (meeting.demo.Walkthrough), with the clock moved, never slept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from engine.clock import ManualClock
from engine.db import Database
from engine.service import WorkflowService
from meeting import directory
from meeting.demo import Walkthrough, _propose, _run, _topic_id
from meeting.models import Meeting, ResolutionItem

SECOND_TITLE = "2026年第二次社会救助联席会议"
SECOND_MINUTES = "汉社救联〔2026〕2号"


@dataclass(frozen=True)
class Scenario:
    first_meeting_instance: str
    second_meeting_instance: str
    second_meeting_id: int
    items: dict[str, int]  # lead unit -> resolution id of the second meeting
    spare_instance: str  # a topic proposal waiting for screening (for suspend / resume / cancel)


def build_scenario(db: Database, service: WorkflowService, clock: ManualClock) -> Scenario:
    w = Walkthrough(db, service, clock)
    _run(w)
    with db.sessions() as s:
        first = s.scalar(select(Meeting.instance_id).order_by(Meeting.id))
    assert first is not None

    topics = {"zhujian": _propose(w, "zhujian", "困难群众住房救助衔接"),
              "minzheng": _propose(w, "minzheng", "临时救助“先行救助”机制")}
    for instance in topics.values():
        w.do("office", "screen", {"screen_decision": "accept"}, topic_id=_topic_id(w, instance))
    topic_ids = [_topic_id(w, topics[u]) for u in ("zhujian", "minzheng")]
    meeting_instance = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": SECOND_TITLE,
                                  "meeting_date": w.today(7), "meeting_place": "区政府第二会议室",
                                  "topic_ids": topic_ids, "invited_units": ["laocheng"]})
    w.do("convener", "approve_plan", {"plan_decision": "approve"})
    with db.sessions() as s:
        attendees = [*directory.member_unit_codes(s), "laocheng"]
    for code in attendees:
        reply = ({"attendance": "leave", "leave_reason": "参加省级督查。"} if code == "shenji"
                 else {"attendance": "attend", "attendee_name": f"{code}负责同志"})
        w.do(code, "confirm_attendance", reply, attendee=code)
    w.advance(7.1)
    # After the last advance of 7 days below: A and E green, B yellow, C red, D closed.
    w.do("office", "record_outcome", {
        "resolution_items": [
            {"content": "将住房困难低保家庭纳入公租房优先保障。", "lead_unit": "zhujian",
             "co_units": ["minzheng", "caizheng"], "deadline": w.today(30), "topic_id": topic_ids[0]},
            {"content": "建立临时救助“先行救助、事后补审”制度。", "lead_unit": "minzheng", "co_units": [],
             "deadline": w.today(9), "topic_id": topic_ids[1]},
            {"content": "-追加拨付临时救助备用金 50 万元。", "lead_unit": "caizheng",
             "co_units": ["renshe"], "deadline": w.today(5)},
            {"content": "组织救助政策进校园宣传。", "lead_unit": "jiaoti", "co_units": [], "deadline": w.today(12)},
            {"content": "开展低保对象就业技能培训。", "lead_unit": "renshe", "co_units": ["yibao"],
             "deadline": w.today(20)},
        ],
        "major_topics": [], "deferred_topics": [],
        "outcome_summary": "会议审议了两个议题，形成议定事项五项。",
    })
    w.do("office", "draft_minutes", {"minutes_no": SECOND_MINUTES, "minutes_body": "一、会议议定事项如下。\n二、各单位抓好落实。"})
    w.do("convener", "approve_minutes", {"minutes_decision": "approve"})
    with db.sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.title == SECOND_TITLE))
        assert meeting is not None
        items = {i.lead_unit: i.id for i in s.scalars(select(ResolutionItem).where(
            ResolutionItem.meeting_id == meeting.id))}
        meeting_id = meeting.id
    # D: closed after its report; E: reported (waits for the office), its co-operating unit has answered.
    w.do("jiaoti", "implement", {"report_action": "report", "result_body": "已在 12 所学校开展宣传。"},
         resolution_id=items["jiaoti"])
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=items["jiaoti"])
    w.do("yibao", "co_input", {"co_opinion": "已提供参保信息。"}, resolution_id=items["renshe"])
    w.do("renshe", "implement", {"report_action": "report", "result_body": "培训 3 期 150 人。"},
         resolution_id=items["renshe"])
    w.advance(7)
    spare = _propose(w, "fupin", "扶贫与低保政策衔接")
    clock.advance(timedelta(hours=1))
    return Scenario(first, meeting_instance, meeting_id, items, spare)
