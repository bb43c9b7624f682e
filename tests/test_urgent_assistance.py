"""救急难: the actions' refusals (town staff only, identity number checked when given, the town's 先行救助 authority,
the district office's routes) and the monthly 归纳 query, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.db import Database
from engine.errors import FormError
from meeting.actions import registry
from meeting.directory import create_demo_users, seed_directory
from meeting.models import AssistanceCase, CaseHandling, Notification, Topic, Unit
from meeting.statuses import CaseKind, CaseStatus, HandlingStatus, TopicStatus
from meeting.urgent_summary import monthly_summary, totals

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
PERSON = {"case_source": "village", "applicant_name": "李四", "applicant_phone": "13912345678",
          "circumstances": "房屋失火，无处居住。"}
CONFIRMED = {"verify_result": "confirmed", "findings": "情况属实。"}


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.transaction() as s:
        seed_directory(s)
        create_demo_users(s, lambda p: "hash", now=NOW)
        yield s


def run(session: Session, action: str, data: dict[str, Any], actor: str | None = "wuli",
        now: datetime = NOW) -> dict[str, Any]:
    ctx = ActionContext(session=session, now=now, instance_id="inst-1", process_key="urgent_assistance",
                        task_id="t1", task_bpmn_id="task", data=dict(data), actor=actor)
    result = registry.get(action).fn(ctx) or {}
    session.flush()
    return result


def refused(session: Session, action: str, data: dict[str, Any], actor: str | None = "wuli") -> dict[str, str]:
    with pytest.raises(FormError) as exc:
        run(session, action, data, actor)
    return exc.value.errors


def registered(session: Session, **extra: Any) -> dict[str, Any]:
    return run(session, "urgent.register", {**PERSON, **extra})


def test_register_sets_the_deadlines_masks_and_acts_for_the_starter(session: Session) -> None:
    out = run(session, "urgent.register", {**PERSON, "applicant_id_number": "11010519491231002X",
                                           "initiator": "wuli"}, actor=None)
    case = session.get(AssistanceCase, out["case_id"])
    assert case is not None and case.kind == CaseKind.URGENT and case.status == CaseStatus.VERIFYING
    assert (case.number, case.registered_by) == ("五里镇急〔2026〕1号", "wuli")
    assert out["verify_due"] == "2026-03-03T10:00:00+08:00" and out["escalate_at"] == "2026-03-02T22:00:00+08:00"
    assert (case.id_number, case.phone) == ("11010519491231002X", "13912345678")
    assert "applicant_id_number" not in out and "applicant_phone" not in out  # kept on the case only
    assert registered(session)["case_number"] == "五里镇急〔2026〕2号"  # no identity number: allowed


def test_register_refuses_who_is_no_town_staff_and_bad_input(session: Session) -> None:
    assert "只有镇（街办）的工作人员可以登记案件" in refused(session, "urgent.register", PERSON, actor="office")["__all__"]
    errors = refused(session, "urgent.register", {**PERSON, "applicant_id_number": "110105194912310021",
                                                  "circumstances": "", "case_source": "mail"})
    assert set(errors) == {"applicant_id_number", "circumstances", "case_source"}


def test_verify_refuses_an_advance_above_the_towns_authority(session: Session) -> None:
    case_id = registered(session)["case_id"]
    errors = refused(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "advance_amount": 3001})
    assert errors == {"advance_amount": "先行救助金额超出本镇（街办）额度3000元，超出部分请报区联席会议办公室"}
    town = session.get(Unit, "wuli")
    assert town is not None
    town.advance_limit = 5000
    out = run(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "advance_amount": 5000})
    assert out == {"needs_advance": True, "needs_referral": False, "needs_district": False, "advance_limit": 5000}


def test_verify_refusals_and_an_unfounded_case(session: Session) -> None:
    case_id = registered(session)["case_id"]
    assert set(refused(session, "urgent.verify", {"case_id": case_id})) == {"verify_result", "findings"}
    assert set(refused(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "advance_amount": -1})) == {
        "advance_amount"}
    assert set(refused(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "to_district": True})) == {
        "district_reason"}
    run(session, "urgent.verify", {"case_id": case_id, "verify_result": "unfounded", "findings": "不属实。"})
    case = session.get(AssistanceCase, case_id)
    assert case is not None and (case.status, case.verified_true) == (CaseStatus.UNFOUNDED, False)
    assert case.closed_at == NOW
    assert "当前不能办理" in str(refused_any(session, "urgent.verify", {"case_id": case_id, **CONFIRMED}))


def refused_any(session: Session, action: str, data: dict[str, Any]) -> Exception:
    with pytest.raises(Exception) as exc:
        run(session, action, data)
    return exc.value


def test_grant_refusals(session: Session) -> None:
    case_id = registered(session)["case_id"]
    run(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "advance_amount": 2000})
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    errors = refused(session, "urgent.grant", {"case_id": case_id, "granted_amount": 3500, "granted_on": tomorrow},
                     actor="wuli")
    assert errors == {"granted_amount": "先行救助金额超出本镇（街办）额度3000元", "granted_on": "请填写发放日期（不晚于今天）"}
    assert set(refused(session, "urgent.grant", {"case_id": case_id, "granted_amount": 0,
                                                 "granted_on": "2026-03-01"})) == {"granted_amount", "granted_on"}
    run(session, "urgent.grant", {"case_id": case_id, "granted_amount": 1800, "granted_on": "2026-03-02"})
    case = session.get(AssistanceCase, case_id)
    assert case is not None and (case.advance_amount, case.advance_granted_by) == (1800, "wuli")


def test_the_district_office_routes(session: Session) -> None:
    case_id = registered(session)["case_id"]
    run(session, "urgent.verify", {"case_id": case_id, **CONFIRMED, "to_district": True,
                                   "district_reason": "超出镇街权限。"})
    assert set(refused(session, "urgent.district", {"case_id": case_id, "district_route": "district_aid",
                                                    "district_note": "给予区级救助。"}, "office")) == {"district_amount"}
    assert set(refused(session, "urgent.district", {"case_id": case_id, "district_route": "topic"}, "office")) == {
        "district_note"}
    assert set(refused(session, "urgent.district", {"case_id": case_id, "district_route": "x"}, "office")) == {
        "district_route"}
    run(session, "urgent.district", {"case_id": case_id, "district_route": "topic", "district_note": "提请会议研究。"},
        actor="office")
    case = session.get(AssistanceCase, case_id)
    assert case is not None and case.topic_id is not None and case.status == CaseStatus.HANDLING
    topic = session.get(Topic, case.topic_id)
    assert topic is not None and (topic.status, topic.unit_code) == (TopicStatus.ACCEPTED, "wuli")


def test_escalation_is_recorded_once_and_not_after_verification(session: Session) -> None:
    case_id = registered(session)["case_id"]
    later = NOW + timedelta(hours=12)
    run(session, "urgent.escalate", {"case_id": case_id}, actor=None, now=later)
    case = session.get(AssistanceCase, case_id)
    assert case is not None and case.escalated_at == later
    titles = list(session.scalars(select(Notification.title).where(
        Notification.recipient_group == "town:wuli:leader")))
    assert titles == ["急难案件超过12小时未核实：五里镇急〔2026〕1号"]
    other = registered(session)["case_id"]
    run(session, "urgent.verify", {"case_id": other, "verify_result": "unfounded", "findings": "不属实。"})
    run(session, "urgent.escalate", {"case_id": other}, actor=None, now=later)
    assert session.get(AssistanceCase, other).escalated_at is None  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------------ the summary
def _case(session: Session, town: str, n: int, at: datetime, **fields: Any) -> AssistanceCase:
    fields.setdefault("status", CaseStatus.VERIFYING)
    case = AssistanceCase(number=f"{town}急{n}", kind=CaseKind.URGENT, source="window", town_code=town,
                          applicant_name="某", aid_types=[], reported_at=at, verify_due_at=at + timedelta(hours=24),
                          created_at=at, reroute_count=0, **fields)
    session.add(case)
    session.flush()
    return case


def test_monthly_summary_per_town(session: Session) -> None:
    march = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    _case(session, "wuli", 1, march, verified_at=march + timedelta(hours=5), verified_true=True,
          advance_amount=2000, advance_granted_at=march + timedelta(hours=8), status=CaseStatus.CLOSED)
    late = _case(session, "wuli", 2, march, verified_at=march + timedelta(hours=30), verified_true=True,
                 escalated_at=march + timedelta(hours=12), district_reason="超出权限", advance_amount=500,
                 status=CaseStatus.DISTRICT)  # proposed, not granted: no advance counted
    session.add(CaseHandling(case_id=late.id, department="yibao", aid_type="医疗救助", limit_days=5,
                             sign_due_at=march, due_at=march, status=HandlingStatus.SIGNING, created_at=march))
    _case(session, "wuli", 3, march)  # still unverified, deadline passed by "now"
    _case(session, "wuli", 4, datetime(2026, 3, 31, 15, 30, tzinfo=UTC))  # 23:30 on 31 March in Beijing
    _case(session, "wuli", 5, datetime(2026, 2, 28, 16, 30, tzinfo=UTC))  # 00:30 on 1 March in Beijing
    _case(session, "wuli", 6, datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # 1 April in Beijing
    _case(session, "laocheng", 1, march, verified_at=march + timedelta(hours=2), verified_true=False,
          status=CaseStatus.UNFOUNDED)
    referral = _case(session, "laocheng", 2, march)
    referral.kind = CaseKind.REFERRAL  # not an urgent case
    session.flush()

    now = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
    rows = {r.town_code: r for r in monthly_summary(session, 2026, 3, now)}
    wuli = rows["wuli"]
    assert (wuli.cases, wuli.verified_in_time, wuli.escalated, wuli.late, wuli.unfounded) == (5, 1, 1, 4, 0)
    assert (wuli.advance_count, wuli.advance_total, wuli.referred, wuli.district) == (1, 2000, 1, 1)
    assert (rows["laocheng"].cases, rows["laocheng"].verified_in_time, rows["laocheng"].unfounded) == (1, 1, 1)
    assert rows["xincheng"].cases == 0  # every active town has a row
    assert totals(list(rows.values()))["cases"] == 6

    own = monthly_summary(session, 2026, 3, now, ["wuli"])
    assert [r.town_code for r in own] == ["wuli"]
    assert monthly_summary(session, 2026, 3, now, ["caizheng"]) == []  # a member unit is no town
    assert monthly_summary(session, 2026, 4, now, ["wuli"])[0].cases == 1
