"""One table of statuses: every status reads one way everywhere, and the database admits only known values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import engine.models  # noqa: F401
from engine.db import Base, Database
from engine.errors import ActionError
from engine.migrate import upgrade
from meeting.context import subjects
from meeting.directory import seed_directory
from meeting.ledger import FILTER_STATUSES, LedgerFilter, ledger_rows
from meeting.models import Meeting, ResolutionItem, Topic
from meeting.statuses import (
    LABEL_TABLES,
    InstanceStatus,
    Light,
    MeetingStatus,
    ResolutionStatus,
    TopicStatus,
)

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_each_table_gives_every_status_one_distinct_label() -> None:
    for table in LABEL_TABLES.values():
        labels = [member.label for member in table]
        assert all(labels) and len(set(labels)) == len(labels), table.__name__
        for member in table:
            assert table.from_label(member.label) is member
            assert table.label_of(member.value) == member.label


def test_unknown_values_are_shown_as_they_are_and_unknown_labels_refused() -> None:
    assert MeetingStatus.label_of("archived") == "archived"
    assert MeetingStatus.label_of(None) == ""
    with pytest.raises(KeyError):
        MeetingStatus.from_label("已结束")


def test_the_words_that_used_to_disagree_now_agree() -> None:
    # Context cards said 落实中 and the ledger 办理中; a closed meeting was 已办结 on task pages and 已结束 in the
    # meeting list; minutes awaiting the convener were 起草中 on one page and 待审签 in the rules' steps.
    assert ResolutionStatus.IN_PROGRESS.label == "落实中"
    assert MeetingStatus.CLOSED.label == "已办结"
    assert MeetingStatus.APPROVED.label == "方案已审定"
    assert Light.CLOSED.label == ResolutionStatus.CLOSED.label
    assert InstanceStatus.RUNNING.label == "办理中"
    assert FILTER_STATUSES["in_progress"] == "落实中"


def _check_constraints(db: Database) -> dict[tuple[str, str], list[str]]:
    """(table, constraint name) -> the quoted values of the constraint, as the database reports it."""
    found = {}
    inspector = sa.inspect(db.engine)
    for table in inspector.get_table_names():
        for check in inspector.get_check_constraints(table):
            found[(table, check["name"])] = sorted(re.findall(r"'([^']*)'", check["sqltext"]))
    return found


def _declared() -> dict[tuple[str, str], list[str]]:
    declared = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                declared[(table.name, str(constraint.name))] = sorted(
                    re.findall(r"'([^']*)'", str(constraint.sqltext)))
    return declared


def test_models_declare_a_named_check_on_every_status_column() -> None:
    declared = _declared()
    assert declared[("meetings", "ck_meetings_status")] == sorted(MeetingStatus.values())
    assert declared[("attendance", "ck_attendance_reply")] == sorted(
        ["pending", "attend", "substitute", "leave", "unanswered"])
    assert declared[("attendance", "ck_attendance_sign_in")] == sorted(["present", "substitute", "absent"])
    assert {table for table, _ in declared} >= {
        "topics", "meetings", "attendance", "resolution_items", "extension_requests", "major_issues", "minutes",
        "implementation_reports", "membership_changes", "minutes_comments", "topic_calls", "topic_call_replies",
        "document_numbers"}


def test_sqlite_migrations_create_the_checks_the_models_declare(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/m.db")
    upgrade(db)
    assert _check_constraints(db) == _declared()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # the rebuild turned them back on
    db.dispose()


def test_postgres_migrations_create_the_checks_the_models_declare(pg_schema_url: str) -> None:
    db = Database(pg_schema_url)
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db)
    found = _check_constraints(db)
    db.dispose()
    assert found == _declared()


def _topic(session: Session, status: str) -> Topic:
    topic = Topic(title="议题", unit_code="caizheng", status=status, created_at=NOW, updated_at=NOW)
    session.add(topic)
    session.flush()
    return topic


def test_the_database_refuses_a_status_no_enum_knows(database: Database) -> None:
    with database.transaction() as s:
        seed_directory(s)
    with pytest.raises(IntegrityError), database.transaction() as s:
        _topic(s, "archived")
    with database.transaction() as s:
        topic = _topic(s, TopicStatus.ACCEPTED)
        topic_id = topic.id
    with database.sessions() as s:
        # Stored as the plain string: existing rows and queries are unchanged.
        assert s.execute(sa.text("SELECT status FROM topics WHERE id = :id"), {"id": topic_id}).scalar() == "accepted"


def _item(status: str = ResolutionStatus.IN_PROGRESS) -> ResolutionItem:
    return ResolutionItem(number="HY-2026-01-01", content="建立台账", lead_unit="renshe", deadline=NOW,
                          status=status, created_at=NOW)


def test_a_closed_item_is_closed_once() -> None:
    item = _item()
    item.close(NOW)
    assert (item.status, item.closed_at) == (ResolutionStatus.CLOSED, NOW)
    with pytest.raises(ActionError, match="已办结销号"):
        item.close(NOW)
    with pytest.raises(ActionError):
        item.report()
    assert item.light(NOW) is Light.CLOSED


def test_a_plan_is_approved_only_while_it_waits_for_the_convener() -> None:
    meeting = Meeting(year=2026, seq=1, title="会议", meeting_at=NOW, status=MeetingStatus.PLANNED)
    meeting.review_plan(approved=False)
    assert meeting.status == MeetingStatus.PLANNED
    meeting.review_plan(approved=True)
    assert meeting.status == MeetingStatus.APPROVED
    with pytest.raises(ActionError, match="不在待审定状态"):
        meeting.review_plan(approved=True)


def test_cards_and_exports_read_the_same_label(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        seed_directory(s)
        meeting = Meeting(year=2026, seq=1, title="会议", meeting_at=NOW, status=MeetingStatus.MINUTES_ISSUED,
                          created_at=NOW)
        s.add(meeting)
        s.flush()
        item = _item()
        item.meeting_id = meeting.id
        s.add(item)
        s.flush()
        card = {kind: dict(sub.details) for kind, sub in ((x.kind, x) for x in subjects(
            s, {"resolution_id": item.id, "meeting_id": meeting.id}))}
        rows = ledger_rows(s, LedgerFilter(), NOW)
    assert card["resolution"]["状态"] == rows[0].value("status") == "落实中"
    assert card["meeting"]["状态"] == "纪要已印发"
