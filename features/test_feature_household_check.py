"""家庭经济状况核对 (household_check): steps of 家庭经济状况核对.feature."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import docx
import openpyxl
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import func, select
from steps.common import checks_refusal, rows, table
from steps.world import World

from engine.attachments import store_attachment
from engine.errors import FormError
from engine.models import Schedule
from meeting import check_batch, check_doc, check_stats, checks
from meeting.cases import viewer_for
from meeting.models import (
    CheckAnswer,
    HouseholdBatch,
    HouseholdBatchRow,
    HouseholdCheck,
    PersonalDataView,
    Unit,
)
from meeting.rules import load_rules
from meeting.statuses import AnswerStatus, BatchStatus, CheckStatus
from meeting.supervision_schedules import ensure_default_schedules
from meeting.workdays import add_workdays

scenarios("家庭经济状况核对.feature")


def _check(world: World, applicant: str) -> HouseholdCheck:
    with world.db.sessions() as s:
        found = s.scalars(select(HouseholdCheck).where(HouseholdCheck.applicant_name == applicant)
                          .order_by(HouseholdCheck.id.desc())).first()
    assert found is not None, f"没有申请人为“{applicant}”的核对"
    return found


def _names(world: World) -> dict[str, str]:
    with world.db.sessions() as s:
        return dict(s.execute(select(Unit.code, Unit.name)).all())


def _request(world: World, who: str, datatable: list[list[str]], authorized: bool) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "household_check")
    world.start_form = start["form"]
    fields = {f["label"]: f for f in start["form"]}
    values: dict[str, Any] = {fields[label]["id"]: world.form_value(fields[label], raw)
                              for label, raw in table(datatable).items()}
    if authorized:
        with world.db.transaction() as s:
            values["authorization"] = store_attachment(s, "authorization", "授权书.pdf", b"%PDF-1.4 signed",
                                                       user, world.clock.now()).id
    instance = world.attempt(lambda: world.start(user, "household_check", form_values=values))
    if instance:
        world.remember_instance("household_check", instance)


@when(parsers.parse('"{who}"附授权书申请家庭经济状况核对：'))
def request_check(world: World, who: str, datatable: list[list[str]]) -> None:
    _request(world, who, datatable, authorized=True)


@when(parsers.parse('"{who}"不附授权书申请家庭经济状况核对：'))
def request_without_authorization(world: World, who: str, datatable: list[list[str]]) -> None:
    world.track_changes = True
    _request(world, who, datatable, authorized=False)


@then(parsers.parse('核对申请被拒绝，"{label}"提示"{message}"'))
@checks_refusal
def request_refused(world: World, label: str, message: str) -> None:
    error = world.take_error(FormError)
    assert isinstance(error, FormError)
    field = next(f["id"] for f in world.start_form if f["label"] == label)
    assert message in error.errors.get(field, ""), error.errors
    with world.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(HouseholdCheck)) == 0
        assert s.scalar(select(func.count()).select_from(CheckAnswer)) == 0


@then("核对请求发往：")
def asked(world: World, datatable: list[list[str]]) -> None:
    names = _names(world)
    with world.db.sessions() as s:
        check_id = s.scalar(select(func.max(HouseholdCheck.id)))
        got = {(names[a.provider], "、".join(a.items))
               for a in s.scalars(select(CheckAnswer).where(CheckAnswer.check_id == check_id))}
    assert got == {(r["核对部门"], r["核对项目"]) for r in rows(datatable)}, got


@when(parsers.parse('"{who}"反馈"{task}"：'))
def answer(world: World, who: str, task: str, datatable: list[list[str]]) -> None:
    """Labels as people say them: a list field is named without its “（每行…）” hint."""
    found = world.find(who, task)
    labelled = {}
    for label, raw in table(datatable).items():
        full = next((f["label"] for f in found.form
                     if f["label"] == label or f["label"].startswith(label + "（每行")), label)
        labelled[full] = raw
    world.submit(who, found, world.form_values(found, labelled))
    assert world.error is None, world.error


@then(parsers.parse('核对"{applicant}"的核对报告列明：'))
def report_lists(world: World, applicant: str, datatable: list[list[str]]) -> None:
    report = _check(world, applicant).report
    assert report is not None, "核对报告尚未生成"
    by_name = {p["name"]: p for p in report["providers"]}
    for r in rows(datatable):
        p = by_name[r["核对部门"]]
        assert AnswerStatus.label_of(p["status"]) == r["结果"], p
        detail = " ".join(f"{label}{text}" for label, text in p["findings"]) + p["reason"]
        assert r["核对情况包含"] in detail, detail


@then(parsers.parse('核对"{applicant}"的核对报告没有未反馈的部门，身份证号只显示为"{masked}"'))
def report_complete_and_masked(world: World, applicant: str, masked: str) -> None:
    check = _check(world, applicant)
    assert check.report is not None and check.report["silent"] == []
    assert check.id_number not in str(check.report)
    members = {m["name"]: m["id_number"] for m in check.report["members"]}
    assert masked in members.values(), members
    for member in check.members:
        assert member["id_number"] not in str(check.report)


@then(parsers.parse('核对"{applicant}"的核对报告列明未反馈的部门"{unit}"'))
def report_silent(world: World, applicant: str, unit: str) -> None:
    report = _check(world, applicant).report
    assert report is not None and report["silent"] == [unit], report


@then(parsers.parse('核对"{applicant}"的状态为"{status}"'))
def check_status(world: World, applicant: str, status: str) -> None:
    assert _check(world, applicant).status == CheckStatus.from_label(status)


@then(parsers.parse('核对"{applicant}"的核对报告公文含"{first}"和"{second}"'))
def report_document(world: World, applicant: str, first: str, second: str) -> None:
    document = docx.Document(io.BytesIO(check_doc.build_report(_check(world, applicant))))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert first in text and second in text, text


def _due(world: World, applicant: str) -> Any:
    check = _check(world, applicant)
    with world.db.sessions() as s:
        return s.scalar(select(func.max(CheckAnswer.due_at)).where(CheckAnswer.check_id == check.id))


@when(parsers.parse('时间来到核对"{applicant}"的反馈期限前1个工作日'))
def before_deadline(world: World, applicant: str) -> None:
    due = _due(world, applicant)
    with world.db.sessions() as s:
        world.move_to(add_workdays(s, due, -1) + timedelta(minutes=1))


@when(parsers.parse('时间来到核对"{applicant}"的反馈期限之后'))
def after_deadline(world: World, applicant: str) -> None:
    world.move_to(_due(world, applicant) + timedelta(minutes=1))


@then(parsers.parse('核对"{applicant}"中"{unit}"的反馈为"{status}"'))
def answer_status(world: World, applicant: str, unit: str, status: str) -> None:
    check = _check(world, applicant)
    with world.db.sessions() as s:
        got = s.scalar(select(CheckAnswer.status).where(CheckAnswer.check_id == check.id,
                                                        CheckAnswer.provider == world.unit_code(unit)))
    assert got == AnswerStatus.from_label(status), got


@then("部门核对反馈统计为：")
def statistics(world: World, datatable: list[list[str]]) -> None:
    with world.db.sessions() as s:
        got = {r.name: r for r in check_stats.provider_stats(s)}
    for r in rows(datatable):
        row = got[r["核对部门"]]
        assert (row.requests, row.on_time, row.silent) == (int(r["核对件数"]), int(r["按时反馈"]), int(r["未反馈"])), row


@then(parsers.parse('"{who}"查看核对"{applicant}"时身份证号显示为"{shown}"，{logged}'))
def view_check(world: World, who: str, applicant: str, shown: str, logged: str) -> None:
    actor = world.actor(world.user(who))
    with world.db.transaction() as s:
        viewer = viewer_for(s, actor.username, actor.groups, actor.unit)
        check = s.get(HouseholdCheck, _check(world, applicant).id)
        assert check is not None and checks.may_see(s, viewer, check)
        before = s.scalar(select(func.count()).select_from(PersonalDataView))
        person = checks.reveal(s, viewer, check, world.clock.now())
        s.flush()
        after = s.scalar(select(func.count()).select_from(PersonalDataView))
    assert person["id_number"] == shown
    assert (after == (before or 0) + 1) == (logged == "查看留痕"), (before, after)


@then(parsers.parse('"{who}"看不到核对"{applicant}"'))
def cannot_see(world: World, who: str, applicant: str) -> None:
    actor = world.actor(world.user(who))
    with world.db.sessions() as s:
        viewer = viewer_for(s, actor.username, actor.groups, actor.unit)
        visible = s.scalars(select(HouseholdCheck.applicant_name).where(checks.visible_filter(viewer))).all()
        check = s.get(HouseholdCheck, _check(world, applicant).id)
        assert check is not None and not checks.may_see(s, viewer, check)
    assert applicant not in visible


# ---------------------------------------------------------------------------------------------- 动态复核
def _completed_check(world: World, who: str, applicant: str, vehicles: str, id_number: str) -> None:
    user = world.user(who)
    with world.db.transaction() as s:
        authorization = store_attachment(s, "authorization", "授权书.pdf", b"%PDF-1.4 signed", user,
                                         world.clock.now()).id
    world.start(user, "household_check", form_values={
        "check_aid_type": "临时救助", "applicant_name": applicant, "applicant_id_number": id_number,
        "applicant_address": "五里镇安岭村", "authorization": authorization})
    with world.db.sessions() as s:
        check_id = s.scalar(select(func.max(HouseholdCheck.id)))
    for unit in ("zhujian", "renshe", "gongan"):
        task = next(t for t in world.open_tasks(unit) if t.context.get("check_id") == check_id)
        if unit == "gongan" and vehicles != "无":
            values: dict[str, Any] = {"answer_outcome": "found", "ga_vehicles": vehicles}
        else:
            values = {"answer_outcome": "no_record", "answer_reason": "查无记录。"}
        world.submit(unit, task, values)
        assert world.error is None, world.error
    world.submit("区核对办公室", world.find("区核对办公室", "审核核对报告"), {"review_comment": "核对完毕。"})
    assert world.error is None, world.error


@given(parsers.parse('"{who}"为"{applicant}"申请的家庭经济状况核对已出具报告，汉滨公安分局核对到机动车辆"{vehicles}"'))
def given_completed_check(world: World, who: str, applicant: str, vehicles: str) -> None:
    number = {"张三": "610902198001010019", "李四": "610902195503030040"}[applicant]
    _completed_check(world, who, applicant, vehicles, number)


def _batch(world: World) -> HouseholdBatch:
    with world.db.sessions() as s:
        found = s.scalars(select(HouseholdBatch).order_by(HouseholdBatch.id.desc())).first()
    assert found is not None, "没有动态复核批次"
    return found


@when(parsers.parse('"{who}"发起"{month}"月的动态复核'))
def start_batch(world: World, who: str, month: str) -> None:
    instance = world.attempt(lambda: world.start(world.user(who), "household_batch",
                                                 form_values={"batch_month": month}))
    assert world.error is None, world.error
    world.remember_instance("household_batch", instance)


def _sheet(world: World, unit: str) -> Any:
    batch = _batch(world)
    out = io.BytesIO()
    with world.db.sessions() as s:
        check_batch.write_xlsx(check_batch.provider_rows(s, batch.id, world.unit_code(unit)), out, batch.number)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


@then(parsers.parse('"{unit}"的复核清单有{n:d}户'))
def list_size(world: World, unit: str, n: int) -> None:
    ws = _sheet(world, unit).worksheets[0]
    assert ws.max_row - 2 == n, ws.max_row


def _upload(world: World, unit: str, workbook: Any) -> None:
    out = io.BytesIO()
    workbook.save(out)
    user = world.user(unit)
    with world.db.transaction() as s:
        attachment = store_attachment(s, "batch_file", "复核清单.xlsx", out.getvalue(), user, world.clock.now()).id
    world.submit(unit, world.find(unit, "填报复核清单"), {"batch_file": attachment})
    assert world.error is None, world.error


@when(parsers.parse('"{unit}"在复核清单中把"{applicant}"的本次核对情况填为"{value}"后上传'))
def upload_changed(world: World, unit: str, applicant: str, value: str) -> None:
    workbook = _sheet(world, unit)
    ws = workbook.worksheets[0]
    for row in ws.iter_rows(min_row=3):
        if row[1].value == applicant:
            row[5].value = value
    _upload(world, unit, workbook)


@when(parsers.parse('"{unit}"上传复核清单，不作修改'))
def upload_unchanged(world: World, unit: str) -> None:
    _upload(world, unit, _sheet(world, unit))


@when("时间来到动态复核的反馈期限之后")
def after_batch_deadline(world: World) -> None:
    with world.db.sessions() as s:
        due = add_workdays(s, _batch(world).created_at, load_rules(s).check_answer_workdays)
    world.move_to(due + timedelta(minutes=1))


def _rows(world: World, applicant: str) -> list[HouseholdBatchRow]:
    batch = _batch(world)
    with world.db.sessions() as s:
        return list(s.scalars(select(HouseholdBatchRow).join(HouseholdCheck, HouseholdCheck.id == HouseholdBatchRow.check_id)
                              .where(HouseholdBatchRow.batch_id == batch.id, HouseholdCheck.applicant_name == applicant)))


@then(parsers.parse('动态复核中"{applicant}"的"{unit}"核对情况有变化'))
def row_changed(world: World, applicant: str, unit: str) -> None:
    code = world.unit_code(unit)
    assert [r.provider for r in _rows(world, applicant) if r.changed] == [code]


@then(parsers.parse('动态复核中"{applicant}"没有变化'))
def row_unchanged(world: World, applicant: str) -> None:
    rows_ = _rows(world, applicant)
    assert rows_ and not any(r.changed for r in rows_)


@then(parsers.parse('动态复核中"{unit}"的清单记为"{status}"'))
def list_status(world: World, unit: str, status: str) -> None:
    batch = _batch(world)
    with world.db.sessions() as s:
        got = set(s.scalars(select(HouseholdBatchRow.status).where(
            HouseholdBatchRow.batch_id == batch.id, HouseholdBatchRow.provider == world.unit_code(unit))))
    assert got == {AnswerStatus.from_label(status)}, got


@then(parsers.parse('动态复核的状态为"{status}"，在册家庭{n:d}户，有变化{changed:d}户'))
def batch_done(world: World, status: str, n: int, changed: int) -> None:
    batch = _batch(world)
    assert (batch.status, batch.households, batch.changed) == (BatchStatus.from_label(status), n, changed)
    with world.db.sessions() as s:
        assert check_batch.rechecked_households(s) == n


@given("每月动态复核按默认计划设置")
def given_monthly_schedule(world: World) -> None:
    with world.db.transaction() as s:
        assert "每月动态复核" in ensure_default_schedules(s, world.clock.now())


@when("时间来到每月动态复核计划的下次发起时间之后")
def to_monthly_run(world: World) -> None:
    with world.db.sessions() as s:
        row = s.scalars(select(Schedule).where(Schedule.process_key == "household_batch")).one()
    assert row.next_run_at is not None
    world.move_to(row.next_run_at + timedelta(minutes=1))


@then(parsers.parse('有{n:d}个动态复核批次，由"{who}"审核，在册家庭{households:d}户'))
def scheduled_batches(world: World, n: int, who: str, households: int) -> None:
    with world.db.sessions() as s:
        batches = list(s.scalars(select(HouseholdBatch)))
    assert len(batches) == n
    assert (batches[0].requester_group, batches[0].town_code, batches[0].households) == (world.group(who), None,
                                                                                          households)
