"""Steps about topics, meetings and resolution items that several features share."""

from __future__ import annotations

from datetime import timedelta

from pytest_bdd import given, parsers, then, when
from SpiffWorkflow import TaskState
from sqlalchemy import select
from steps.common import rows
from steps.world import LIGHTS, World, local_day, names_in

from meeting.models import ExtensionRequest, ProgressReport, ResolutionItem, Unit
from meeting.queries import attendance_summary, resolution_ledger
from meeting.statuses import ResolutionStatus, TopicStatus

MEETING_TITLE = "2026年第一次社会救助联席会议"


# ---------------------------------------------------------------------- topics
@then(parsers.parse('议题"{title}"的状态为"{status}"'))
def topic_status(world: World, title: str, status: str) -> None:
    assert world.topic(title).status == TopicStatus.from_label(status), world.topic(title).status


# ---------------------------------------------------------------------- meetings
@given(parsers.parse('召集人已审定会议方案"{title}"，会议定于{days:d}天后召开'))
def given_convened(world: World, title: str, days: int) -> None:
    world.convene(title, days, [])


@given(parsers.parse("联席会议已召开，审议议题{titles}"))
def given_held(world: World, titles: str) -> None:
    world.convene(MEETING_TITLE, 7, names_in(titles))
    world.all_reply()
    world.meeting_day()
    world.sign_in()


@given(parsers.parse('联席会议审议认为"{unit}"提出的议题"{title}"属于重大问题，报区政府决定'))
def given_major(world: World, unit: str, title: str) -> None:
    world.held_meeting({title: unit})
    world.record_outcome([], major=[title], summary="会议认为该议题需报区政府决定。")
    world.ok()


@given("联席会议已印发会议纪要，议定事项如下：")
def given_issued(world: World, datatable: list[list[str]]) -> None:
    items = rows(datatable)
    world.held_meeting({row["议定事项"]: row["牵头单位"] for row in items})
    world.record_outcome([{**row, "议题": row["议定事项"]} for row in items],
                         summary="会议形成一致意见，议定事项如下。")
    world.ok()
    world.issue_minutes()


@when(parsers.parse('"{unit}"回复参会'))
def when_attend(world: World, unit: str) -> None:
    world.reply(unit, "参会")


@when(parsers.parse('"{unit}"请假，事由为"{reason}"'))
def when_leave(world: World, unit: str, reason: str) -> None:
    world.reply(unit, "请假", reason)


@when("其余成员单位都回复参会")
def when_others_attend(world: World) -> None:
    with world.db.sessions() as s:
        names = list(s.scalars(select(Unit.name).where(Unit.kind == "member").order_by(Unit.sort)))
    for name in names:
        if world.tasks_named(name, "确认参会", attendee=world.unit_code(name)):
            world.reply(name, "参会")
            world.ok()


@when(parsers.parse("时间来到会议开始前{minutes:d}分钟"))
def when_before_meeting(world: World, minutes: int) -> None:
    world.move_to(world.meeting().meeting_at - timedelta(minutes=minutes))


@when("时间来到会议开始之后")
def when_meeting_day(world: World) -> None:
    world.meeting_day()


@then(parsers.parse('会议"{title}"的参会回执为：{attend:d}个参会，{leave:d}个请假，{pending:d}个待回复'))
def attendance_counts(world: World, title: str, attend: int, leave: int, pending: int) -> None:
    with world.db.sessions() as s:
        summary = attendance_summary(s, world.meeting(title).id)
    assert (summary.attend, summary.leave, summary.pending) == (attend, leave, pending)


@then(parsers.parse('会议"{title}"正在等待召开'))
def waiting_for_meeting(world: World, title: str) -> None:
    meeting = world.meeting(title)
    assert meeting.instance_id is not None
    wf = world.service.workflow(meeting.instance_id)
    waiting = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "wait_meeting"]
    assert len(waiting) == 1, f"等待会议召开的计时器有{len(waiting)}个"


# ---------------------------------------------------------------------- resolution items
def _context(world: World, content: str) -> dict[str, int]:
    return {"resolution_id": world.item(content).id}


@when(parsers.parse('"{unit}"报告议定事项"{item}"的落实结果"{body}"'))
def when_report(world: World, unit: str, item: str, body: str) -> None:
    world.fill(unit, "落实并报告", {"办理方式": "报告落实结果", "落实情况": body}, **_context(world, item))


@when(parsers.parse('"{unit}"提出对议定事项"{item}"的配合意见"{body}"'))
def when_co_input(world: World, unit: str, item: str, body: str) -> None:
    world.fill(unit, "配合单位意见", {"配合落实情况": body}, **_context(world, item))


@when(parsers.parse('议定事项"{item}"的配合单位都提出了配合意见'))
def when_all_co_input(world: World, item: str) -> None:
    row = world.item(item)
    for code in row.co_units:
        world.fill(code, "配合单位意见", {"配合落实情况": "已按分工配合落实。"}, resolution_id=row.id, co_unit=code)
        world.ok()


