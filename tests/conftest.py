"""Shared fixtures: real SQLite files, the machine's real PostgreSQL server, a clock that tests move."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.db import Base, Database, private_schema

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else PG_DEFAULT


def _pg_reachable(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {url}: {type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A private schema on the PostgreSQL server for this test session."""
    url = postgres_url()
    reason = _pg_reachable(url)
    if reason:
        pytest.skip(reason)
    with private_schema(url, "t") as schema_url:
        yield schema_url


def _import_models() -> None:
    import engine.models  # noqa: F401

    try:
        import meeting.models  # noqa: F401
    except ImportError:
        pass


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database on each backend: a SQLite file in WAL mode, and a schema on the PostgreSQL server."""
    _import_models()
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/test.db")
    else:
        db = Database(request.getfixturevalue("pg_schema_url"))
        Base.metadata.drop_all(db.engine)
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    _import_models()
    db = Database(f"sqlite:///{tmp_path}/test.db")
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from figures import FIGURES

    if FIGURES:
        terminalreporter.section("figures")
        for name in sorted(FIGURES):
            terminalreporter.write_line(f"{name} = {FIGURES[name]}")
