"""The item counters the dashboard reads (``resolution_tallies``) follow every change of the items, made by any
code, on SQLite and PostgreSQL; and the dashboard's figures from them are what counting the items one by one
gives (meeting/tallies.py, meeting/monitoring.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from bench.lists import add_resolutions
from bench.world import T0
from engine.db import Database
from meeting import directory
from meeting.models import ResolutionCoUnit, ResolutionItem, ResolutionTally, light_at
from meeting.monitoring import dashboard
from meeting.statuses import ItemSource, Light, ResolutionStatus

ITEMS = 420  # the first 300 led by 区医保局 (bench/lists.py), the rest by the other units


@pytest.fixture
def items(database: Database) -> Database:
    with database.transaction() as s:
        directory.seed_directory(s)
    add_resolutions(database, ITEMS, T0)
    return database


def counted(db: Database) -> tuple[dict[tuple[str, str, str], int], dict[tuple[str, str, str], int]]:
    """The tallies, and the same counted from the items."""
    with db.sessions() as s:
        kept = {(u, src, st): n for u, src, st, n in s.execute(
            select(ResolutionTally.lead_unit, ResolutionTally.source, ResolutionTally.status,
                   ResolutionTally.items)) if n}
        truth = {(u, src, st): n for u, src, st, n in s.execute(
            select(ResolutionItem.lead_unit, ResolutionItem.source, ResolutionItem.status, func.count())
            .group_by(ResolutionItem.lead_unit, ResolutionItem.source, ResolutionItem.status))}
    return kept, truth


def test_the_tallies_follow_inserts_changes_and_deletes(items: Database) -> None:
    db = items
    kept, truth = counted(db)
    assert kept == truth and sum(kept.values()) == ITEMS
    item = ResolutionItem
    open_ = item.status.in_(ResolutionStatus.open())
    steps = [
        # closed by hand, as ResolutionItem.close does
        update(item).where(open_, item.id % 5 == 0).values(status=ResolutionStatus.CLOSED, closed_at=T0),
        # handed to another lead unit (a merge of units)
        update(item).where(item.lead_unit == "yibao", item.id % 2 == 1).values(lead_unit="minzheng"),
        # re-labelled 来源
        update(item).where(item.id % 7 == 0).values(source=ItemSource.PETITION),
        # re-opened (退回整改 after 办结)
        update(item).where(item.status == ResolutionStatus.CLOSED, item.id % 3 == 0)
        .values(status=ResolutionStatus.RETURNED, closed_at=None),
        # a change of nothing counted
        update(item).where(item.id % 2 == 0).values(remind_count=item.remind_count + 1),
    ]
    for step in steps:
        with db.transaction() as s:
            assert s.execute(step).rowcount > 0
        kept, truth = counted(db)
        assert kept == truth, step
    with db.transaction() as s:
        doomed = select(item.id).where(item.id % 4 == 1).scalar_subquery()
        s.execute(delete(ResolutionCoUnit).where(ResolutionCoUnit.resolution_id.in_(doomed)))
        s.execute(delete(item).where(item.id.in_(doomed)))
    kept, truth = counted(db)
    assert kept == truth and sum(kept.values()) == ITEMS - ITEMS // 4


def test_a_rolled_back_change_leaves_the_tallies_as_they_were(items: Database) -> None:
    before, _ = counted(items)
    with pytest.raises(RuntimeError), items.transaction() as s:
        s.execute(update(ResolutionItem).values(status=ResolutionStatus.CLOSED, closed_at=T0))
        raise RuntimeError("取消")
    assert counted(items)[0] == before


def test_the_dashboard_from_the_tallies_counts_what_the_items_say(items: Database) -> None:
    now = T0 + timedelta(hours=5)  # between the items' deadlines, some red, some yellow
    with items.sessions() as s:
        rows = list(s.execute(select(ResolutionItem.lead_unit, ResolutionItem.status, ResolutionItem.deadline,
                                     ResolutionItem.created_at, ResolutionItem.closed_at, ResolutionItem.source)
                              .where(ResolutionItem.status != ResolutionStatus.DRAFT)))
        for source in (None, ItemSource.MINUTES.value, ItemSource.PETITION.value):
            board = dashboard(s, now, source=source)
            chosen = [r for r in rows if source is None or r.source == source]
            lights = Counter(light_at(r.status, as_utc(r.deadline), now).value for r in chosen)
            assert board.lights == {light.value: lights.get(light.value, 0) for light in Light.of_items()}
            open_rows = [r for r in chosen if r.status in ResolutionStatus.open()]
            assert board.open == len(open_rows)
            overdue = Counter(r.lead_unit for r in open_rows if as_utc(r.deadline) < now)
            assert {u.code: u.overdue for u in board.units if u.overdue} == dict(overdue)
            closed = [r for r in chosen if r.status == ResolutionStatus.CLOSED]
            assert {u.code: u.closed for u in board.units if u.closed} == dict(Counter(r.lead_unit for r in closed))
            days = [(as_utc(r.closed_at) - as_utc(r.created_at)).total_seconds() / 86400 for r in closed]
            assert board.avg_days_to_close == (round(sum(days) / len(days), 1) if days else None)
        every = Counter((r.source, r.status == ResolutionStatus.CLOSED) for r in rows)
        assert dashboard(s, now).by_source[ItemSource.MINUTES.value] == (every[("minutes", False)],
                                                                        every[("minutes", True)])


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=T0.tzinfo)
