"""Online backup and restore of a SQLite database (PostgreSQL: use pg_dump / pg_restore, see README)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.db import Database


class BackupError(Exception):
    pass


def _sqlite_path(db: Database) -> Path:
    if not db.url.startswith("sqlite:///"):
        raise BackupError("此命令只用于 SQLite；PostgreSQL 请使用 pg_dump / pg_restore（见 README）。")
    return Path(db.url[len("sqlite:///"):])


def backup(db: Database, target: Path) -> int:
    """Copy the live database into ``target`` page by page while it stays in use. Returns its size."""
    source = _sqlite_path(db)
    if target.resolve() == source.resolve():
        raise BackupError("备份文件不能是数据库本身")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
        src.backup(dst, pages=1024)
    with sqlite3.connect(tmp) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("备份文件校验失败")
    tmp.replace(target)
    return target.stat().st_size


def restore(db: Database, source_file: Path) -> None:
    """Replace the database's contents with a backup (stop the web processes and workers first)."""
    target = _sqlite_path(db)
    if not source_file.exists():
        raise BackupError(f"备份文件不存在：{source_file}")
    with sqlite3.connect(source_file) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("备份文件已损坏，未恢复")
    db.dispose()
    with sqlite3.connect(source_file) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
