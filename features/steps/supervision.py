"""Steps of 督办: items assigned directly (without going through a meeting), co-units, the escalation ladder and
its 督办函, manual 催办 / 督办, extension rules, key items, working days, progress reports, the 阶段性报告, the
督办通报 and the ledger export."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from docx import Document
from openpyxl import load_workbook
from pytest_bdd import given, parsers, then, when
from sqlalchemy import func, select
from steps.common import checks_refusal, rows, table
from steps.world import World, local_day, split_list

from engine.attachments import store_attachment
from engine.errors import FormError
from engine.models import Attachment, AuditEvent
from meeting import supervision, workdays
from meeting.context import subjects
from meeting.ledger import LedgerFilter, iter_ledger_rows, to_xlsx
from meeting.models import (
    Bulletin,
    InterimReport,
    Meeting,
    Minutes,
    ProgressReport,
    ProgressRound,
    ResolutionCoUnit,
    ResolutionItem,
    SupervisionLetter,
)
from meeting.monitoring import co_scorecards
from meeting.rules import INT_LIMITS, ITEM_CLASSES, load_rules, save_rules
from meeting.statuses import (
    CoUnitStatus,
    ItemSource,
    LetterStatus,
    MeetingStatus,
    MinutesStatus,
    Rung,
    SupervisionKind,
)
from meeting.timeutil import end_of_day

MINUTES_NUMBER = "汉救联纪〔2026〕1号"
ISSUED_MEETING = "2026年第一次社会救助联席会议"


# ---------------------------------------------------------------------- items assigned directly
def _meeting(world: World) -> Meeting:
    """The meeting whose issued minutes the directly assigned items come from (made once per scenario)."""
    with world.db.transaction() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.title == ISSUED_MEETING))
        if meeting is None:
            now = world.clock.now()
            meeting = Meeting(year=2026, seq=1, title=ISSUED_MEETING, meeting_at=now, place="区民政局三楼会议室",
                              status=MeetingStatus.MINUTES_ISSUED, created_at=now)
            s.add(meeting)
            s.flush()
            s.add(Minutes(meeting_id=meeting.id, number=MINUTES_NUMBER, body="会议议定事项如下……",
                          status=MinutesStatus.ISSUED, issued_at=now, recipients=[]))
        s.flush()
        s.expunge(meeting)
    return meeting


@given("联席会议办公室已交办议定事项如下：")
def given_assigned(world: World, datatable: list[list[str]]) -> None:
    """Items of issued minutes, each started as the meeting would start it (the 议定事项落实 process with the
    item's id), so the scenario needs no whole meeting."""
    meeting = _meeting(world)
    with world.db.transaction() as s:
        count = s.scalar(select(func.count()).select_from(ResolutionItem)) or 0
        ids = []
        for n, row in enumerate(rows(datatable), start=count + 1):
            co = [world.unit_code(x) for x in split_list(row.get("配合单位", ""))]
            co_day = row.get("配合时限", "").strip()
            item = ResolutionItem(
                number=f"{meeting.key}-{n:02d}", meeting_id=meeting.id, content=row["议定事项"],
                lead_unit=world.unit_code(row["牵头单位"]), deadline=end_of_day(date.fromisoformat(world.day(row["办理时限"]))),
                status="draft", supervise_count=0, created_at=world.clock.now(),
                key_item=row.get("重点事项", "").strip() == "是",
                co_unit_links=[ResolutionCoUnit(unit_code=c, position=i, deadline=end_of_day(
                    date.fromisoformat(world.day(co_day))) if co_day else None) for i, c in enumerate(co)])
            s.add(item)
            s.flush()
            ids.append(item.id)
    for item_id in ids:
        world.start("admin", "resolution_item", data={"resolution_id": item_id})


def _item(world: World, content: str) -> ResolutionItem:
    return world.item(content)


@then(parsers.parse('"{unit}"对议定事项"{item}"的配合时限为"{day}"'))
def co_deadline_is(world: World, unit: str, item: str, day: str) -> None:
    link = supervision.co_link(_item(world, item), world.unit_code(unit))
    assert link.deadline is not None and local_day(link.deadline) == day, link.deadline


@then(parsers.parse('议定事项"{item}"的配合单位"{unit}"为"{status}"'))
def co_status_is(world: World, item: str, unit: str, status: str) -> None:
    link = supervision.co_link(_item(world, item), world.unit_code(unit))
    assert link.status == CoUnitStatus.from_label(status), CoUnitStatus.label_of(link.status)


@then(parsers.parse('议定事项"{item}"的配合单位"{unit}"已催办{n:d}次'))
def co_reminded(world: World, item: str, unit: str, n: int) -> None:
    assert supervision.co_link(_item(world, item), world.unit_code(unit)).remind_count == n


@then(parsers.parse('单位考评中"{unit}"作为配合单位{what}{n:d}项'))
def co_scorecard(world: World, unit: str, what: str, n: int) -> None:
    today = world.local_now().date()
    with world.db.sessions() as s:
        cards = {c.code: c for c in co_scorecards(s, date(today.year, 1, 1), today)}
    card = cards[world.unit_code(unit)]
    value = {"未反馈": card.silent, "按时反馈": card.on_time, "已反馈": card.answered, "待反馈": card.pending}[what]
    assert value == n, card


# ---------------------------------------------------------------------- the ladder
@given("督办规则为：")
def given_rules(world: World, datatable: list[list[str]]) -> None:
    labels = {label: name for name, (_, _, label) in INT_LIMITS.items()}
    classes = {f"{label}逾期后逐周升级": cls for cls, label in ITEM_CLASSES.items()}
    with world.db.transaction() as s:
        raw: dict[str, Any] = load_rules(s).as_dict()
        for label, value in table(datatable).items():
            if label in labels:
                raw[labels[label]] = value.strip()
            else:
                raw["ladders"] = {**raw["ladders"], classes[label]: [v.strip() for v in value.split(",")]}
        save_rules(s, raw, "admin", world.clock.now())


@then(parsers.parse('议定事项"{item}"的督办升级为"{rung}"'))
def rung_is(world: World, item: str, rung: str) -> None:
    assert _item(world, item).escalation == Rung.from_label(rung), Rung.label_of(_item(world, item).escalation)


def _letters(world: World, item: str) -> list[SupervisionLetter]:
    with world.db.sessions() as s:
        return supervision.letters(s, _item(world, item).id)


@then(parsers.parse('议定事项"{item}"的督办函文号为"{number}"'))
def letter_number(world: World, item: str, number: str) -> None:
    assert [x.number for x in _letters(world, item) if x.number] == [number]


@then(parsers.parse('议定事项"{item}"的督办函为"{status}"'))
def letter_status(world: World, item: str, status: str) -> None:
    assert [x.status for x in _letters(world, item)] == [LetterStatus.from_label(status)]


def _docx_text(world: World, attachment_id: str | None) -> str:
    assert attachment_id is not None, "没有生成公文"
    with world.db.sessions() as s:
        row = s.get(Attachment, attachment_id)
        assert row is not None
        doc = Document(io.BytesIO(row.content))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


@then(parsers.parse('督办函"{number}"是Word公文，写明"{text}"'))
def letter_document(world: World, number: str, text: str) -> None:
    with world.db.sessions() as s:
        letter = s.scalar(select(SupervisionLetter).where(SupervisionLetter.number == number))
    assert letter is not None
    body = _docx_text(world, letter.document_id)
    assert number in body and text in body, body[:400]


@then(parsers.parse('议定事项"{item}"的督办经过为：'))
def history_is(world: World, item: str, datatable: list[list[str]]) -> None:
    with world.db.sessions() as s:
        got = [(SupervisionKind.label_of(h.event.kind), h.unit_name, "人工" if h.event.manual else "自动")
               for h in supervision.history(s, _item(world, item).id)]
    want = [(r["类型"], r["对象"], r["方式"]) for r in rows(datatable)]
    assert got == want, got


# ---------------------------------------------------------------------- by hand
def _manual(world: World, kind: SupervisionKind, item: str, unit: str, opinion: str) -> None:
    def act() -> None:
        with world.db.transaction() as s:
            row = s.get(ResolutionItem, _item(world, item).id)
            assert row is not None
            supervision.manual(s, row, kind, world.unit_code(unit), opinion, "office", world.clock.now())

    world.attempt(act)


@when(parsers.parse('"联席会议办公室"对议定事项"{item}"的"{unit}"督办，督办意见为"{opinion}"'))
def when_manual_supervise(world: World, item: str, unit: str, opinion: str) -> None:
    _manual(world, SupervisionKind.SUPERVISE, item, unit, "" if opinion == "（空）" else opinion)


@when(parsers.parse('"联席会议办公室"对议定事项"{item}"的"{unit}"催办'))
def when_manual_remind(world: World, item: str, unit: str) -> None:
    _manual(world, SupervisionKind.REMIND, item, unit, "")


@then(parsers.parse('人工催办督办被拒绝，提示"{message}"'))
@checks_refusal
def manual_refused(world: World, message: str) -> None:
    error = world.take_error(FormError)
    assert isinstance(error, FormError) and any(message in m for m in error.errors.values()), error.errors


@then(parsers.parse('审计日志记录了"联席会议办公室"对议定事项"{item}"的人工督办，意见为"{opinion}"'))
def audited(world: World, item: str, opinion: str) -> None:
    with world.db.sessions() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "manual_supervise")))
    assert [(e.actor, e.data.get("resolution_id"), e.comment) for e in events] == [
        ("office", _item(world, item).id, opinion)]


