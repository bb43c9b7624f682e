"""Database plumbing: the declarative base, engines for SQLite (WAL) and PostgreSQL, sessions."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import JSON, DateTime, Engine, MetaData, Table, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def _json_dumps(value: Any) -> str:
    """A JSON column's text, compact and UTF-8 as is, by orjson (a tenth of the standard library's time per
    column). What orjson refuses goes to the standard library's encoder as before: integers beyond 64 bits and
    keys that are not text are written, dates and datetimes refused (tests/test_state_json.py). The columns hold
    plain JSON values; a UUID, enum member or dataclass, which the standard library refused, orjson writes, and
    NaN or infinity it writes as null."""
    try:
        return orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str, echo: bool = False, read_only: bool = False,
                pg_timeouts_ms: tuple[int, int] | None = None) -> Engine:
    """SQLite gets WAL, a busy timeout and, for writers, BEGIN IMMEDIATE (one writer, others queue; readers
    never block); PostgreSQL gets row locks from the commands (SELECT ... FOR UPDATE) and, with
    ``pg_timeouts_ms`` = (statement, lock), a statement_timeout and lock_timeout on every connection: the
    engine's budgets bound each command, and these make sure nothing holds or waits for a lock without end."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, json_serializer=_json_dumps,
                               connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if not read_only:
                # A save's writes go as one INSERT into a TEMP view (engine/writes.py), which opens a write
                # transaction on the connection's temp database too: kept in memory, it costs no temp file.
                cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # straight to the driver, past SQLAlchemy's layers: this runs at the start of every transaction
            conn.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, echo=echo, json_serializer=_json_dumps, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    if pg_timeouts_ms is not None:
        statement_ms, lock_ms = (int(v) for v in pg_timeouts_ms)

        @event.listens_for(engine, "connect")
        def _pg_timeouts(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {statement_ms}")
                cur.execute(f"SET lock_timeout = {lock_ms}")
            dbapi_conn.commit()

    return engine


# A pooled PostgreSQL connection unused for this long is checked with a round trip before it is handed out
# (the server may have restarted or dropped it meanwhile); one in steady use is not: pinging on every checkout
# would add a round trip to every command.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise DisconnectionError(str(exc)) from exc


class Database:
    """Engines plus session factories: ``transaction()`` is one unit of work that writes,
    ``sessions()`` a session for reading."""

    def __init__(self, url: str, echo: bool = False, pg_timeouts_ms: tuple[int, int] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pg_timeouts_ms=pg_timeouts_ms)
        self.read_engine = make_engine(url, echo=echo, read_only=True) if url.startswith("sqlite") else self.engine
        self.sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self._writers = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: the same pool's connections in autocommit while checked out (reset when returned)
        self._single_reader = (self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.is_postgres
                               else self.read_engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def single_reads(self) -> Iterator[Session]:
        """A session for reads that need no snapshot shared between them (each statement stands alone, as
        every statement does under PostgreSQL's READ COMMITTED anyway). On PostgreSQL its connection runs in
        autocommit, so a read is one round trip, without a BEGIN and a ROLLBACK round trip around the session;
        on SQLite (in-process) it is what ``sessions()`` gives. It never flushes: nothing is written through it."""
        with self._single_reader.connect() as conn, Session(conn, autoflush=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._writers() as session, session.begin():
            yield session

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def gather_statistics(self) -> None:
        """PostgreSQL: ``ANALYZE`` this application's tables, as autovacuum would soon after a bulk load. The
        tables are named: a bare ``ANALYZE`` takes every table of the database, other schemas' too, and can
        deadlock with a session dropping one of them. SQLite runs without statistics, as deployed."""
        if not self.is_postgres:
            return
        quote = self.engine.dialect.identifier_preparer.quote
        with self.engine.begin() as conn:
            tables = conn.exec_driver_sql(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = current_schema()").all()
            if tables:
                conn.exec_driver_sql("ANALYZE " + ", ".join(f"{quote(s)}.{quote(t)}" for s, t in tables))

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


def upsert(table: Table, dialect: str, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET columns``: new rows and changed ones in one statement (both
    SQLite and PostgreSQL have it)."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = make(table)
    return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in columns})


@contextmanager
def private_schema(url: str, prefix: str = "s") -> Iterator[str]:
    """A fresh schema on the PostgreSQL server at ``url``, dropped afterwards. Yields the URL with the schema
    in its search_path option, so child processes given it as DATABASE_URL work there too."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
