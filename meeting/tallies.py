"""Counters of resolution items per lead unit, 来源 and status (``resolution_tallies``), kept by database
triggers on ``resolution_items``: every insert, delete and change of lead unit, source, status or dates, from
whatever code or tool, moves them in the same transaction. The dashboard reads them (meeting/monitoring.py)
instead of counting a district's whole history on every visit.

A migration that rebuilds ``resolution_items`` (Alembic's batch mode on SQLite copies the table) drops the
triggers with it: such a migration must call ``install`` again afterwards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from engine.db import Base

_CLOSED_DAYS = {
    "sqlite": "CASE WHEN {row}.status = 'closed' AND {row}.closed_at IS NOT NULL "
              "THEN julianday({row}.closed_at) - julianday({row}.created_at) ELSE 0 END",
    "postgresql": "CASE WHEN {row}.status = 'closed' AND {row}.closed_at IS NOT NULL "
                  "THEN extract(epoch FROM {row}.closed_at - {row}.created_at) / 86400 ELSE 0 END",
}
_WATCHED = "lead_unit, source, status, created_at, closed_at"


def _add(dialect: str, row: str) -> str:
    return (f"INSERT INTO resolution_tallies (lead_unit, source, status, items, closed_days) VALUES "
            f"({row}.lead_unit, {row}.source, {row}.status, 1, {_CLOSED_DAYS[dialect].format(row=row)}) "
            "ON CONFLICT (lead_unit, source, status) DO UPDATE SET "
            "items = resolution_tallies.items + 1, "
            "closed_days = resolution_tallies.closed_days + excluded.closed_days;")


def _remove(dialect: str, row: str) -> str:
    return (f"UPDATE resolution_tallies SET items = items - 1, "
            f"closed_days = closed_days - ({_CLOSED_DAYS[dialect].format(row=row)}) "
            f"WHERE lead_unit = {row}.lead_unit AND source = {row}.source AND status = {row}.status;")


def statements(dialect: str) -> list[str]:
    """The DDL that creates (or replaces) the triggers on ``dialect``."""
    if dialect == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS resolution_tally_insert",
            "DROP TRIGGER IF EXISTS resolution_tally_delete",
            "DROP TRIGGER IF EXISTS resolution_tally_update",
            "CREATE TRIGGER resolution_tally_insert AFTER INSERT ON resolution_items BEGIN "
            f"{_add(dialect, 'NEW')} END",
            "CREATE TRIGGER resolution_tally_delete AFTER DELETE ON resolution_items BEGIN "
            f"{_remove(dialect, 'OLD')} END",
            f"CREATE TRIGGER resolution_tally_update AFTER UPDATE OF {_WATCHED} ON resolution_items BEGIN "
            f"{_remove(dialect, 'OLD')} {_add(dialect, 'NEW')} END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION resolution_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove(dialect, 'OLD')} END IF; "
            f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add(dialect, 'NEW')} END IF; "
            "RETURN NULL; END $$",
            "DROP TRIGGER IF EXISTS resolution_tally ON resolution_items",
            f"CREATE TRIGGER resolution_tally AFTER INSERT OR DELETE OR UPDATE OF {_WATCHED} "
            "ON resolution_items FOR EACH ROW EXECUTE FUNCTION resolution_tally()",
        ]
    raise ValueError(f"no tally triggers for {dialect}")


def install(connection: Any) -> None:
    """Create the triggers and count the items already there (the tallies start over from the items)."""
    for statement in statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql("DELETE FROM resolution_tallies")
    days = _CLOSED_DAYS[connection.dialect.name].format(row="resolution_items")
    connection.exec_driver_sql(
        "INSERT INTO resolution_tallies (lead_unit, source, status, items, closed_days) "
        f"SELECT lead_unit, source, status, count(*), coalesce(sum({days}), 0) FROM resolution_items "
        "GROUP BY lead_unit, source, status")


@event.listens_for(Base.metadata, "after_create")
def _created(metadata: Any, connection: Any, **kw: Any) -> None:
    """``create_all`` (tests, ``flask init`` on a new database) gets the triggers with the tables."""
    if "resolution_items" in metadata.tables and "resolution_tallies" in metadata.tables:
        install(connection)