@then(parsers.parse('议定事项"{item}"共督办{n:d}次'))
def supervised_total(world: World, item: str, n: int) -> None:
    """Automatic and by hand, to the lead unit (the item's own count)."""
    assert _item(world, item).supervise_count == n


@then(parsers.parse('议定事项"{item}"已人工督办{n:d}次'))
def manual_count(world: World, item: str, n: int) -> None:
    with world.db.sessions() as s:
        assert supervision.counts(s, _item(world, item).id).manual == n


# ---------------------------------------------------------------------- decision pages
@then(parsers.parse('"{who}"的"{task}"页面列明：'))
def page_shows(world: World, who: str, task: str, datatable: list[list[str]]) -> None:
    found = world.find(who, task)
    with world.db.sessions() as s:
        details = {k: v for sub in subjects(s, found.context) for k, v in sub.details}
    for label, value in table(datatable).items():
        assert details.get(label) == value.strip(), (label, details.get(label))


@then(parsers.parse('"{task}"的"{label}"须选择，没有默认值'))
def choice_without_default(world: World, task: str, label: str) -> None:
    found = world.any_task(task)
    field = next(f for f in found.form if f["label"] == label)
    assert field["type"] == "enum" and field["required"] and not field.get("default"), field


# ---------------------------------------------------------------------- key items
@when(parsers.parse('"{who}"核验议定事项"{item}"，同意办结销号并附佐证材料"{file}"'))
def verify_with_evidence(world: World, who: str, item: str, file: str) -> None:
    task = world.find(who, "核验落实结果", resolution_id=_item(world, item).id)
    with world.db.transaction() as s:
        evidence = store_attachment(s, "evidence", file, b"%PDF-1.4 evidence", world.user(who), world.clock.now(),
                                    task.instance_id).id
    world.submit(who, task, {"verify_decision": "accept", "verify_comment": "材料齐全。", "evidence": evidence})