@when(parsers.parse('"{who}"核验议定事项"{item}"，同意办结销号'))
def when_verify_accept(world: World, who: str, item: str) -> None:
    world.fill(who, "核验落实结果", {"核验意见": "办结销号", "核验意见说明": "材料齐全。"}, **_context(world, item))


@when(parsers.parse('"{unit}"申请将议定事项"{item}"延期至{day}，理由为"{reason}"'))
def when_extend(world: World, unit: str, item: str, day: str, reason: str) -> None:
    world.fill(unit, "落实并报告", {"办理方式": "申请延期", "申请延至": world.day(day), "延期理由": reason},
               **_context(world, item))


@when(parsers.parse('时间来到议定事项"{item}"办理时限前{days:d}天'))
def when_before_deadline(world: World, item: str, days: int) -> None:
    world.move_to(world.item(item).deadline - timedelta(days=days) + timedelta(minutes=1))


@when(parsers.parse('时间来到议定事项"{item}"办理时限之后'))
def when_after_deadline(world: World, item: str) -> None:
    world.move_to(world.item(item).deadline + timedelta(minutes=1))


@when(parsers.parse('时间来到议定事项"{item}"原办理时限之后'))
def when_after_original_deadline(world: World, item: str) -> None:
    original = world.item(item).original_deadline
    assert original is not None, "办理时限未曾改动"
    world.move_to(original + timedelta(minutes=1))


@then(parsers.parse('议定事项"{item}"由"{lead}"牵头，{co}配合，办理时限为{day}'))
def item_units(world: World, item: str, lead: str, co: str, day: str) -> None:
    row = world.item(item)
    assert row.lead_unit == world.unit_code(lead)
    assert row.co_units == [world.unit_code(n) for n in names_in(co)]
    assert local_day(row.deadline) == world.day(day)


@then(parsers.parse('议定事项"{item}"的状态为"{status}"'))
def item_status(world: World, item: str, status: str) -> None:
    assert world.item(item).status == ResolutionStatus.from_label(status), world.item(item).status


@then(parsers.parse('议定事项"{item}"亮{light}灯'))
def item_light(world: World, item: str, light: str) -> None:
    row, now = world.item(item), world.clock.now()
    assert row.light(now) == LIGHTS[light], row.light(now)
    with world.db.sessions() as s:
        ledger = resolution_ledger(s, now, light=LIGHTS[light])
    assert row.id in [r.item.id for r in ledger], "台账按红绿灯筛选时应查到此事项"


@then(parsers.parse('议定事项"{item}"已办结销号'))
def item_closed(world: World, item: str) -> None:
    row = world.item(item)
    assert row.status == "closed" and row.closed_at is not None
    assert row.light(world.clock.now()) == "closed"


@then(parsers.parse('议定事项"{item}"已督办{n:d}次'))
def item_supervised(world: World, item: str, n: int) -> None:
    row = world.item(item)
    assert row.supervise_count == n
    assert (row.supervised_at is not None) == (n > 0)


@then(parsers.parse('议定事项"{item}"的办理时限为{day}'))
def item_deadline(world: World, item: str, day: str) -> None:
    assert local_day(world.item(item).deadline) == world.day(day)


@then(parsers.parse('议定事项"{item}"的原办理时限为{day}'))
def item_original_deadline(world: World, item: str, day: str) -> None:
    original = world.item(item).original_deadline
    assert original is not None and local_day(original) == world.day(day)


@then(parsers.parse('议定事项"{item}"的延期申请{result}'))
def item_extension(world: World, item: str, result: str) -> None:
    wanted = {"已同意": "approved", "未获同意": "refused", "待审批": "pending"}[result]
    with world.db.sessions() as s:
        statuses = list(s.scalars(select(ExtensionRequest.status)
                                  .where(ExtensionRequest.resolution_id == world.item(item).id)))
    assert statuses == [wanted], statuses


@then(parsers.parse('议定事项"{item}"有{inputs:d}条配合意见和{reports:d}条落实报告'))
def item_reports(world: World, item: str, inputs: int, reports: int) -> None:
    with world.db.sessions() as s:
        kinds = list(s.scalars(select(ProgressReport.kind)
                               .where(ProgressReport.resolution_id == world.item(item).id)))
    assert (kinds.count("input"), kinds.count("result")) == (inputs, reports), kinds


@then(parsers.parse('"{unit}"的待办中有议定事项"{item}"的"{task}"'))
def item_task(world: World, unit: str, item: str, task: str) -> None:
    assert world.tasks_named(unit, task, **_context(world, item))


@then(parsers.parse("共有{n:d}个议定事项"))
def item_count(world: World, n: int) -> None:
    assert world.count(ResolutionItem) == n
