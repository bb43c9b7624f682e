"""The named actions the diagrams call, run directly against a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.db import Database
from engine.errors import ActionError, FormError
from meeting.actions import registry
from meeting.directory import create_demo_users, member_unit_codes, seed_directory
from meeting.models import (
    Attendance,
    ExtensionRequest,
    ImplementationReport,
    MajorIssue,
    Meeting,
    Minutes,
    MinutesComment,
    Notification,
    ProgressReport,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.queries import (
    attendance_summary,
    counts_by_light,
    counts_by_status,
    resolution_ledger,
    topic_pool,
)

# 2026-03-02 10:00 in Beijing.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
README = Path(__file__).resolve().parents[1] / "processes" / "README.md"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    db.create_all()
    with db.transaction() as s:
        seed_directory(s)
        create_demo_users(s, lambda p: "hash", now=NOW)
        yield s
    db.dispose()


def run(
    session: Session,
    action: str,
    data: dict[str, Any],
    actor: str | None = "office",
    task: str = "task",
    now: datetime = NOW,
) -> tuple[dict[str, Any], ActionContext]:
    ctx = ActionContext(session=session, now=now, instance_id="inst-1", process_key="p", task_id="t1",
                        task_bpmn_id=task, data=dict(data), actor=actor)
    result = registry.get(action).fn(ctx) or {}
    session.flush()
    return result, ctx


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def notes_to(session: Session, group: str, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_group == group)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query))


def accepted_topic(session: Session, title: str = "困难群众医疗救助衔接", unit: str = "weijian") -> int:
    result, _ = run(session, "topic.submit", {
        "title": title, "background": "背景", "proposal": "建议", "related_units": ["yibao"],
        "urgency": "normal", "initiator": unit, "initiator_unit": unit,
    }, actor=unit)
    run(session, "topic.screen", {"topic_id": result["topic_id"], "screen_decision": "accept"})
    return int(result["topic_id"])


def plan(session: Session, topic_ids: list[int], **extra: Any) -> dict[str, Any]:
    data = {
        "meeting_kind": "regular", "meeting_title": "2026年第一次社会救助联席会议",
        "meeting_date": date(2026, 3, 20), "meeting_place": "区民政局三楼会议室",
        "topic_ids": topic_ids, "invited_units": ["laocheng"], **extra,
    }
    result, _ = run(session, "meeting.save_plan", data)
    return result


def held_meeting(session: Session, topic_ids: list[int]) -> int:
    """A meeting planned, approved and convened, ready for its outcome."""
    planned = plan(session, topic_ids)
    meeting_id = planned["meeting_id"]
    run(session, "meeting.review_plan", {"meeting_id": meeting_id, "plan_decision": "approve"}, actor="convener")
    run(session, "meeting.convene", {"meeting_id": meeting_id, "attendees": planned["attendees"]}, actor=None)
    return int(meeting_id)


def item_row(content: str = "建立医疗救助信息共享机制", lead: str = "yibao", deadline: date = date(2026, 4, 30),
             co_units: list[str] | None = None, topic_id: int | None = None) -> dict[str, Any]:
    return {"content": content, "lead_unit": lead, "co_units": co_units or [], "deadline": deadline,
            "topic_id": topic_id}


def test_every_action_the_diagrams_name_is_registered() -> None:
    named = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", README.read_text(encoding="utf-8")))
    named = {n for n in named if not n.endswith((".bpmn", ".dmn"))}
    assert named, "processes/README.md names no actions"
    assert named <= set(registry.names())


def test_topic_is_proposed_returned_with_a_reason_revised_and_accepted(session: Session) -> None:
    data = {"title": "临时救助标准调整", "background": "物价上涨", "proposal": "提高标准", "urgency": "urgent",
            "related_units": ["caizheng"], "initiator": "weijian", "initiator_unit": "weijian"}
    result, ctx = run(session, "topic.submit", data, actor="weijian")
    topic_id = result["topic_id"]
    assert ctx.business_key == f"T-{topic_id:04d}"

    with pytest.raises(FormError) as refused:
        run(session, "topic.screen", {"topic_id": topic_id, "screen_decision": "return", "screen_comment": " "})
    assert "screen_comment" in refused.value.errors
    assert session.get(Topic, topic_id).status == "submitted"  # type: ignore[union-attr]

    run(session, "topic.screen", {"topic_id": topic_id, "screen_decision": "return", "screen_comment": "补充测算"})
    assert notes_to(session, "unit:weijian", "returned")

    again, _ = run(session, "topic.submit", {**data, "topic_id": topic_id, "background": "物价上涨，附测算"})
    assert again["topic_id"] == topic_id
    assert count(session, Topic) == 1
    run(session, "topic.screen", {"topic_id": topic_id, "screen_decision": "accept"})
    assert [t.id for t in topic_pool(session)] == [topic_id]


def test_topic_with_an_unknown_related_unit_is_refused(session: Session) -> None:
    with pytest.raises(FormError) as refused:
        run(session, "topic.submit", {"title": "t", "background": "b", "proposal": "p", "urgency": "normal",
                                      "related_units": ["nosuch"], "initiator_unit": "weijian"})
    assert "related_units" in refused.value.errors
    assert count(session, Topic) == 0


def test_save_plan_schedules_topics_and_computes_attendees_and_dates(session: Session) -> None:
    topic_id = accepted_topic(session)
    result, ctx = run(session, "meeting.save_plan", {
        "meeting_kind": "regular", "meeting_title": "例会", "meeting_date": date(2026, 3, 20),
        "meeting_place": "三楼会议室", "topic_ids": [topic_id], "invited_units": ["laocheng", "caizheng"],
    })
    assert result["attendees"] == member_unit_codes(session) + ["laocheng"]
    assert result["meeting_at"] == "2026-03-20T09:00:00+08:00"
    assert result["reply_deadline"] == "2026-03-18T17:00:00+08:00"
    assert ctx.business_key == "HY-2026-01"
    topic = session.get(Topic, topic_id)
    assert topic is not None and topic.status == "scheduled" and topic.meeting_id == result["meeting_id"]
    assert topic_pool(session) == []


def test_a_plan_for_tomorrow_still_leaves_a_day_to_reply_but_not_past_the_meeting(session: Session) -> None:
    result = plan(session, [], meeting_date=date(2026, 3, 3))
    assert result["reply_deadline"] == "2026-03-03T09:00:00+08:00"
    result = plan(session, [], meeting_date=date(2026, 3, 4))
    assert result["reply_deadline"] == "2026-03-03T10:00:00+08:00"


def test_redrafting_a_returned_plan_updates_the_same_meeting(session: Session) -> None:
    first, second = accepted_topic(session, "甲"), accepted_topic(session, "乙")
    planned = plan(session, [first, second])
    with pytest.raises(FormError):
        run(session, "meeting.review_plan", {"meeting_id": planned["meeting_id"], "plan_decision": "return"})
    run(session, "meeting.review_plan",
        {"meeting_id": planned["meeting_id"], "plan_decision": "return", "plan_comment": "议题乙暂不上会"})
    assert notes_to(session, "office", "returned")

    again = plan(session, [first], meeting_id=planned["meeting_id"], meeting_place="二楼会议室")
    assert again["meeting_id"] == planned["meeting_id"]
    assert count(session, Meeting) == 1
    assert [t.id for t in topic_pool(session)] == [second]


def test_plan_refuses_unaccepted_topics_and_past_dates_and_changes_nothing(session: Session) -> None:
    result, _ = run(session, "topic.submit", {"title": "未审议题", "background": "b", "proposal": "p",
                                              "urgency": "normal", "initiator_unit": "caizheng"})
    with pytest.raises(FormError) as refused:
        plan(session, [result["topic_id"]], meeting_date=date(2026, 3, 1))
    assert set(refused.value.errors) == {"topic_ids", "meeting_date"}
    assert count(session, Meeting) == 0
    assert session.get(Topic, result["topic_id"]).status == "submitted"  # type: ignore[union-attr]


def test_an_adhoc_request_makes_an_adhoc_meeting_and_is_recorded(session: Session) -> None:
    result = plan(session, [], meeting_kind="regular", initiator="district",
                  adhoc_request={"reason": "汛期受灾群众救助", "suggested_date": "2026-03-10"})
    meeting = session.get(Meeting, result["meeting_id"])
    assert meeting is not None and meeting.kind == "adhoc"
    assert meeting.request_reason == "汛期受灾群众救助"
    assert meeting.requested_date == date(2026, 3, 10)
    assert meeting.requested_by == "district"


def test_an_adhoc_request_sent_as_message_variables_is_recorded(session: Session) -> None:
    result = plan(session, [], meeting_kind="regular", initiator="district",
                  message_adhoc_meeting_request={"reason": "突发灾情", "suggested_date": "2026-03-12"})
    meeting = session.get(Meeting, result["meeting_id"])
    assert meeting is not None and meeting.kind == "adhoc" and meeting.request_reason == "突发灾情"


def test_convene_asks_every_unit_to_reply_and_replies_are_recorded(session: Session) -> None:
    meeting_id = held_meeting(session, [])
    summary = attendance_summary(session, meeting_id)
    assert summary.total == 18 and summary.pending == 18
    assert len(notes_to(session, "unit:caizheng", "info")) == 1
    assert [row.unit_code for row, _ in summary.rows][-1] == "laocheng"

    with pytest.raises(FormError) as refused:
        run(session, "meeting.record_attendance",
            {"meeting_id": meeting_id, "attendee": "caizheng", "attendance": "leave"}, actor="caizheng")
    assert "leave_reason" in refused.value.errors
    run(session, "meeting.record_attendance",
        {"meeting_id": meeting_id, "attendee": "caizheng", "attendance": "leave", "leave_reason": "外出学习"},
        actor="caizheng")
    run(session, "meeting.record_attendance",
        {"meeting_id": meeting_id, "attendee": "yibao", "attendance": "attend", "attendee_name": "张三"},
        actor="yibao")
    summary = attendance_summary(session, meeting_id)
    assert (summary.attend, summary.leave, summary.pending) == (1, 1, 16)

    run(session, "meeting.remind_attendance", {"meeting_id": meeting_id}, actor=None)
    assert notes_to(session, "unit:fagai", "reminder")
    assert not notes_to(session, "unit:caizheng", "reminder")


def test_record_outcomes_creates_items_major_issues_and_defers_topics(session: Session) -> None:
    consensus, major, deferred = (accepted_topic(session, t) for t in ("医疗救助衔接", "资金缺口", "救助热线"))
    meeting_id = held_meeting(session, [consensus, major, deferred])
    result, _ = run(session, "meeting.record_outcomes", {
        "meeting_id": meeting_id,
        "resolution_items": [
            item_row(co_units=["weijian", "yibao", "caizheng"], topic_id=consensus),
            item_row("开展救助政策宣传", "xuanchuan", date(2026, 5, 31)),
            item_row("排查辖区困难群众", "laocheng", date(2026, 4, 15)),
        ],
        "major_topics": [major], "deferred_topics": [deferred], "outcome_summary": "会议审议了三项议题。",
    })
    items = [session.get(ResolutionItem, i) for i in result["resolution_ids"]]
    assert [i.number for i in items if i] == ["HY-2026-01-01", "HY-2026-01-02", "HY-2026-01-03"]
    first = items[0]
    assert first is not None and first.status == "draft"
    assert first.co_units == ["weijian", "caizheng"]  # the lead unit is not its own co-operating unit
    assert first.deadline == datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59 Beijing time

    assert result["has_major_issues"] is True
    issue = session.get(MajorIssue, result["major_issue_ids"][0])
    assert issue is not None and issue.topic_id == major and issue.status == "raised"
    loaded, _ = run(session, "major.load_for_meeting", {"meeting_id": meeting_id}, actor=None)
    assert loaded["major_issue_ids"] == result["major_issue_ids"]

    statuses = {t: session.get(Topic, t).status for t in (consensus, major, deferred)}  # type: ignore[union-attr]
    assert statuses == {consensus: "resolved", major: "escalated", deferred: "accepted"}
    assert [t.id for t in topic_pool(session)] == [deferred]
    assert session.get(Meeting, meeting_id).status == "held"  # type: ignore[union-attr]


def test_bad_resolution_rows_are_refused_and_nothing_changes(session: Session) -> None:
    topic_id = accepted_topic(session)
    meeting_id = held_meeting(session, [topic_id])
    with pytest.raises(FormError) as refused:
        run(session, "meeting.record_outcomes", {
            "meeting_id": meeting_id,
            "resolution_items": [
                item_row(),
                {"content": "", "lead_unit": "", "co_units": [], "deadline": None, "topic_id": None},
                item_row(lead="nosuch"),
                item_row(deadline=date(2026, 3, 1)),
                item_row(lead="quweiban"),
            ],
            "outcome_summary": "审议情况",
        })
    message = refused.value.errors["resolution_items"]
    assert "第2行" in message and "请填写事项内容" in message and "请选择牵头单位" in message
    assert "第3行" in message and "第4行" in message and "不能早于今天" in message and "第5行" in message
    assert "第1行" not in message
    assert count(session, ResolutionItem) == 0
    assert session.get(Topic, topic_id).status == "scheduled"  # type: ignore[union-attr]
    assert session.get(Meeting, meeting_id).status == "convened"  # type: ignore[union-attr]


def meeting_with_items(session: Session, rows: list[dict[str, Any]]) -> tuple[int, list[int]]:
    meeting_id = held_meeting(session, [])
    result, _ = run(session, "meeting.record_outcomes",
                    {"meeting_id": meeting_id, "resolution_items": rows, "outcome_summary": "审议情况"})
    return meeting_id, result["resolution_ids"]


def draft_and_close_comments(session: Session, meeting_id: int, **extra: Any) -> None:
    """The office drafts; the comment round closes (the deadline passed with nobody answering)."""
    run(session, "minutes.save_draft", {"meeting_id": meeting_id, "minutes_body": "纪要正文",
                                        "comment_deadline": "2026-03-20", **extra})
    run(session, "minutes.close_comments", {"meeting_id": meeting_id}, actor=None)


def sign_in_everyone(session: Session, meeting_id: int) -> None:
    codes = session.scalars(select(Attendance.unit_code).where(Attendance.meeting_id == meeting_id))
    run(session, "meeting.record_sign_in", {"meeting_id": meeting_id, "presider_name": "召集人", "sign_in_sheet": [
        {"unit": c, "status": "present", "name": f"{c}负责同志", "post": ""} for c in codes]})


def test_minutes_are_commented_signed_numbered_and_issued_to_the_chosen_recipients(session: Session) -> None:
    meeting_id = held_meeting(session, [])
    sign_in_everyone(session, meeting_id)
    result, _ = run(session, "meeting.record_outcomes", {
        "meeting_id": meeting_id, "resolution_items": [item_row(co_units=["jianmin"])], "outcome_summary": "审议情况"})
    (item_id,) = result["resolution_ids"]
    result, _ = run(session, "minutes.save_draft", {
        "meeting_id": meeting_id, "minutes_body": "纪要正文", "comment_deadline": "2026-03-20",
        "report_units": ["zhengfuban"], "copy_units": ["fayuan"]})
    assert set(result["comment_units"]) == set(member_unit_codes(session)) | {"laocheng"}
    with pytest.raises(ActionError):  # still out for comments
        run(session, "minutes.review", {"meeting_id": meeting_id, "minutes_decision": "approve"}, actor="convener")
    run(session, "minutes.record_comment", {"meeting_id": meeting_id, "comment_unit": "caizheng",
                                            "comment_answer": "opinion", "comment_text": "请补充时限。"})
    run(session, "minutes.close_comments", {"meeting_id": meeting_id}, actor=None)
    comments = dict(session.execute(select(MinutesComment.unit_code, MinutesComment.answer)).all())
    assert comments["caizheng"] == "opinion" and comments["renshe"] == "silent"
    with pytest.raises(ActionError):
        run(session, "minutes.issue", {"meeting_id": meeting_id}, actor=None)
    with pytest.raises(FormError):
        run(session, "minutes.review", {"meeting_id": meeting_id, "minutes_decision": "return"}, actor="convener")
    run(session, "minutes.review", {"meeting_id": meeting_id, "minutes_decision": "approve"}, actor="convener")
    run(session, "minutes.issue", {"meeting_id": meeting_id}, actor=None)

    minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
    assert minutes is not None and minutes.status == "issued" and minutes.approved_by == "convener"
    assert minutes.number == "汉救联纪〔2026〕1号"
    assert set(member_unit_codes(session)) | {"zhengfuban", "fayuan", "jianmin"} == set(minutes.recipients)
    assert session.get(ResolutionItem, item_id).status == "in_progress"  # type: ignore[union-attr]
    assert notes_to(session, "unit:jianmin", "issued") and notes_to(session, "unit:fayuan", "issued")
    assert notes_to(session, "district", "issued") and notes_to(session, "unit:zhengfuban", "issued")
    assert notes_to(session, "cc", "issued")  # 区法院 is one of the 抄送 readers' units
    assert not notes_to(session, "unit:renda", "issued")  # not chosen this time


def issued_item(session: Session, **row: Any) -> ResolutionItem:
    meeting_id, (item_id,) = meeting_with_items(session, [item_row(**row)])
    draft_and_close_comments(session, meeting_id)
    run(session, "minutes.review", {"meeting_id": meeting_id, "minutes_decision": "approve"}, actor="convener")
    run(session, "minutes.issue", {"meeting_id": meeting_id}, actor=None)
    item = session.get(ResolutionItem, item_id)
    assert item is not None
    return item


def test_start_hands_the_item_to_its_units(session: Session) -> None:
    item = issued_item(session, co_units=["caizheng", "minzheng"])
    result, ctx = run(session, "resolution.start", {"resolution_id": item.id}, actor=None)
    # Each co-unit's own deadline: five working days before the lead's (the office's default rule).
    assert result == {"lead_unit": "yibao", "co_units": ["caizheng", "minzheng"],
                      "co_deadlines": {"caizheng": "2026-04-23T23:59:59+08:00",
                                       "minzheng": "2026-04-23T23:59:59+08:00"},
                      "co_remind_workdays": 2, "deadline": "2026-04-30T23:59:59+08:00", "key_item": False,
                      "extension_approvers": "convener"}
    assert not ctx.business_key_changed  # the item runs inside the meeting's instance


def test_extension_requests_are_checked_and_an_approval_moves_the_deadline(session: Session) -> None:
    item = issued_item(session)
    data = {"resolution_id": item.id, "report_action": "extend"}
    with pytest.raises(FormError) as refused:
        run(session, "resolution.record_report", data, actor="yibao", task="implement")
    assert set(refused.value.errors) == {"requested_deadline", "extension_reason"}
    with pytest.raises(FormError) as refused:
        run(session, "resolution.record_report",
            {**data, "requested_deadline": date(2026, 4, 30), "extension_reason": "数据未到位"}, actor="yibao")
    assert "requested_deadline" in refused.value.errors
    assert count(session, ExtensionRequest) == 0

    run(session, "resolution.record_report",
        {**data, "requested_deadline": date(2026, 5, 15), "extension_reason": "数据未到位"}, actor="yibao")
    with pytest.raises(FormError):
        run(session, "resolution.decide_extension", {"resolution_id": item.id, "extension_decision": "refuse"},
            actor="convener")
    result, _ = run(session, "resolution.decide_extension",
                    {"resolution_id": item.id, "extension_decision": "approve"}, actor="convener")
    assert result["deadline"] == "2026-05-15T23:59:59+08:00"
    assert item.deadline == datetime(2026, 5, 15, 15, 59, 59, tzinfo=UTC)
    assert item.original_deadline == datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC)
    assert notes_to(session, "unit:yibao", "decision")

    run(session, "resolution.record_report",
        {**data, "requested_deadline": date(2026, 6, 26), "extension_reason": "仍需协调"}, actor="yibao")
    result, _ = run(session, "resolution.decide_extension",
                    {"resolution_id": item.id, "extension_decision": "refuse", "extension_comment": "请按期完成"},
                    actor="convener")
    assert result["deadline"] == "2026-05-15T23:59:59+08:00"
    assert item.original_deadline == datetime(2026, 4, 30, 15, 59, 59, tzinfo=UTC)


def test_report_verify_return_rework_and_close(session: Session) -> None:
    item = issued_item(session, co_units=["caizheng"])
    base = {"resolution_id": item.id}
    with pytest.raises(FormError):
        run(session, "resolution.record_report", {**base, "report_action": "report"}, actor="yibao")
    run(session, "resolution.record_report", {**base, "report_action": "report", "result_body": "已建立机制"},
        actor="yibao", task="implement")
    run(session, "resolution.record_input", {**base, "co_unit": "caizheng", "co_opinion": "资金已落实"},
        actor="caizheng")
    assert item.status == "reported"

    with pytest.raises(FormError):
        run(session, "resolution.verify", {**base, "verify_decision": "return"})
    run(session, "resolution.verify", {**base, "verify_decision": "return", "verify_comment": "缺少台账"})
    assert item.status == "returned"
    assert notes_to(session, "unit:yibao", "returned")

    run(session, "resolution.record_report",
        {**base, "report_action": "report", "result_body": "已建立机制", "rework_body": "已补充台账"},
        actor="yibao", task="rework")
    assert item.status == "reported"
    run(session, "resolution.verify", {**base, "verify_decision": "accept"})
    run(session, "resolution.close", base, actor=None, now=NOW + timedelta(days=10))
    assert item.status == "closed" and item.closed_at == NOW + timedelta(days=10)
    kinds = list(session.scalars(select(ProgressReport.kind).order_by(ProgressReport.id)))
    assert kinds == ["result", "input", "verify", "rework", "verify"]


def test_remind_and_supervise(session: Session) -> None:
    item = issued_item(session)
    run(session, "resolution.remind", {"resolution_id": item.id}, actor=None)
    assert item.reminded_at == NOW and notes_to(session, "unit:yibao", "reminder")
    run(session, "resolution.supervise", {"resolution_id": item.id}, actor=None)
    run(session, "resolution.supervise", {"resolution_id": item.id}, actor=None)
    assert item.supervise_count == 2
    for group in ("unit:yibao", "office", "convener"):
        assert len(notes_to(session, group, "supervision")) == 2


def test_traffic_light_boundaries_in_python_and_sql(session: Session) -> None:
    item = issued_item(session, deadline=date(2026, 3, 31))
    deadline = datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)
    cases = {
        deadline - timedelta(days=3, seconds=1): "green",
        deadline - timedelta(days=3): "yellow",
        deadline: "yellow",
        deadline + timedelta(seconds=1): "red",
    }
    for now, light in cases.items():
        assert item.light(now) == light
        assert counts_by_light(session, now)[light] == 1
        assert [row.item.id for row in resolution_ledger(session, now, light=light)] == [item.id]
    item.status = "closed"
    session.flush()
    assert item.light(deadline + timedelta(days=1)) == "closed"
    assert counts_by_light(session, deadline + timedelta(days=1))["closed"] == 1
    assert counts_by_status(session)["closed"] == 1


def test_ledger_finds_items_by_lead_or_co_unit(session: Session) -> None:
    meeting_with_items(session, [item_row(co_units=["caizheng"]), item_row(lead="minzheng")])
    assert resolution_ledger(session, NOW, unit="caizheng") == []  # drafts are not on the ledger yet
    rows = resolution_ledger(session, NOW, unit="caizheng", include_drafts=True)
    assert [(r.lead_unit_name, r.co_unit_names) for r in rows] == [("区医保局", ["区财政局"])]


def major_issue(session: Session) -> int:
    topic_id = accepted_topic(session, "救助资金缺口")
    meeting_id = held_meeting(session, [topic_id])
    result, _ = run(session, "meeting.record_outcomes", {"meeting_id": meeting_id, "major_topics": [topic_id],
                                                          "outcome_summary": "报区政府决定"})
    issue_id = result["major_issue_ids"][0]
    base = {"major_issue_id": issue_id}
    run(session, "major.save_request", {**base, "request_title": "关于救助资金的请示", "request_body": "正文"})
    run(session, "major.sign", {**base, "sign_decision": "approve"}, actor="convener")
    return int(issue_id)


def test_district_instructions_become_items_in_progress(session: Session) -> None:
    issue_id = major_issue(session)
    base = {"major_issue_id": issue_id, "district_decision": "instruct"}
    with pytest.raises(FormError):
        run(session, "major.record_decision", {**base, "instruction_items": [item_row()]}, actor="district")
    result, _ = run(session, "major.record_decision",
                    {**base, "district_instructions": "由财政局统筹资金", "instruction_items": [
                        item_row("统筹救助资金", "caizheng", date(2026, 6, 30))]}, actor="district")
    (item_id,) = result["instruction_item_ids"]
    item = session.get(ResolutionItem, item_id)
    assert item is not None and item.status == "in_progress" and item.major_issue_id == issue_id
    assert item.number == "HY-2026-01-01"
    run(session, "major.notify_decision", {"major_issue_id": issue_id}, actor=None)
    assert notes_to(session, "convener", "decision") and notes_to(session, "unit:caizheng", "task")


def test_a_decision_without_instructions_creates_no_items(session: Session) -> None:
    issue_id = major_issue(session)
    with pytest.raises(FormError) as refused:
        run(session, "major.record_decision",
            {"major_issue_id": issue_id, "district_decision": "approve", "instruction_items": [item_row()]},
            actor="district")
    assert "instruction_items" in refused.value.errors
    result, _ = run(session, "major.record_decision",
                    {"major_issue_id": issue_id, "district_decision": "approve"}, actor="district")
    assert result == {"instruction_item_ids": []}
    assert session.get(MajorIssue, issue_id).status == "decided"  # type: ignore[union-attr]


def test_implementation_report_goes_to_the_district(session: Session) -> None:
    meeting_id, _ = meeting_with_items(session, [])
    base = {"meeting_id": meeting_id}
    run(session, "report.save", {**base, "report_body": "议定事项均已落实"})
    with pytest.raises(FormError):
        run(session, "report.review", {**base, "report_decision": "return"}, actor="convener")
    run(session, "report.review", {**base, "report_decision": "approve"}, actor="convener")
    run(session, "report.submit", base, actor=None)
    submitted = session.scalars(select(ImplementationReport)).one()
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    run(session, "report.receive", {**base, "receipt_comment": "已阅"}, actor="district")
    assert session.get(Meeting, meeting_id).status == "closed"  # type: ignore[union-attr]


def test_membership_change_from_proposal_to_directory(session: Session) -> None:
    session.add(Unit(code="yingji", name="区应急管理局", kind="invited", sort=301))
    session.flush()
    proposal = {"change_kind": "join", "change_unit": "yingji", "change_reason": "承担受灾人员救助",
                "initiator": "office", "initiator_unit": "minzheng"}
    with pytest.raises(FormError) as refused:
        run(session, "membership.save", proposal)
    assert "new_duties" in refused.value.errors
    with pytest.raises(FormError):
        run(session, "membership.save", {**proposal, "change_unit": "caizheng", "new_duties": "x",
                                         "initiator": "weijian", "initiator_unit": "weijian"}, actor="weijian")
    result, ctx = run(session, "membership.save", {**proposal, "new_duties": "负责受灾人员救助。"})
    assert ctx.business_key == f"CY-{result['change_id']:04d}"
    base = {"change_id": result["change_id"]}

    run(session, "membership.review", {**base, "office_decision": "forward"}, task="office_review")
    with pytest.raises(FormError):
        run(session, "membership.review", {**base, "office_decision": "forward", "convener_decision": "return"},
            actor="convener", task="convener_review")
    run(session, "membership.review", {**base, "office_decision": "forward", "convener_decision": "forward"},
        actor="convener", task="convener_review")
    run(session, "membership.decide", {**base, "membership_decision": "approve"}, actor="district")
    run(session, "directory.apply_membership_change", base, actor=None)
    assert member_unit_codes(session)[-1] == "yingji"


def test_personal_work_is_announced_to_its_person_once_and_unit_work_to_the_unit(session: Session) -> None:
    from engine.models import HumanTask
    from meeting.runtime import _notify_new_task

    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    _notify_new_task(session, HumanTask(id="t-personal", name="审定会议方案", candidate_groups=["convener"],
                                        assignee="convener", business_key="HY-2026-01", created_at=now))
    _notify_new_task(session, HumanTask(id="t-unit", name="确认参会", candidate_groups=["unit:caizheng"],
                                        assignee=None, business_key="HY-2026-01", created_at=now))
    rows = session.execute(select(Notification.recipient_group, Notification.title)).all()
    assert sorted(rows) == [("unit:caizheng", "新待办：确认参会（HY-2026-01）"),
                            ("user:convener", "新待办：审定会议方案（HY-2026-01）")]
