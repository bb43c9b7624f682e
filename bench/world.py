"""The demo world that the benchmarks and the tests build on, in one place.

A world is a database holding the directory of the rules (units, towns, invited departments), the demo users
(each member unit's liaison signs in with the unit code; ``office``, ``convener``, ``district``, ``designer``,
``admin``), the shipped processes deployed and, when asked for, joint meetings driven through the service layer
by the people who would do each step, with a ManualClock moved forward (never slept). The stages build on each
other:

``populate(db, service)``
    directory, demo users, the processes under ``processes/`` (plus extra diagrams such as bench/diagrams/).
``walkthrough(db)``
    ``populate`` on a service whose clock is a ManualClock at ``DEMO_START``, and the helper that acts as a
    named user (meeting.demo.Walkthrough).
``first_meeting(w)``
    meeting.demo's whole joint meeting: three items, every one closed (one late, one after an extension).
``second_meeting(w)``
    a second meeting whose five items end up green, yellow, red, reported and closed (the monitoring pages).

Used by bench/run.py, tests/test_monitor_domain.py, tests/web_support.py and the monitoring tests over HTTP and in
the browser. It imports nothing from pytest, so ``make bench`` runs without the test tools; the product modules
are imported inside the functions, so the root conftest.py can import the constants below cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.clock import ManualClock
    from engine.db import Database
    from engine.loader import SourceFile
    from engine.service import WorkflowService
    from meeting.demo import Walkthrough

# Where the clock of the tests and the features starts: Monday 2 March 2026, 09:00 in Beijing.
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
# The PostgreSQL server used when DATABASE_URL names none.
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
PASSWORD = "demo123"  # meeting.directory.DEMO_PASSWORD: every demo user's password

SECOND_TITLE = "2026年第二次社会救助联席会议"
SECOND_MINUTES = "汉救联纪〔2026〕2号"  # the register's second 纪要 number of the year


# ---------------------------------------------------------------------------------------------- databases
def postgres_url() -> str:
    """The PostgreSQL server of tests and benchmarks: ``DATABASE_URL`` when it names one, else the local one."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else PG_DEFAULT


def pg_unreachable(url: str) -> str | None:
    """None when the server at ``url`` answers, else why not (a skip reason naming PostgreSQL)."""
    try:
        import psycopg

        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {url}: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------- the stages
def populate(db: Database, service: WorkflowService, password_hash: str | None = None,
             sources: Sequence[SourceFile] = ()) -> None:
    """Directory, demo users and every shipped process deployed, plus ``sources``; the schema must exist.

    ``password_hash`` is stored for every demo user (hash ``PASSWORD`` once: argon2 is slow on purpose);
    without it the users have no password and act through the service layer or API tokens only."""
    from meeting import directory
    from meeting.runtime import deploy_defaults

    with db.transaction() as s:
        directory.seed_directory(s)
        directory.create_demo_users(s, None if password_hash is None else lambda _p: password_hash,
                                    now=service.now())
    deploy_defaults(service)
    if sources:
        service.deploy(list(sources))


def walkthrough(db: Database, clock: ManualClock | None = None) -> Walkthrough:
    """``populate`` on a new service with ``clock`` (default: a ManualClock at meeting.demo.DEMO_START)."""
    from engine.clock import ManualClock
    from meeting.demo import DEMO_START, Walkthrough
    from meeting.runtime import build_service

    clock = clock or ManualClock(DEMO_START)
    service = build_service(db, clock)
    populate(db, service)
    return Walkthrough(db, service, clock)


def planned_meeting(w: Walkthrough, title: str = "第一次全体会议") -> str:
    """A joint meeting planned by the office and approved by the convener, no topics: its 17 attendance replies
    are open. Returns the instance id."""
    iid = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": title, "meeting_date": w.today(7),
                                  "meeting_place": "区民政局三楼会议室", "topic_ids": [], "invited_units": []})
    w.do("convener", "approve_plan", {"plan_decision": "approve"})
    return iid


def first_meeting(w: Walkthrough) -> dict[str, Any]:
    """meeting.demo's joint meeting, run to its end; returns meeting.demo.summary's figures.

    Topics of 区财政局, 区人社局 and 区医保局; 区统计局 asks for leave; three items: 区财政局's (重点事项) closed
    when the minutes are issued, with 佐证材料 and the convener's approval, 区人社局's (重点事项, 20 days; its co-unit
    区统计局 never answers and is recorded 未反馈) reminded, sent a 督办函 at its deadline, supervised by hand, refused an
    extension asked late and closed 21 days after the issue, 区医保局's (25 days, extended to 40) closed 21 days after
    the issue; a round of 月报, a 阶段性落实情况报告 and 督办通报 第1期 (meeting/demo_supervision.py); one major issue
    decided by the district."""
    from meeting.demo import _run

    return _run(w)


@dataclass(frozen=True)
class Scenario:
    first_meeting_instance: str
    second_meeting_instance: str
    second_meeting_id: int
    items: dict[str, int]  # lead unit -> resolution id of the second meeting
    spare_instance: str  # a topic proposal waiting for screening (for suspend / resume / cancel)


