"""Provider statistics of household checks (what the joint meeting discusses when a department lags): per provider
department, the requests, those answered on time, the average working days taken, and the 未反馈 count — one
grouped query over the answers' (provider, created_at) index, never a loop over history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from meeting.models import CheckAnswer, HouseholdCheck, Unit
from meeting.statuses import AnswerStatus, CheckStatus


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    name: str
    requests: int
    answered: int
    on_time: int
    silent: int
    pending: int
    average_workdays: float | None

    @property
    def on_time_rate(self) -> float | None:
        done = self.answered + self.silent
        return round(100 * self.on_time / done, 1) if done else None


def provider_stats(session: Session, since: datetime | None = None, until: datetime | None = None
                   ) -> list[ProviderStats]:
    answered = CheckAnswer.status.in_((AnswerStatus.FOUND, AnswerStatus.NO_RECORD, AnswerStatus.UNVERIFIABLE))
    query = (select(CheckAnswer.provider, func.count(),
                    func.sum(case((answered, 1), else_=0)),
                    func.sum(case((CheckAnswer.on_time.is_(True), 1), else_=0)),
                    func.sum(case((CheckAnswer.status == AnswerStatus.SILENT, 1), else_=0)),
                    func.sum(case((CheckAnswer.status == AnswerStatus.PENDING, 1), else_=0)),
                    func.avg(case((answered, CheckAnswer.workdays), else_=None)))
             .group_by(CheckAnswer.provider))
    if since is not None:
        query = query.where(CheckAnswer.created_at >= since)
    if until is not None:
        query = query.where(CheckAnswer.created_at < until)
    names = dict(session.execute(select(Unit.code, Unit.name)).all())
    rows = [ProviderStats(p, names.get(p, p), int(n), int(a or 0), int(t or 0), int(s or 0), int(w or 0),
                          round(float(avg), 1) if avg is not None else None)
            for p, n, a, t, s, w, avg in session.execute(query)]
    return sorted(rows, key=lambda r: (-r.silent, r.name))


def totals(session: Session) -> dict[str, int]:
    """For the dashboard and ``demo --json``: checks completed, answers late (未反馈 or after the deadline)."""
    completed = session.scalar(select(func.count()).select_from(HouseholdCheck)
                               .where(HouseholdCheck.status == CheckStatus.RETURNED)) or 0
    late = session.scalar(select(func.count()).select_from(CheckAnswer).where(CheckAnswer.on_time.is_(False))) or 0
    return {"household_checks_completed": int(completed), "provider_answers_late": int(late)}
