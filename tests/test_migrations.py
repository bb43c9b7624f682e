"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import engine.models  # noqa: F401
import meeting.models  # noqa: F401
from engine.db import Base, Database
from engine.migrate import upgrade


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        return list(compare_metadata(ctx, Base.metadata))


def test_sqlite_upgrade_matches_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/m.db")
    upgrade(db)
    upgrade(db)  # idempotent
    assert _diff(db) == []
    db.dispose()


def test_postgres_upgrade_matches_models(pg_schema_url: str) -> None:
    db = Database(pg_schema_url)
    Base.metadata.drop_all(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(db)
    diff = _diff(db)
    db.dispose()
    assert diff == [], diff