def second_meeting(w: Walkthrough) -> Scenario:
    """After ``first_meeting``: a second meeting with five items. At the end (7 days and an hour after the
    meeting; deadlines count from the meeting day) they are: 区住建局 green (deadline 30 days after the meeting),
    区民政局 yellow (9 days: due in under 3), 区财政局 red (5 days: overdue), 区教体局 closed, 区人社局
    reported and waiting for the office's check (20 days: green). 区审计局 asked for leave; 老城街道办 was invited."""
    from sqlalchemy import select

    from meeting import directory
    from meeting.demo import _propose, _topic_id, answer_comments, draft_minutes
    from meeting.models import Meeting, ResolutionItem

    with w.db.sessions() as s:
        first = s.scalar(select(Meeting.instance_id).order_by(Meeting.id))
    assert first is not None, "second_meeting runs after first_meeting"

    topics = {"zhujian": _propose(w, "zhujian", "困难群众住房救助衔接"),
              "minzheng": _propose(w, "minzheng", "临时救助“先行救助”机制")}
    for instance in topics.values():
        w.do("office", "screen", {"screen_decision": "accept"}, topic_id=_topic_id(w, instance))
    topic_ids = [_topic_id(w, topics[u]) for u in ("zhujian", "minzheng")]
    meeting_instance = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": SECOND_TITLE,
                                  "meeting_date": w.today(7), "meeting_place": "区政府第二会议室",
                                  "topic_ids": topic_ids, "invited_units": ["laocheng"]})
    w.do("convener", "approve_plan", {"plan_decision": "approve"})
    with w.db.sessions() as s:
        attendees = [*directory.member_unit_codes(s), "laocheng"]
    for code in attendees:
        reply = ({"attendance": "leave", "leave_reason": "参加省级督查。"} if code == "shenji"
                 else {"attendance": "attend", "attendee_name": f"{code}负责同志"})
        w.do(code, "confirm_attendance", reply, attendee=code)
    w.advance(7.1)
    w.do("office", "sign_in", {"presider_name": "召集人（区民政局主要负责人）"})
    # Deadlines from the meeting day; 7 days later (the last advance below) 区住建局 and 区人社局 are green,
    # 区民政局 yellow, 区财政局 red and 区教体局 closed.
    w.do("office", "record_outcome", {
        "resolution_items": [
            {"content": "将住房困难低保家庭纳入公租房优先保障。", "lead_unit": "zhujian",
             "co_units": ["minzheng", "caizheng"], "deadline": w.today(30), "topic_id": topic_ids[0]},
            {"content": "建立临时救助“先行救助、事后补审”制度。", "lead_unit": "minzheng", "co_units": [],
             "deadline": w.today(9), "topic_id": topic_ids[1]},
            {"content": "-追加拨付临时救助备用金 50 万元。", "lead_unit": "caizheng",
             "co_units": ["renshe"], "deadline": w.today(5)},
            {"content": "组织救助政策进校园宣传。", "lead_unit": "jiaoti", "co_units": [], "deadline": w.today(12)},
            {"content": "开展低保对象就业技能培训。", "lead_unit": "renshe", "co_units": ["yibao"],
             "deadline": w.today(20)},
        ],
        "major_topics": [], "deferred_topics": [],
        "outcome_summary": "会议审议了两个议题，形成议定事项五项。",
    })
    draft_minutes(w, "一、会议议定事项如下。\n二、各单位抓好落实。")
    answer_comments(w)  # every attending unit answers at once: no time passes before the minutes are issued
    w.do("convener", "approve_minutes", {"minutes_decision": "approve"})
    with w.db.sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.title == SECOND_TITLE))
        assert meeting is not None
        items = {i.lead_unit: i.id for i in s.scalars(select(ResolutionItem).where(
            ResolutionItem.meeting_id == meeting.id))}
        meeting_id = meeting.id
    # 区教体局: closed after its report; 区人社局: reported (waits for the office), its co-operating unit answered.
    w.do("jiaoti", "implement", {"report_action": "report", "result_body": "已在 12 所学校开展宣传。"},
         resolution_id=items["jiaoti"])
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=items["jiaoti"])
    w.do("yibao", "co_input", {"co_opinion": "已提供参保信息。"}, resolution_id=items["renshe"])
    w.do("renshe", "implement", {"report_action": "report", "result_body": "培训 3 期 150 人。"},
         resolution_id=items["renshe"])
    w.advance(7)
    spare = _propose(w, "fupin", "扶贫与低保政策衔接")
    w.clock.advance(timedelta(hours=1))
    return Scenario(first, meeting_instance, meeting_id, items, spare)


def monitoring_scenario(w: Walkthrough) -> Scenario:
    """``first_meeting`` then ``second_meeting``: the data of the monitoring tests over HTTP and in the browser."""
    first_meeting(w)
    return second_meeting(w)
