"""会议筹备、签到与纪要: steps of 会议筹备与纪要.feature (deadlines that close replies and comment rounds, 签到,
the document register, personal tasks and what decision pages show)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import rows, table
from steps.world import World, local_day, names_in

from engine.attachments import store_attachment
from engine.clock import SHANGHAI
from engine.models import HumanTask
from meeting import documents
from meeting.context import subjects
from meeting.minutes_doc import minutes_content
from meeting.models import (
    Attendance,
    DocumentNumber,
    MeetingTopic,
    Minutes,
    MinutesComment,
    TopicCall,
    TopicCallReply,
    Unit,
)
from meeting.statuses import (
    AttendanceReply,
    CallAnswer,
    CommentAnswer,
    DocumentNumberStatus,
    MinutesStatus,
    SignIn,
)

scenarios("会议筹备与纪要.feature")

PRESIDER = "召集人（区民政局主要负责人）"


def _attendance(world: World, unit: str) -> Attendance:
    with world.db.sessions() as s:
        row = s.get(Attendance, (world.meeting().id, world.unit_code(unit)))
    assert row is not None, f"{unit}不在参会名单中"
    return row


def _minutes(world: World) -> Minutes:
    with world.db.sessions() as s:
        minutes = s.scalar(select(Minutes).where(Minutes.meeting_id == world.meeting().id))
    assert minutes is not None
    return minutes


def _details(world: World, task: HumanTask) -> dict[str, str]:
    with world.db.sessions() as s:
        return {k: v for sub in subjects(s, task.context) for k, v in sub.details}


# ---------------------------------------------------------------------- replies and their deadline
@when(parsers.parse("{names}以外的成员单位都回复参会"))
def others_attend(world: World, names: str) -> None:
    world.all_reply(skip=tuple(names_in(names)))


@when("时间来到回执截止之后")
def after_reply_deadline(world: World) -> None:
    due = world.meeting().reply_deadline
    assert due is not None
    world.move_to(due + timedelta(minutes=1))


@when(parsers.parse('"{unit}"委托"{name}"（"{post}"）代会'))
def substitute(world: World, unit: str, name: str, post: str) -> None:
    world.fill(unit, "确认参会", {"参会回执": "委托他人代会", "参会人员": name, "职务": post},
               attendee=world.unit_code(unit))
    world.ok()


@then(parsers.parse('"{unit}"的参会回执为"{label}"'))
def reply_is(world: World, unit: str, label: str) -> None:
    assert _attendance(world, unit).reply == AttendanceReply.from_label(label)


# ---------------------------------------------------------------------- sign-in
@when("办公室按回执记录签到")
def sign_in_as_replied(world: World) -> None:
    world.sign_in()


@when(parsers.parse('"联席会议办公室"记录签到，"{presider}"主持会议：'))
def sign_in_sheet(world: World, presider: str, datatable: list[list[str]]) -> None:
    task = world.find("联席会议办公室", "会议签到")
    changed = {world.unit_code(r["单位"]): r for r in rows(datatable)}
    sheet = []
    with world.db.sessions() as s:
        for att in s.scalars(select(Attendance).where(Attendance.meeting_id == world.meeting().id)):
            row = changed.get(att.unit_code)
            if row is None:
                came = att.reply in AttendanceReply.coming()
                sheet.append({"unit": att.unit_code, "status": SignIn.PRESENT if came else SignIn.ABSENT,
                              "name": att.attendee_name or "", "post": att.attendee_post or ""})
            else:
                sheet.append({"unit": att.unit_code, "status": SignIn.from_label(row["到会情况"]).value,
                              "name": row["到会人员"], "post": row["职务"]})
    world.submit("联席会议办公室", task, {"sign_in_sheet": sheet, "presider_name": presider})
    world.ok()


@then(parsers.parse('"{unit}"的签到为"{label}"，到会人员为"{name}"，职务为"{post}"'))
def signed_in_as(world: World, unit: str, label: str, name: str, post: str) -> None:
    row = _attendance(world, unit)
    assert (row.sign_in, row.signed_name, row.signed_post) == (SignIn.from_label(label), name, post)


@then(parsers.parse('"{unit}"的签到为"{label}"'))
def signed_in(world: World, unit: str, label: str) -> None:
    assert _attendance(world, unit).sign_in == SignIn.from_label(label)


@then(parsers.parse('会议的主持人为"{name}"'))
def presider_is(world: World, name: str) -> None:
    assert world.meeting().presider_name == name


def _list(world: World, label: str) -> list[str]:
    with world.db.sessions() as s:
        content = minutes_content(s, world.meeting().id, world.clock.now())
    return {"出席": content.present, "请假": content.leave, "未回复": content.unanswered,
            "列席": content.attending}[label]


@then(parsers.parse('会议纪要的"{label}"名单为"{names}"'))
def list_is(world: World, label: str, names: str) -> None:
    assert _list(world, label) == names.split("、"), _list(world, label)


@then(parsers.parse('会议纪要的"{label}"名单中有{n:d}个单位'))
def list_count(world: World, label: str, n: int) -> None:
    assert len(_list(world, label)) == n, _list(world, label)


@then(parsers.parse('会议纪要的"{label}"名单中有"{entry}"'))
def list_has(world: World, label: str, entry: str) -> None:
    assert entry in _list(world, label), _list(world, label)


# ---------------------------------------------------------------------- the comment round
@given(parsers.parse('"联席会议办公室"已记录审议结果'))
def outcome_recorded(world: World) -> None:
    world.record_outcome([], summary="会议审议了上会议题。")
    world.ok()


@when(parsers.parse('"联席会议办公室"起草会议纪要，征求意见截止日期为{days:d}天后'))
def draft(world: World, days: int) -> None:
    world.draft_minutes(days=days)


@then(parsers.parse('出席会议的{n:d}个单位各有1件"{task}"'))
def comment_tasks(world: World, n: int, task: str) -> None:
    with world.db.sessions() as s:
        found = list(s.scalars(select(HumanTask).where(HumanTask.state == "READY", HumanTask.name == task)))
    units = sorted(str(t.context.get("comment_unit")) for t in found)
    assert len(units) == n and len(set(units)) == n, units
    for code in units:
        assert world.tasks_named(code, task, comment_unit=code)


@when(parsers.parse('"{unit}"对纪要草稿提出修改意见"{opinion}"'))
def comment(world: World, unit: str, opinion: str) -> None:
    code = world.unit_code(unit)
    world.fill(unit, "纪要征求意见", {"意见": "有修改意见", "修改意见": opinion}, comment_unit=code)
    world.ok()


@when("时间来到征求意见截止之后")
def after_comment_deadline(world: World) -> None:
    due = _minutes(world).comment_deadline
    assert due is not None
    world.move_to(due + timedelta(minutes=1))


def _answers(world: World) -> dict[str, str]:
    minutes = _minutes(world)
    with world.db.sessions() as s:
        return dict(s.execute(select(MinutesComment.unit_code, MinutesComment.answer).where(
            MinutesComment.minutes_id == minutes.id, MinutesComment.round == minutes.comment_rounds)).all())


@then(parsers.parse('"{unit}"对纪要的意见为"{label}"'))
def answer_is(world: World, unit: str, label: str) -> None:
    assert _answers(world)[world.unit_code(unit)] == CommentAnswer.from_label(label)


@then(parsers.parse('其余{n:d}个单位对纪要的意见为"{label}"'))
def others_answer(world: World, n: int, label: str) -> None:
    answers = _answers(world)
    rest = [a for a in answers.values() if a != CommentAnswer.OPINION]
    assert len(rest) == n and set(rest) == {CommentAnswer.from_label(label)}, answers


@then(parsers.parse('会议纪要的状态为"{status}"'))
def minutes_status(world: World, status: str) -> None:
    assert _minutes(world).status == MinutesStatus.from_label(status)


# ---------------------------------------------------------------------- personal tasks and decision pages
@then(parsers.parse('"{who}"的我的待办中有"{task}"，无需签收'))
def personal_task(world: World, who: str, task: str) -> None:
    actor = world.actor(world.user(who))
    mine = [t for t in world.service.tasks_for(actor, "mine") if t.name == task]
    assert len(mine) == 1, f"{who}的“我的待办”：{[t.name for t in world.service.tasks_for(actor, 'mine')]}"
    assert mine[0].claimed_at is None  # given by the process, never taken from a group


@then(parsers.parse('"{task}"页显示"{unit}"的修改意见"{opinion}"'))
def page_shows_opinion(world: World, task: str, unit: str, opinion: str) -> None:
    shown = "\n".join(_details(world, world.any_task(task)).values())
    assert f"{unit}　有修改意见：{opinion}" in shown, shown


@then(parsers.parse('"{task}"页显示：'))
def page_shows(world: World, task: str, datatable: list[list[str]]) -> None:
    _page_shows(world, world.any_task(task), datatable)


@then(parsers.parse('"{unit}"的"{task}"页显示：'))
def unit_page_shows(world: World, unit: str, task: str, datatable: list[list[str]]) -> None:
    _page_shows(world, world.find(unit, task, attendee=world.unit_code(unit)), datatable)


def _page_shows(world: World, task: HumanTask, datatable: list[list[str]]) -> None:
    details = _details(world, task)
    for label, wanted in table(datatable).items():
        wanted = wanted.strip()
        if wanted == "今天":
            wanted = world.today()
        assert label in details, f"“{task.name}”页没有“{label}”：{list(details)}"
        assert wanted in details[label], f"“{label}”为“{details[label]}”"


@then(parsers.parse('"{task}"页的"{label}"只在决定为"{choice}"时填写'))
def shown_only_when(world: World, task: str, label: str, choice: str) -> None:
    ht = world.any_task(task)
    fields = {f["label"]: f for f in ht.form}
    rule = fields[label].get("properties", {}).get("showWhen")
    other, value = rule.split("=")
    options = {o["name"]: o["id"] for o in {f["id"]: f for f in ht.form}[other]["options"]}
    assert options[choice] == value


# ---------------------------------------------------------------------- plan
@then(parsers.parse('会议"{title}"定于{days:d}天后{hour:d}:{minute:d}召开'))
def meeting_at(world: World, title: str, days: int, hour: int, minute: int) -> None:
    at = world.meeting(title).meeting_at.astimezone(SHANGHAI)
    assert (local_day(at), at.hour, at.minute) == (world.today(days), hour, minute)


@then(parsers.parse('"{name}"作为临时邀请单位记入单位名录，联系人为"{contact}"，电话为"{phone}"'))
def guest_unit(world: World, name: str, contact: str, phone: str) -> None:
    with world.db.sessions() as s:
        unit = s.scalar(select(Unit).where(Unit.name == name))
    assert unit is not None and unit.kind == "guest"
    assert (unit.contact_name, unit.contact_phone) == (contact, phone)
    assert unit.code in world.meeting().invited_units


# ---------------------------------------------------------------------- the document register
@when(parsers.parse("办公室为{n:d}份会议纪要取得文号"))
def take_numbers(world: World, n: int) -> None:
    world.numbers = []  # type: ignore[attr-defined]
    with world.db.transaction() as s:
        start = s.scalar(select(DocumentNumber.id).order_by(DocumentNumber.id.desc()).limit(1)) or 0
        for i in range(n):
            row = documents.take_number(s, "minutes", world.clock.now(), subject=f"minutes:{start + i + 1}",
                                        title="会议纪要", by="office")
            world.numbers.append(row.number)  # type: ignore[attr-defined]


@then(parsers.parse("取得的文号依次为{numbers}"))
def numbers_are(world: World, numbers: str) -> None:
    assert world.numbers == names_in(numbers)  # type: ignore[attr-defined]


@when(parsers.parse('办公室作废文号"{number}"，原因为"{reason}"'))
def void(world: World, number: str, reason: str) -> None:
    with world.db.transaction() as s:
        documents.void_number(s, number, reason, by="office", at=world.clock.now())


@then(parsers.parse('{year:d}年的纪要登记簿中"{number}"为"{label}"，原因为"{reason}"'))
def register_row(world: World, year: int, number: str, label: str, reason: str) -> None:
    with world.db.sessions() as s:
        rows_ = {r.number: r for r in documents.register_of(s, "minutes", year)}
    assert rows_[number].status == DocumentNumberStatus.from_label(label)
    assert rows_[number].void_reason == reason


@then(parsers.parse("{year:d}年的纪要登记簿没有缺号"))
def no_gaps(world: World, year: int) -> None:
    with world.db.sessions() as s:
        assert documents.gaps(s, "minutes", year) == []


@when(parsers.parse("时间来到{year:d}年{month:d}月{day:d}日"))
def to_day(world: World, year: int, month: int, day: int) -> None:
    world.move_to(datetime(year, month, day, 9, 0, tzinfo=SHANGHAI).astimezone(UTC))


# ---------------------------------------------------------------------- the call for topics
def _call(world: World) -> TopicCall:
    with world.db.sessions() as s:
        call = s.scalars(select(TopicCall).order_by(TopicCall.id.desc())).first()
    assert call is not None, "没有议题征集"
    return call


@when(parsers.parse('"联席会议办公室"发出议题征集通知，报送截止日期为{days:d}天后'))
def issue_call(world: World, days: int) -> None:
    world.remember_instance("topic_call", world.start("office", "topic_call"))
    world.fill("联席会议办公室", "发出议题征集通知", {"报送截止日期": f"{days}天后", "征集说明": "请围绕社会救助重点工作报送。"})
    world.ok()


@then(parsers.parse('{n:d}个成员单位各有1件"{task}"'))
def each_member_has(world: World, n: int, task: str) -> None:
    names = world.member_names()
    assert len(names) == n
    for name in names:
        code = world.unit_code(name)
        assert len(world.tasks_named(name, task, call_unit=code)) == 1, name


@when(parsers.parse('"{unit}"报送议题"{title}"'))
def answer_topic(world: World, unit: str, title: str) -> None:
    world.fill(unit, "报送议题", {"回复": "报送议题", "议题名称": title, "背景情况": f"{title}的背景情况。",
                               "建议处理意见": "建议提请联席会议研究。"}, call_unit=world.unit_code(unit))
    world.ok()


@when(parsers.parse('"{unit}"回复无议题'))
def answer_none(world: World, unit: str) -> None:
    world.fill(unit, "报送议题", {"回复": "无议题"}, call_unit=world.unit_code(unit))
    world.ok()


@when("时间来到议题征集截止之后")
def after_call_deadline(world: World) -> None:
    world.move_to(_call(world).deadline + timedelta(minutes=1))


@then(parsers.parse('"{unit}"的征集回复为"{label}"'))
def call_answer(world: World, unit: str, label: str) -> None:
    with world.db.sessions() as s:
        reply = s.get(TopicCallReply, (_call(world).id, world.unit_code(unit)))
    assert reply is not None and reply.answer == CallAnswer.from_label(label)


@when(parsers.parse('"联席会议办公室"把"{title}"列入议题库'))
def accept_from_call(world: World, title: str) -> None:
    world.fill("联席会议办公室", "审核征集的议题", {"列入议题库的议题": title})
    world.ok()


# ---------------------------------------------------------------------- 会议材料
@given(parsers.parse('召集人已审定会议方案"{title}"，议题为{topics}'))
def convened_with_topics(world: World, title: str, topics: str) -> None:
    world.convene(title, 7, names_in(topics))


@when(parsers.parse('"{unit}"提交议题"{topic}"的汇报材料'))
def submit_material(world: World, unit: str, topic: str) -> None:
    topic_id = world.topic_id(topic)
    task = world.find(unit, "提交会议材料", material_topic=topic_id)
    with world.db.transaction() as s:
        stored = store_attachment(s, "material", "汇报材料.pdf", b"%PDF-1.4 briefing", world.user(unit),
                                  world.clock.now(), task.instance_id)
        attachment_id = stored.id
    world.submit(unit, task, {"material": attachment_id, "material_note": "汇报提纲"})
    world.ok()


@then(parsers.parse('议题"{topic}"的汇报材料已由"{unit}"提交'))
def material_submitted(world: World, topic: str, unit: str) -> None:
    with world.db.sessions() as s:
        row = s.get(MeetingTopic, (world.meeting().id, world.topic_id(topic)))
    assert row is not None and row.material_id and row.material_by == world.user(unit)
