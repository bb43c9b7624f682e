"""The demo's towns' cases (meeting.demo runs these after the other sources of work): at 五里镇's window an
application for two aid types, one returned by a department as 非本部门职责 and re-routed, the applicant informed and
visited back, the case's personal data shown once to its handler (logged); and an urgent case verified on site within
24 hours with 先行救助."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from meeting import cases
from meeting.models import AssistanceCase, PersonalDataView
from meeting.statuses import CaseKind, CaseStatus

if TYPE_CHECKING:
    from meeting.demo import Walkthrough


def run(w: Walkthrough) -> None:
    _referral(w)
    _urgent(w)


def _referral(w: Walkthrough) -> None:
    w.start("wuli_window", "assistance_referral", form_values={
        "applicant_name": "李四", "applicant_id_number": "11010519491231002X", "applicant_phone": "13812345678",
        "applicant_address": "五里镇安岭村三组", "applicant_village": "安岭村", "household_size": 4,
        "aid_types": ["临时救助", "就业救助"], "circumstances": "因病致贫，家中主要劳动力失业。"})
    w.do("renshe", "sign_case", {"sign_decision": "return", "return_reason": "申请人已超过法定劳动年龄，不属就业援助范围。"})
    w.do("wuli_mzb", "sign_case", {"sign_decision": "sign"})
    w.do("wuli_mzb", "handle_case", {"handling_outcome": "granted", "handling_amount": 1500,
                                     "handling_result": "给予临时救助1500元。"})
    w.do("wuli_window", "reroute_case", {"reroute_mode": "manual", "reroute_unit": "zonggonghui", "reroute_limit": 10})
    w.do("zonggonghui", "sign_case", {"sign_decision": "sign"})
    w.do("zonggonghui", "handle_case", {"handling_outcome": "granted", "handling_amount": 800,
                                        "handling_result": "纳入困难职工帮扶，发放帮扶金800元。"})
    actor = w.actor("wuli_window")
    with w.db.transaction() as s:
        case = s.scalars(select(AssistanceCase).order_by(AssistanceCase.id.desc())).first()
        assert case is not None
        cases.reveal(s, cases.viewer_for(s, actor.username, actor.groups, actor.unit), case, w.clock.now(),
                     purpose="电话告知申请人")
    w.do("wuli_window", "inform_applicant", {"informed_on": w.today(), "inform_method": "phone",
                                             "inform_summary": "临时救助1500元、困难职工帮扶金800元已发放。"})
    w.do("wuli_window", "visit_applicant", {"visited_on": w.today(), "satisfaction": "satisfied"})


def _urgent(w: Walkthrough) -> None:
    """A house fire found by the village at night: the team verifies on site within hours, the town grants
    先行救助 within its authority; the case closes."""
    w.start("wuli_team", "urgent_assistance", form_values={
        "case_source": "village", "applicant_name": "王五", "applicant_id_number": "11010519491231002X",
        "applicant_phone": "13912345678", "applicant_village": "五里村",
        "circumstances": "房屋夜间失火，家中财物损毁，一家三口无处居住。"})
    w.clock.advance(timedelta(hours=6))
    w.service.fire_due_timers(limit=100)
    w.do("wuli_team", "verify_case", {"verify_result": "confirmed", "findings": "房屋主体烧毁，已安置到村委会。",
                                      "advance_amount": 2000, "to_district": False})
    w.do("wuli_mzb", "grant_advance", {"granted_amount": 2000, "granted_on": w.today()})


def figures(s: Any) -> dict[str, Any]:
    referrals = (AssistanceCase.kind == CaseKind.REFERRAL)
    return {
        "referrals_completed": int(s.scalar(select(func.count()).select_from(AssistanceCase).where(
            referrals, AssistanceCase.status == CaseStatus.CLOSED)) or 0),
        "referrals_rerouted": int(s.scalar(select(func.count()).select_from(AssistanceCase).where(
            referrals, AssistanceCase.reroute_count > 0)) or 0),
        "urgent_cases_responded_24h": int(s.scalar(select(func.count()).select_from(AssistanceCase).where(
            AssistanceCase.kind == CaseKind.URGENT, AssistanceCase.verified_at <= AssistanceCase.verify_due_at)) or 0),
        "personal_data_views_logged": int(s.scalar(select(func.count()).select_from(PersonalDataView)) or 0),
    }