# ---------------------------------------------------------------------- working days
@then(parsers.parse('"{day}"之后{n:d}个工作日是"{result}"'))
def workday_after(world: World, day: str, n: int, result: str) -> None:
    workdays.SHARED.invalidate()
    got = workdays.workdays(f"{day}T23:59:59+08:00", n)
    assert got[:10] == result, got
    with world.db.sessions() as s:
        assert workdays.calendar_for(s).add(date.fromisoformat(day), n).isoformat() == result


@then(parsers.parse('"{day}"之前{n:d}个工作日是"{result}"'))
def workday_before(world: World, day: str, n: int, result: str) -> None:
    workday_after(world, day, -n, result)


@when(parsers.parse('系统管理员录入"{day}"{kind}，名称为"{name}"'))
def admin_sets_day(world: World, day: str, kind: str, name: str) -> None:
    with world.db.transaction() as s:
        workdays.set_day(s, date.fromisoformat(day), kind == "上班", name, "admin", world.clock.now())


@when(parsers.parse('系统管理员确认{year:d}年节假日安排已录入，依据"{source}"'))
def admin_confirms(world: World, year: int, source: str) -> None:
    with world.db.transaction() as s:
        workdays.confirm_year(s, year, source, "admin", world.clock.now())


@then(parsers.parse('办公室看到提醒"{text}"'))
def office_warned(world: World, text: str) -> None:
    with world.db.sessions() as s:
        warning = workdays.schedule_warning(s, world.local_now().date())
    assert warning and text in warning, warning


