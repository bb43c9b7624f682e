"""联席会议 (joint_meeting): steps of 联席会议.feature."""

from __future__ import annotations

from datetime import timedelta

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import rows
from steps.world import World, local_day, names_in

from engine.clock import SHANGHAI
from meeting.models import Attendance, ImplementationReport, Minutes
from meeting.queries import topic_pool
from meeting.statuses import AttendanceReply, MeetingStatus, MinutesStatus, ReportStatus

scenarios("联席会议.feature")

MEETING_KINDS = {"例会": "regular", "临时会议": "adhoc"}
OUTCOMES = {"一致意见", "暂缓", "报区政府决定"}


# ---------------------------------------------------------------------- plan and approval
@then(parsers.parse('会议"{title}"为"{kind}"，状态为"{status}"'))
def meeting_kind_status(world: World, title: str, kind: str, status: str) -> None:
    meeting = world.meeting(title)
    assert (meeting.kind, meeting.status) == (MEETING_KINDS[kind], MeetingStatus.from_label(status))


@then(parsers.parse('{who}各有1件本单位的"{task}"'))
def one_task_each(world: World, who: str, task: str) -> None:
    for name in world.people(who):
        code = world.unit_code(name)
        found = world.tasks_named(name, task)
        assert [t.context.get("attendee") for t in found] == [code], f"{name}的“{task}”：{found}"


# ---------------------------------------------------------------------- attendance
@when(parsers.parse("{names}以外的成员单位都回复参会"))
def others_attend(world: World, names: str) -> None:
    world.all_reply(skip=tuple(names_in(names)))


@then(parsers.parse('"{unit}"的回执为请假，事由为"{reason}"'))
def replied_leave(world: World, unit: str, reason: str) -> None:
    row = _attendance(world, unit)
    assert (row.reply, row.leave_reason, row.replied_by) == ("leave", reason, world.user(unit))


@then(parsers.parse('"{unit}"的回执为参会，参会人员为"{name}"'))
def replied_attend(world: World, unit: str, name: str) -> None:
    row = _attendance(world, unit)
    assert (row.reply, row.attendee_name, row.replied_by) == ("attend", name, world.user(unit))
    assert row.replied_at == world.clock.now()


def _attendance(world: World, unit: str) -> Attendance:
    with world.db.sessions() as s:
        row = s.get(Attendance, (world.meeting().id, world.unit_code(unit)))
    assert row is not None
    return row


@then("参会回执的截止时间为会议前两天的17:00")
def reply_deadline(world: World) -> None:
    meeting = world.meeting()
    assert meeting.reply_deadline is not None
    due = meeting.reply_deadline.astimezone(SHANGHAI)
    assert due.date() == meeting.meeting_at.astimezone(SHANGHAI).date() - timedelta(days=2)
    assert (due.hour, due.minute) == (17, 0)


@when(parsers.parse("时间来到回执截止前{days:d}天"))
def before_reply_deadline(world: World, days: int) -> None:
    due = world.meeting().reply_deadline
    assert due is not None
    world.move_to(due - timedelta(days=days) + timedelta(minutes=1))


@when("时间来到回执截止之后")
def after_reply_deadline(world: World) -> None:
    due = world.meeting().reply_deadline
    assert due is not None
    world.move_to(due + timedelta(minutes=1))


# ---------------------------------------------------------------------- ad hoc meetings
@when(parsers.parse('"{who}"要求召开临时会议，事由为"{reason}"，建议{days:d}天后召开'))
def adhoc_request(world: World, who: str, reason: str, days: int) -> None:
    actor = world.actor(world.user(who))
    variables = {"adhoc_request": {"reason": reason, "suggested_date": world.today(days)}}
    result = world.attempt(lambda: world.service.send_message("adhoc_meeting_request", actor, variables))
    if result is not None:
        world.remember_instance("joint_meeting", result.instance_id)


