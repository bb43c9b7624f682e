"""``Database.gather_statistics`` analyzes the application's own tables only: another schema on the same
server, even one whose table a session holds locked (as ``DROP SCHEMA … CASCADE`` does), neither waits for it
nor deadlocks with it. A bare ``ANALYZE`` took every table of the database and deadlocked in CI with a test
process dropping its schema."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from bench.world import T0
from engine.db import Database, private_schema
from meeting.models import User


def _reltuples(db: Database, table: str) -> float:
    with db.sessions() as s:
        return float(s.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}))


def test_statistics_of_own_tables_while_another_schemas_table_is_locked(database: Database) -> None:
    if not database.is_postgres:
        database.gather_statistics()  # SQLite runs without statistics: nothing to do, nothing fails
        return
    with database.transaction() as s:
        s.add(User(username="analyze_probe", display_name="统计", created_at=T0))
    assert _reltuples(database, "users") == -1  # never analyzed
    plain = database.url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    with private_schema(plain, "o") as other_url:
        other = other_url.split("search_path%3D")[1]
        with psycopg.connect(plain, autocommit=True) as setup:
            setup.execute(f"CREATE TABLE {other}.held (id int)")
        with psycopg.connect(plain) as holder:
            holder.execute(f"LOCK TABLE {other}.held IN ACCESS EXCLUSIVE MODE")
            timed = Database(database.url, pg_timeouts_ms=(10_000, 2_000))
            try:
                timed.gather_statistics()  # a bare ANALYZE waited here and failed on the lock timeout
            finally:
                timed.dispose()
            holder.rollback()
    assert _reltuples(database, "users") >= 1
