"""The demo's other sources of work (meeting.demo runs these after the joint meeting): a 区政府 批示件 assigned to
two units, supervised, closed and reported back; a 信访 referral answered within its limit; a coordination request
handled by 协调函 with one unit silent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from meeting.models import AssignedMatter, CoordinationRequest, PetitionReferral
from meeting.statuses import CoordinationStatus, MatterStatus, PetitionStatus

if TYPE_CHECKING:
    from meeting.demo import Walkthrough


def run(w: Walkthrough) -> None:
    _assigned_matter(w)
    _petition(w)
    _coordination(w)


def _assigned_matter(w: Walkthrough) -> None:
    w.start("office", "assigned_matter", form_values={
        "matter_title": "做好困难群众冬春救助", "source_org": "区政府办公室", "source_kind": "instruction",
        "source_number": "汉政办阅〔2026〕8号", "instruction_text": "请民政局牵头，财政局配合，确保资金到位。",
        "instruction_leader": "王副区长", "received_on": w.today(), "time_limit": w.today(30)})
    w.do("office", "propose_handling", {"proposed_lead": "minzheng", "proposed_co": ["caizheng"],
                                        "proposed_deadline": w.today(20), "needs_meeting": "no"})
    w.do("convener", "decide_handling", {"matter_decision": "assign"})
    with w.db.sessions() as s:
        item = s.scalar(select(AssignedMatter.resolution_id).order_by(AssignedMatter.id.desc()).limit(1))
    w.do("caizheng", "co_input", {"co_opinion": "救助资金已足额拨付。"}, resolution_id=item)
    w.do("minzheng", "implement", {"report_action": "report", "result_body": "资金已全部发放到户。"},
         resolution_id=item)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=item)
    w.do("office", "draft_report", {"matter_report_body": "冬春救助资金已全部发放到户。"})
    w.do("convener", "sign_report", {"matter_report_decision": "approve"})
    w.do("district", "receive_report", {"matter_receipt_comment": "已阅。"})


def _petition(w: Walkthrough) -> None:
    w.start("xinfang", "petition_referral", form_values={
        "petition_number": "XF2026-0601", "petition_title": "低保待遇停发", "petition_content": "反映低保待遇被停发。",
        "petitioner_name": "张三丰", "petitioner_phone": "13812345678", "petition_received_on": w.today()})
    w.do("office", "assign_petition", {"petition_route": "assign", "petition_lead": "minzheng"})
    with w.db.sessions() as s:
        item = s.scalar(select(PetitionReferral.resolution_id).order_by(PetitionReferral.id.desc()).limit(1))
    w.do("minzheng", "implement", {"report_action": "report", "result_body": "经核查，停发符合规定。"},
         resolution_id=item)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=item)
    w.do("xinfang", "review_opinion", {"petition_review": "approve"})
    w.do("minzheng", "record_reply", {"reply_on": w.today(), "reply_method": "written",
                                      "reply_summary": "已出具书面答复意见。"})


def _coordination(w: Walkthrough) -> None:
    w.start("minzheng", "coordination_request", form_values={
        "coord_title": "临时救助与就业援助衔接", "coord_problem": "救助对象就业援助信息不共享。",
        "coord_units": ["caizheng", "renshe"]})
    w.do("office", "decide_coordination", {"coord_route": "letter", "coord_reply_workdays": 3})
    w.do("caizheng", "answer_letter", {"coord_answer": "同意按季度共享。"})
    w.advance(7)  # 区人社局 stays silent: recorded 未反馈 at the deadline
    w.do("office", "conclude", {"coord_result": "区财政局同意共享；区人社局未答复，已报召集人。"})


def figures(s: Any) -> dict[str, Any]:
    def count(model: Any, status: str) -> int:
        return int(s.scalar(select(func.count()).select_from(model).where(model.status == status)) or 0)

    return {
        "assigned_matters_closed": count(AssignedMatter, MatterStatus.CLOSED),
        "coordination_requests_closed": count(CoordinationRequest, CoordinationStatus.CONCLUDED),
        "petitions_answered": count(PetitionReferral, PetitionStatus.ANSWERED),
    }
