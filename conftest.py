"""Fixtures shared by tests/ and features/, declared once here (pytest loads this root conftest for both):

- ``database``: a fresh, empty database for each test, once per backend: a SQLite file (WAL) under the test's
  ``tmp_path``, and the session's private PostgreSQL schema emptied and re-created (skipped without a server);
- ``sqlite_db``: the SQLite file only;
- ``pg_schema_url``: one private schema per session on the server ``DATABASE_URL`` names (else the local one),
  made and dropped by engine.db.private_schema;
- ``clock``: a ManualClock at bench.world.T0 (Monday 09:00 in Beijing) that tests move; nothing sleeps.

The demo data on top of a database (directory, users, processes, meetings) comes from bench/world.py. Being
the root conftest, this file also puts the repository root on ``sys.path``, so tests import ``bench``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.world import T0, pg_unreachable, postgres_url
from engine.clock import ManualClock
from engine.db import Base, Database, private_schema


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A private schema on the PostgreSQL server for this test session."""
    url = postgres_url()
    reason = pg_unreachable(url)
    if reason:
        pytest.skip(reason)
    with private_schema(url, "t") as schema_url:
        yield schema_url


def _sqlite(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path}/test.db")


def _import_models() -> None:
    """Register every table with Base.metadata before create_all / drop_all."""
    import engine.models  # noqa: F401
    import meeting.models  # noqa: F401


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database on each backend: a SQLite file in WAL mode, and a schema on the PostgreSQL server."""
    _import_models()
    if request.param == "sqlite":
        db = _sqlite(tmp_path)
    else:
        db = Database(request.getfixturevalue("pg_schema_url"))
        Base.metadata.drop_all(db.engine)
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    _import_models()
    db = _sqlite(tmp_path)
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)