@then("办公室不再看到节假日安排未录入的提醒")
def office_not_warned(world: World) -> None:
    with world.db.sessions() as s:
        assert workdays.schedule_warning(s, world.local_now().date()) is None


# ---------------------------------------------------------------------- progress, reports, bulletins
@when(parsers.parse('"联席会议办公室"发起"{process}"'))
def office_starts(world: World, process: str) -> None:
    # Other processes the office starts (联席会议 …) go by the world's table, as the shared step does.
    key = {"进展报送": "progress_round", "阶段性落实情况报告": "interim_report", "督办通报": "bulletin"}.get(
        process) or world.process_key(process)
    world.remember_instance(key, world.start("office", key))


def _round(world: World) -> ProgressRound:
    with world.db.sessions() as s:
        rnd = s.scalars(select(ProgressRound).order_by(ProgressRound.id.desc())).first()
    assert rnd is not None, "没有进展报送"
    return rnd


@then(parsers.parse('本轮进展报送截至"{day}"，应报{n:d}项'))
def round_scope(world: World, day: str, n: int) -> None:
    rnd = _round(world)
    assert (rnd.cutoff.isoformat(), rnd.expected) == (day, n), (rnd.cutoff, rnd.expected)


@when(parsers.parse('"{unit}"报送议定事项"{item}"的落实进展"{body}"'))
def report_progress(world: World, unit: str, item: str, body: str) -> None:
    world.fill(unit, "报送落实进展", {"落实进展": body}, resolution_id=_item(world, item).id)


@then(parsers.parse('本轮进展报送已截止：已报{reported:d}项，未报送的单位为"{units}"'))
def round_closed(world: World, reported: int, units: str) -> None:
    rnd = _round(world)
    assert rnd.status == "closed" and rnd.reported == reported, (rnd.status, rnd.reported)
    notes = world.notifications("office", "告知")
    assert any(f"未报送：{units}" in n.body for n in notes), [n.body for n in notes]


@then(parsers.parse('议定事项"{item}"截至"{day}"的最新进展为"{body}"'))
def latest_progress(world: World, item: str, day: str, body: str) -> None:
    with world.db.sessions() as s:
        report = s.scalars(select(ProgressReport).where(
            ProgressReport.resolution_id == _item(world, item).id, ProgressReport.kind == "progress")
            .order_by(ProgressReport.id.desc())).first()
        row = next(iter_ledger_rows(s, LedgerFilter.parse({"q": _item(world, item).number}), world.clock.now()))
    assert report is not None and report.as_of is not None and report.as_of.isoformat() == day
    assert row.value("progress") == body == report.body


