"""The demo's 督办, between the issued minutes and the final report: the office's rules (key items get a 督办函 at
their first overdue week), three items implemented, a round of 月报, a 阶段性落实情况报告, a manual 督办, an
extension refused by the rules and a 督办通报.

The three items of the demo meeting: 区财政局's (重点事项) closed at once with 佐证材料 and the convener's approval;
区人社局's (重点事项, 20 days, co-unit 区统计局 never answers and is recorded 未反馈) reminded, overdue: the ladder
sends a 督办函 the convener signs, the office supervises by hand, an extension asked after the deadline is refused,
then it is reported and closed 21 days after the meeting; 区医保局's (25 days, extended to 40) closed after 21
days. On day 10 the office opens a round of progress reports and compiles the 阶段性报告; on day 21 it issues the
督办通报 第1期.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.attachments import store_attachment
from engine.errors import FormError
from meeting import supervision
from meeting.models import (
    Bulletin,
    InterimReport,
    ProgressReport,
    ResolutionCoUnit,
    ResolutionItem,
    SupervisionEvent,
    SupervisionLetter,
)
from meeting.rules import load_rules, save_rules
from meeting.statuses import CoUnitStatus, IssuedDocStatus, LetterStatus, ResolutionStatus, SupervisionKind

if TYPE_CHECKING:
    from meeting.demo import Walkthrough

SILENT_CO_UNIT = "tongji"  # 区统计局, co-unit of 区人社局's item, never answers
KEY_LADDER = ["letter", "report"]  # the office's rule for 重点事项: a 督办函 in the first overdue week


def set_rules(w: Walkthrough) -> None:
    with w.db.transaction() as s:
        raw = load_rules(s).as_dict()
        raw["ladders"] = {**raw["ladders"], "key": KEY_LADDER}
        save_rules(s, raw, "admin", w.clock.now())


def _evidence(w: Walkthrough, name: str, task_instance: str) -> str:
    with w.db.transaction() as s:
        return store_attachment(s, "evidence", name, b"%PDF-1.4 demo evidence", "office", w.clock.now(),
                                task_instance).id


def close_key_item(w: Walkthrough, item_id: int, evidence: str, comment: str) -> None:
    """The office verifies with 佐证材料, the convener approves the 销号."""
    task = w.task("office", "verify", resolution_id=item_id)
    w.do("office", "verify", {"verify_decision": "accept", "verify_comment": comment,
                              "evidence": _evidence(w, evidence, task.instance_id)}, resolution_id=item_id)
    w.do("convener", "approve_closing", {"closing_decision": "approve", "closing_comment": "佐证材料齐全，同意销号。"},
         resolution_id=item_id)


def progress_and_interim_report(w: Walkthrough) -> None:
    """Day 10: a round of 月报 (both open items report) and the 阶段性落实情况报告 to the district."""
    w.start("office", "progress_round")
    for unit, body in (("renshe", "台账框架已建立，已录入 180 户。"), ("yibao", "已完成医院接口测试。")):
        w.do(unit, "report_progress", {"progress_body": body})
    w.start("office", "interim_report")
    draft = w.task("office", "compile_interim")
    data = w.service.task_data(draft.id, w.actor("office"))
    w.do("office", "compile_interim", {"interim_title": data["interim_title"], "interim_body": data["interim_body"]})
    w.do("convener", "approve_interim", {"interim_decision": "approve"})
    w.do("district", "receive_interim", {"interim_receipt": "阅。请继续按月调度。"})


def overdue_item(w: Walkthrough, jobs: int) -> None:
    """区人社局's item after its deadline: the 督办函 signed, a manual 督办, an extension the rules refuse."""
    w.do("convener", "sign_letter", {"letter_decision": "sign", "letter_comment": "请区人社局主要负责人亲自督办。"},
         resolution_id=jobs)
    with w.db.transaction() as s:
        item = s.get(ResolutionItem, jobs)
        assert item is not None
        supervision.manual(s, item, SupervisionKind.SUPERVISE, item.lead_unit, "请于两个工作日内报送台账建设情况。",
                           "office", w.clock.now())
    try:
        w.do("renshe", "implement", {"report_action": "extend", "requested_deadline": w.today(10),
                                     "extension_reason": "数据核对未完成。"}, resolution_id=jobs)
    except FormError:
        w.refused_by_rule += 1  # past the deadline: the rules refuse it, nothing changes


