"""The directory seeded from the rules, demo users and their groups, membership changes, notifications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.db import Database
from meeting import notify
from meeting.directory import (
    DEMO_PASSWORD,
    apply_membership_change,
    create_demo_users,
    groups_of,
    member_unit_codes,
    seed_directory,
    unit_name,
)
from meeting.models import MembershipChange, Unit, User

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/t.db")
    database.create_all()
    yield database
    database.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as s:
        seed_directory(s)
        yield s


def units_of(session: Session, kind: str) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.kind == kind).order_by(Unit.sort)))


def test_seed_has_the_seventeen_member_units_of_the_rules_with_their_duties(session: Session) -> None:
    members = units_of(session, "member")
    assert len(members) == 17
    assert all(m.duties for m in members)
    assert [m.code for m in members if m.is_lead] == ["minzheng"]
    assert unit_name(session, "minzheng") == "区民政局"
    assert "社会救助资金预算" in session.get(Unit, "caizheng").duties  # type: ignore[union-attr]
    assert "户籍" in session.get(Unit, "gongan").duties  # type: ignore[union-attr]
    assert member_unit_codes(session)[:3] == ["xuanchuan", "minzheng", "fagai"]
    assert member_unit_codes(session)[-1] == "canlian"


def test_seed_has_the_cc_recipients_and_some_towns(session: Session) -> None:
    assert {u.name for u in units_of(session, "cc")} == {
        "区委办公室", "区人大常委会办公室", "区政协办公室", "区纪委办公室", "区人武部", "区法院", "区检察院",
    }
    towns = units_of(session, "town")
    assert "laocheng" in {t.code for t in towns}
    assert all("急难" in t.duties for t in towns)


def test_seeding_twice_changes_nothing_and_keeps_edits(db: Database) -> None:
    with db.transaction() as s:
        assert seed_directory(s) > 0
        s.get(Unit, "caizheng").name = "区财政局（改）"  # type: ignore[union-attr]
    with db.transaction() as s:
        before = s.scalar(select(func.count()).select_from(Unit))
        assert seed_directory(s) == 0
        assert s.scalar(select(func.count()).select_from(Unit)) == before
        assert unit_name(s, "caizheng") == "区财政局（改）"


def test_demo_users_get_their_groups_and_only_a_password_hash(session: Session) -> None:
    created = create_demo_users(session, lambda p: f"hashed:{p[::-1]}", now=NOW)
    assert {"office", "convener", "district", "designer", "admin", "chaosong", "caizheng", "laocheng"} <= set(created)
    assert create_demo_users(session, lambda p: "other", now=NOW) == []

    assert groups_of(session, "office") == ["office", "unit:minzheng"]
    assert groups_of(session, "convener") == ["convener", "unit:minzheng"]
    assert groups_of(session, "district") == ["district"]
    assert groups_of(session, "caizheng") == ["unit:caizheng"]
    assert groups_of(session, "laocheng") == ["unit:laocheng"]
    assert groups_of(session, "chaosong") == ["cc"]
    assert groups_of(session, "nobody") == []

    office = session.scalar(select(User).where(User.username == "office"))
    assert office is not None and office.password_hash == f"hashed:{DEMO_PASSWORD[::-1]}"
    office.active = False
    assert groups_of(session, "office") == []


def test_membership_changes_update_the_member_list(session: Session) -> None:
    def change(kind: str, code: str, **kw: str) -> MembershipChange:
        row = MembershipChange(kind=kind, unit_code=code, reason="职能调整", status="approved", created_at=NOW, **kw)
        session.add(row)
        session.flush()
        return row

    session.add(Unit(code="yingji", name="区应急管理局", kind="invited", sort=301))
    session.flush()
    apply_membership_change(session, change("join", "yingji", new_duties="负责受灾人员救助的组织协调。"))
    assert member_unit_codes(session)[-1] == "yingji"
    assert session.get(Unit, "yingji").duties == "负责受灾人员救助的组织协调。"  # type: ignore[union-attr]

    joined = change("rename", "fupin", new_unit_name="区乡村振兴局")
    apply_membership_change(session, joined)
    assert unit_name(session, "fupin") == "区乡村振兴局"
    assert joined.status == "applied"

    apply_membership_change(session, change("leave", "jingmao"))
    assert "jingmao" not in member_unit_codes(session)
    assert len(member_unit_codes(session)) == 17


def test_notifications_reach_the_group_and_are_read_per_user(session: Session) -> None:
    notify.notify(session, "unit:caizheng", "task", "会议通知", "请回复回执", "/meetings/1", NOW)
    notify.notify(session, "office", "info", "办公室消息", "", None, NOW + timedelta(minutes=1))
    notify.notify(session, "user:caizheng", "info", "个人消息", "", None, NOW + timedelta(minutes=2))
    session.flush()

    groups = ["unit:caizheng"]
    assert notify.unread_count(session, "caizheng", groups) == 2
    titles = [v.notification.title for v in notify.list_for(session, "caizheng", groups)]
    assert titles == ["个人消息", "会议通知"]

    first = notify.list_for(session, "caizheng", groups)[1].notification.id
    assert notify.mark_read(session, "caizheng", groups, NOW, [first]) == 1
    assert notify.unread_count(session, "caizheng", groups) == 1
    # Another liaison of the same unit still has it unread.
    assert notify.unread_count(session, "caizheng2", groups) == 1
    office_note = notify.list_for(session, "office", ["office"])[0].notification.id
    assert notify.mark_read(session, "caizheng", groups, NOW, [office_note]) == 0
    assert notify.mark_read(session, "caizheng", groups, NOW) == 1
    assert notify.unread_count(session, "caizheng", groups) == 0