def _latest(world: World, model: type[InterimReport] | type[Bulletin]) -> Any:
    with world.db.sessions() as s:
        row = s.scalars(select(model).order_by(model.id.desc())).first()
    assert row is not None
    return row


@then(parsers.parse('阶段性落实情况报告已报送，文号为"{number}"，状态为"{status}"'))
def interim_issued(world: World, number: str, status: str) -> None:
    from meeting.statuses import IssuedDocStatus

    report = _latest(world, InterimReport)
    assert (report.number, report.status) == (number, IssuedDocStatus.from_label(status)), (report.number, report.status)


@then(parsers.parse('阶段性落实情况报告是Word公文，写明"{text}"'))
def interim_document(world: World, text: str) -> None:
    report = _latest(world, InterimReport)
    body = _docx_text(world, report.document_id)
    assert text in body, body[:600]


@then(parsers.parse('督办通报已印发，期号为"{number}"'))
def bulletin_issued(world: World, number: str) -> None:
    bulletin = _latest(world, Bulletin)
    assert bulletin.status == "issued" and bulletin.number == number, (bulletin.status, bulletin.number)


@then(parsers.parse('督办通报是Word公文，写明"{text}"'))
def bulletin_document(world: World, text: str) -> None:
    body = _docx_text(world, _latest(world, Bulletin).document_id)
    for part in text.split("、"):
        assert part in body, (part, body[:800])


# ---------------------------------------------------------------------- the ledger export
@then(parsers.parse('导出的督办台账第1行为"{title}"，第2行写明制表单位和截至日期"{day}"'))
def export_title(world: World, title: str, day: str) -> None:
    sheet = _export(world)
    assert sheet.cell(1, 1).value == title
    assert "制表单位：汉滨区社会救助联席会议办公室" in sheet.cell(2, 1).value
    assert any(f"截至日期：{day}" in str(c.value or "") for c in sheet[2])


def _export(world: World) -> Any:
    out = io.BytesIO()
    with world.db.sessions() as s:
        to_xlsx(iter_ledger_rows(s, LedgerFilter(), world.clock.now()), LedgerFilter().export_columns,
                world.clock.now(), out)
    return load_workbook(io.BytesIO(out.getvalue())).active


@then(parsers.parse('导出的督办台账中议定事项"{item}"一行为：'))
def export_row(world: World, item: str, datatable: list[list[str]]) -> None:
    sheet = _export(world)
    header = [c.value for c in sheet[3]]
    number = _item(world, item).number
    found = next(r for r in sheet.iter_rows(min_row=4) if any(c.value == number for c in r))
    cells = {header[i]: c.value for i, c in enumerate(found)}
    for label, want in table(datatable).items():
        got = cells[label]
        shown = got.date().isoformat() if isinstance(got, datetime) else ("" if got is None else str(got))
        assert shown == want.strip(), (label, got)


@then(parsers.parse('"{unit}"的本单位议定事项为"{items}"'))
def unit_items(world: World, unit: str, items: str) -> None:
    code = world.unit_code(unit)
    with world.db.sessions() as s:
        got = [r.item.content for r in iter_ledger_rows(s, LedgerFilter(unit=code), world.clock.now())]
    assert sorted(got) == sorted(split_list(items)), got



@then(parsers.parse('督办台账按来源"{source}"筛选为"{items}"'))
def ledger_by_source(world: World, source: str, items: str) -> None:
    flt = LedgerFilter.parse({"source": ItemSource.from_label(source).value})
    assert not flt.errors and flt.query_string() == f"source={flt.source}"
    with world.db.sessions() as s:
        got = [r.item.content for r in iter_ledger_rows(s, flt, world.clock.now())]
    assert got == split_list(items), got