def bulletin(w: Walkthrough) -> None:
    """督办通报 第1期 from the ledger as of today, with the suggested praise and criticism."""
    w.start("office", "bulletin")
    draft = w.task("office", "draft_bulletin")
    data = w.service.task_data(draft.id, w.actor("office"))
    w.do("office", "draft_bulletin", {key: data[key] for key in (
        "bulletin_as_of", "bulletin_period_from", "bulletin_praise", "bulletin_criticism", "bulletin_requirements")})
    w.do("convener", "approve_bulletin", {"bulletin_decision": "approve"})


def implement(w: Walkthrough, items: dict[str, int]) -> None:
    fiscal, jobs, medical = items["caizheng"], items["renshe"], items["yibao"]
    # Item 1 (重点事项) closed at once: the co-operating unit's input, the report, 佐证材料, the convener's approval.
    w.do("minzheng", "co_input", {"co_opinion": "已配合核定保障人数。"}, resolution_id=fiscal)
    w.do("caizheng", "implement", {"report_action": "report", "result_body": "预算已编制并上报。"},
         resolution_id=fiscal)
    close_key_item(w, fiscal, "预算编制报告.pdf", "材料齐全。")
    # Item 3: extension asked and approved, the co-operating unit answers.
    w.do("yibao", "implement", {"report_action": "extend", "requested_deadline": w.today(40),
                                "extension_reason": "需与市级平台对接。"}, resolution_id=medical)
    w.do("convener", "approve_extension", {"extension_decision": "approve", "extension_comment": "同意延期。"},
         resolution_id=medical)
    w.do("weijian", "co_input", {"co_opinion": "定点医院已完成接口改造。"}, resolution_id=medical)
    w.advance(7)
    progress_and_interim_report(w)
    # Item 2 runs late: its co-unit stays silent (未反馈), 催办 three days before, a 督办函 at the deadline.
    w.advance(11)
    overdue_item(w, jobs)
    bulletin(w)
    w.advance(3)
    w.do("renshe", "implement", {"report_action": "report", "result_body": "台账已建立，覆盖 320 户。"},
         resolution_id=jobs)
    close_key_item(w, jobs, "就业援助台账.pdf", "台账已建立，逾期原因已书面说明。")
    w.do("yibao", "implement", {"report_action": "report", "result_body": "一站式结算已上线。"},
         resolution_id=medical)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=medical)


def figures(s: Session, refused_by_rule: int) -> dict[str, Any]:
    def count(model: Any, *where: Any) -> int:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    issued = (IssuedDocStatus.ISSUED, IssuedDocStatus.RECEIVED)
    return {
        "co_unit_overdue_recorded": count(ResolutionCoUnit, ResolutionCoUnit.status == CoUnitStatus.SILENT),
        "escalation_letters": count(SupervisionLetter, SupervisionLetter.status == LetterStatus.ISSUED),
        "manual_supervisions": count(SupervisionEvent, SupervisionEvent.manual,
                                     SupervisionEvent.kind == SupervisionKind.SUPERVISE),
        "progress_reports": count(ProgressReport, ProgressReport.kind == "progress"),
        "interim_reports": count(InterimReport, InterimReport.status.in_(issued)),
        "extensions_refused_by_rule": refused_by_rule,
        "key_items_closed_with_evidence": count(ResolutionItem, ResolutionItem.key_item,
                                                ResolutionItem.status == ResolutionStatus.CLOSED,
                                                ResolutionItem.evidence_id.is_not(None)),
        "bulletins_issued": count(Bulletin, Bulletin.status.in_(issued)),
    }
