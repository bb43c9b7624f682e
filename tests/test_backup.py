"""Backup and restore round trip: every table, every row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

import engine.models  # noqa: F401
import meeting.models  # noqa: F401
from engine.db import Base, Database
from meeting.demo import run_demo

ROOT = Path(__file__).resolve().parent.parent


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            out = {}
            for table in Base.metadata.sorted_tables:
                rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
            return out
    finally:
        db.dispose()


def flask(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "web", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_backup_restore_round_trip_compares_every_table(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    run_demo(f"sqlite:///{live}")
    before = snapshot(f"sqlite:///{live}")
    assert sum(len(rows) for rows in before.values()) > 100
    backup_file = tmp_path / "backups" / "b1.db"
    result = flask("backup", str(backup_file), db=live)
    assert result.returncode == 0, result.stderr
    assert snapshot(f"sqlite:///{backup_file}") == before

    # the live database changes afterwards, then the backup is restored
    db = Database(f"sqlite:///{live}")
    with db.transaction() as s:
        s.execute(text("DELETE FROM notifications"))
        s.execute(text("UPDATE resolution_items SET status = 'in_progress'"))
    db.dispose()
    assert snapshot(f"sqlite:///{live}") != before
    assert flask("restore", str(backup_file), db=live).returncode == 1  # needs --yes
    result = flask("restore", str(backup_file), "--yes", db=live)
    assert result.returncode == 0, result.stderr
    assert snapshot(f"sqlite:///{live}") == before


def test_restore_refuses_a_corrupt_file_and_keeps_the_database(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    run_demo(f"sqlite:///{live}")
    before = snapshot(f"sqlite:///{live}")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    result = flask("restore", str(bad), "--yes", db=live)
    assert result.returncode == 1
    assert snapshot(f"sqlite:///{live}") == before
