"""What a task of a household check is about, in words: the household (identity numbers masked — the check page
shows them to the check's handlers and logs the view), the provider's items and deadline on a department's task,
and the answers and report on the 核对 office's review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting import check_report, checks
from meeting.models import CheckAnswer, HouseholdCheck
from meeting.statuses import AnswerStatus, CheckStatus
from meeting.timeutil import format_minute

Row = tuple[str, int, str, str, list[tuple[str, str]]]


def check_details(session: Session, check: HouseholdCheck, units: dict[str, str], answers: bool
                  ) -> list[tuple[str, str]]:
    hidden = checks.masked(check)
    rows = [("核对编号", check.number), ("救助类别", check.aid_type), ("申请人", check.applicant_name),
            ("身份证号", hidden["id_number"]), ("家庭住址", check.address or "—"),
            ("家庭成员", "；".join(f"{m.get('name', '')}（{m.get('relation', '')}，{m.get('id_number', '')}）"
                              for m in hidden["members"]) or "—"),
            ("申请方", f"{units.get(check.town_code, check.town_code)}民政办" if check.town_code else "区核对办公室"),
            ("状态", CheckStatus.label_of(check.status))]
    if answers:
        for a in session.scalars(select(CheckAnswer).where(CheckAnswer.check_id == check.id).order_by(CheckAnswer.id)):
            found = "；".join(f"{label}：{text}" for label, text in check_report.finding_lines(a.provider, a.findings))
            reason = f"（理由：{a.reason}）" if a.reason else ""
            rows.append((units.get(a.provider, a.provider), f"{AnswerStatus.label_of(a.status)}"
                         f"{'：' + found if found else ''}{reason}"))
    return rows


def check_subjects(session: Session, ctx: dict[str, Any], units: dict[str, str]) -> list[Row]:
    out: list[Row] = []
    aid = ctx.get("answer_id")
    if isinstance(aid, int) and (a := session.get(CheckAnswer, aid)) is not None:
        out.append(("check_answer", a.id, "本部门核对事项", units.get(a.provider, a.provider), [
            ("核对项目", "、".join(a.items or [])), ("反馈期限", format_minute(a.due_at)),
            ("状态", AnswerStatus.label_of(a.status))]))
        ctx = {**ctx, "check_id": a.check_id}
    cid = ctx.get("check_id")
    if isinstance(cid, int) and (c := session.get(HouseholdCheck, cid)) is not None:
        out.append(("check", c.id, "家庭经济状况核对", f"{c.number} {c.applicant_name}",
                    check_details(session, c, units, answers=not isinstance(aid, int))))
    return out


def check_titles(session: Session, ids: set[int]) -> dict[int, str]:
    """Inbox titles: the check, its applicant and the identity number masked."""
    if not ids:
        return {}
    return {c.id: f"家庭经济状况核对：{c.number} {c.applicant_name}（{checks.masked(c)['id_number']}）"
            for c in session.scalars(select(HouseholdCheck).where(HouseholdCheck.id.in_(ids)))}


