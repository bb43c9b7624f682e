"""The demo's household check (meeting.demo runs it after the towns' cases): 五里镇's 民政办 asks, with the signed
授权书, about a household applying for 最低生活保障; five provider departments answer in their own forms and 区总工会
stays silent past its deadline (recorded as 未反馈, the check going on); the 核对 office reviews the report and it
goes back to the town. Then the month's 动态复核 of the town's rolls (that one household): 汉滨公安分局 uploads its list
unchanged and the others stay silent."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.attachments import store_attachment
from meeting import check_batch, check_stats
from meeting.models import HouseholdBatch

if TYPE_CHECKING:
    from meeting.demo import Walkthrough

DEADLINE_DAYS = 15  # past five working days whatever the holidays


def request(w: Walkthrough, aid_type: str = "最低生活保障", applicant: str = "陈明") -> str:
    """五里镇's 民政办 asks about a household, with the signed 授权书; the instance id."""
    with w.db.transaction() as s:
        authorization = store_attachment(s, "authorization", "授权书.pdf", b"%PDF-1.4 signed authorization",
                                         "wuli_mzb", w.clock.now()).id
    return w.start("wuli_mzb", "household_check", form_values={
        "check_aid_type": aid_type, "applicant_name": applicant, "applicant_id_number": "610902198001010019",
        "applicant_phone": "13912345678", "applicant_address": "五里镇安岭村四组",
        "household_members": "刘英，610902198205050020，配偶\n陈小明，610902201008080030，子",
        "authorization": authorization})


def run(w: Walkthrough) -> None:
    request(w)
    w.do("zhujian", "answer_zhujian", {"answer_outcome": "found", "zj_properties": "五里镇安岭村四组8号，92，自住",
                                       "zj_fund_balance": 0})
    w.do("gongan", "answer_gongan", {"answer_outcome": "found", "ga_vehicles": "",
                                     "ga_members": "陈明，610902198001010019，户主\n刘英，610902198205050020，配偶"})
    w.do("renshe", "answer_renshe", {"answer_outcome": "found", "rs_employment": "灵活就业，无固定单位。",
                                     "rs_pension": 0, "rs_unemployment": 0})
    w.do("weijian", "answer_weijian", {"answer_outcome": "found", "wj_household_size": 3,
                                       "wj_births": "育有一子。"})
    w.do("canlian", "answer_canlian", {"answer_outcome": "no_record", "answer_reason": "家庭成员均未办理残疾人证。"})
    w.advance(DEADLINE_DAYS)  # 区总工会 stays silent: 催办, then 未反馈 at the deadline
    w.do("hedui", "review_report", {"review_comment": "经核对，该户无机动车辆，房产为自住住房，区总工会未反馈。"})
    _recheck(w)


def _recheck(w: Walkthrough) -> None:
    """The month's 动态复核 of 五里镇's rolls: 汉滨公安分局 uploads its list unchanged, the others stay silent."""
    w.start("wuli_mzb", "household_batch", form_values={"batch_month": w.today()[:7]})
    with w.db.sessions() as s:
        batch_id = s.scalars(select(HouseholdBatch.id).order_by(HouseholdBatch.id.desc())).first()
        assert batch_id is not None
        out = io.BytesIO()
        check_batch.write_xlsx(check_batch.provider_rows(s, batch_id, "gongan"), out, "动态复核清单")
    with w.db.transaction() as s:
        filled = store_attachment(s, "batch_file", "复核清单.xlsx", out.getvalue(), "gongan", w.clock.now()).id
    w.do("gongan", "answer_batch", {"batch_file": filled})
    w.advance(DEADLINE_DAYS)


def figures(s: Any) -> dict[str, Any]:
    return {**check_stats.totals(s), "batch_households_rechecked": check_batch.rechecked_households(s)}
