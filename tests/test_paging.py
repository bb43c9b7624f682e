"""Keyset paging (engine/paging.py) on SQLite and PostgreSQL: walking a list forwards or backwards page by page
meets every row once, in the order one query gives them all, with NULLs last on both backends and rows added
meanwhile never shifting a page; bad cursors and limits are refused with a Chinese message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from engine.db import Database
from engine.paging import CursorError, Key, decode, encode, page, parse_limit

META = MetaData()
ROWS = Table("paging_probe", META, Column("id", Integer, primary_key=True),
             Column("due", DateTime(timezone=True), nullable=True), Column("unit", String(20), nullable=False))
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/paging.db" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    db = Database(url)
    META.drop_all(db.engine)
    META.create_all(db.engine)
    with db.engine.begin() as conn:  # 10 rows per due time, every 7th without one, units in turn
        conn.execute(insert(ROWS), [{"id": i, "due": None if i % 7 == 0 else T0 + timedelta(days=i // 10),
                                     "unit": "abc"[i % 3]} for i in range(1, 96)])
    yield db
    META.drop_all(db.engine)
    db.dispose()


def _walk(s: Session, keys: list[Key], limit: int, backwards: bool = False) -> list[int]:
    stmt = select(ROWS)
    seen: list[int] = []
    p = page(s, stmt, keys, limit, scalars=False)
    if backwards:  # to the last page first, then back
        while p.next_cursor:
            p = page(s, stmt, keys, limit, after=p.next_cursor, scalars=False)
        seen = [r.id for r in p.rows]
        while p.prev_cursor:
            p = page(s, stmt, keys, limit, before=p.prev_cursor, scalars=False)
            seen = [r.id for r in p.rows] + seen
        return seen
    seen += [r.id for r in p.rows]
    while p.next_cursor:
        p = page(s, stmt, keys, limit, after=p.next_cursor, scalars=False)
        assert len(p.rows) <= limit
        seen += [r.id for r in p.rows]
    return seen


@pytest.mark.parametrize("desc", [False, True])
def test_pages_meet_every_row_once_in_order_both_ways(probe: Database, desc: bool) -> None:
    keys = [Key(ROWS.c.due, desc=desc), Key(ROWS.c.unit), Key(ROWS.c.id, desc=desc)]
    with probe.sessions() as s:
        everything = [r.id for r in s.execute(select(ROWS).order_by(*(k.order_by() for k in keys)))]
        assert len(everything) == 95
        nulls = [r.id for r in s.execute(select(ROWS).where(ROWS.c.due.is_(None)))]
        assert set(everything[-len(nulls):]) == set(nulls)  # NULLs last on both backends
        for limit in (1, 7, 10, 200):
            assert _walk(s, keys, limit) == everything, limit
            assert _walk(s, keys, limit, backwards=True) == everything, limit


def test_rows_added_meanwhile_do_not_shift_the_next_page(probe: Database) -> None:
    keys = [Key(ROWS.c.due), Key(ROWS.c.id)]
    with probe.sessions() as s:
        first = page(s, select(ROWS), keys, 10, scalars=False)
    with probe.engine.begin() as conn:  # earlier than everything on the first page
        conn.execute(insert(ROWS), [{"id": 1000 + i, "due": T0 - timedelta(days=1), "unit": "a"} for i in range(5)])
    with probe.sessions() as s:
        second = page(s, select(ROWS), keys, 10, after=first.next_cursor, scalars=False)
        assert not {r.id for r in first.rows} & {r.id for r in second.rows}
        assert [r.id for r in second.rows] == [r.id for r in s.execute(
            select(ROWS).where(ROWS.c.id < 1000).order_by(ROWS.c.due.asc().nulls_last(), ROWS.c.id)
            .offset(10).limit(10))]


def test_bad_cursors_and_limits_are_refused(probe: Database) -> None:
    keys = [Key(ROWS.c.due), Key(ROWS.c.id)]
    good = encode([T0, 5])
    assert decode(good, keys) == [T0, 5]
    for bad in ("x", "!!!", encode([T0]), encode(["2026-01-01", 5]), encode([T0, "5"]), encode([T0, None]),
                encode([T0, True]), good[:-3]):
        with pytest.raises(CursorError) as info:
            decode(bad, keys)
        assert "cursor" in info.value.message
    assert parse_limit(None, 50) == 50 and parse_limit("200", 50) == 200
    for bad_limit in ("0", "201", "-1", "1e3", "²", "x" * 7):
        with pytest.raises(CursorError):
            parse_limit(bad_limit, 50)