@then(parsers.parse('新的"{process}"流程由"{who}"发起'))
def started_by(world: World, process: str, who: str) -> None:
    row = world.instance_row(world.last_instance(process))
    assert (row.process_key, row.started_by, row.status) == (world.process_key(process), world.user(who), "running")


@then(parsers.parse('会议"{title}"应"{who}"要求召开，事由为"{reason}"，建议{days:d}天后召开'))
def adhoc_recorded(world: World, title: str, who: str, reason: str, days: int) -> None:
    meeting = world.meeting(title)
    assert meeting.requested_by == world.user(who)
    assert meeting.request_reason == reason
    assert meeting.requested_date is not None and meeting.requested_date.isoformat() == world.today(days)
    assert meeting.instance_id == world.last_instance("联席会议")


# ---------------------------------------------------------------------- deliberation
@when(parsers.parse('"{who}"记录审议结果：'))
def record_outcome(world: World, who: str, datatable: list[list[str]]) -> None:
    assert world.user(who) == "office"
    table = rows(datatable)
    assert all(r["审议结果"] in OUTCOMES for r in table)
    world.record_outcome(
        [r for r in table if r["审议结果"] == "一致意见"],
        major=[r["议题"] for r in table if r["审议结果"] == "报区政府决定"],
        deferred=[r["议题"] for r in table if r["审议结果"] == "暂缓"],
    )


@then(parsers.parse('议题"{title}"回到议题库'))
def back_in_pool(world: World, title: str) -> None:
    topic = world.topic(title)
    assert topic.meeting_id is None
    with world.db.sessions() as s:
        assert topic.id in [t.id for t in topic_pool(s)]


# ---------------------------------------------------------------------- minutes
def _minutes(world: World) -> Minutes:
    with world.db.sessions() as s:
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == world.meeting().id))
    assert minutes is not None
    return minutes


@then(parsers.parse('会议纪要的状态为"{status}"'))
def minutes_status(world: World, status: str) -> None:
    assert _minutes(world).status == MinutesStatus.from_label(status)


@then(parsers.parse('会议纪要的收文单位为{n:d}个成员单位、{chosen}和承办单位{extra}'))
def minutes_recipients(world: World, n: int, chosen: str, extra: str) -> None:
    """报 and 抄送 as chosen, 分送 to the member units, and the units the items are assigned to."""
    members = [world.unit_code(name) for name in world.member_names()]
    assert len(members) == n
    wanted = set(members) | {world.unit_code(x) for x in names_in(chosen) + names_in(extra)}
    recipients = _minutes(world).recipients
    assert set(recipients) == wanted and len(recipients) == len(wanted), recipients


@then(parsers.parse('会议纪要的文号为"{number}"'))
def minutes_number(world: World, number: str) -> None:
    assert _minutes(world).number == number


@when("出席会议的单位都对纪要草稿回复无意见")
def all_comment_none(world: World) -> None:
    world.answer_comments()


@when("\"联席会议办公室\"按回执记录签到，召集人主持会议")
def sign_in_as_replied(world: World) -> None:
    world.sign_in()


@then(parsers.parse('"{unit}"的回执为"{label}"'))
def reply_label(world: World, unit: str, label: str) -> None:
    assert _attendance(world, unit).reply == AttendanceReply.from_label(label)


# ---------------------------------------------------------------------- report to the district
def _report(world: World) -> ImplementationReport:
    with world.db.sessions() as s:
        report = s.scalar(select(ImplementationReport).where(ImplementationReport.meeting_id == world.meeting().id))
    assert report is not None
    return report


@then(parsers.parse('落实情况报告的状态为"{status}"'))
def report_status(world: World, status: str) -> None:
    assert _report(world).status == ReportStatus.from_label(status)


@then(parsers.parse('落实情况报告由"{who}"接收，批示意见为"{comment}"'))
def report_received(world: World, who: str, comment: str) -> None:
    report = _report(world)
    assert (report.received_by, report.receipt_comment) == (world.user(who), comment)
    assert report.received_at is not None and local_day(report.received_at) == world.today()
