"""A district's history in bulk, written with SQL inserts: resolution items (with their meetings and co-operating
units), notifications and audit entries, next to bench/bulk.py's open instances and tasks. The lists the
benchmarks read (the ledger, the dashboard, notifications, the audit log, instances) then hold ``count`` rows.

As in bench/bulk.py, the measured users' own share stays the same at every size — the unit ``OWN_UNIT`` leads
``OWN_ITEMS`` items, the group ``unit:<OWN_UNIT>`` has ``OWN_NOTES`` notifications — while everyone else's
grows: what a page shows does not change with the district's history, only what lies around it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert

from engine.db import Database
from engine.models import AuditEvent
from meeting.models import Meeting, Notification, ResolutionCoUnit, ResolutionItem

OWN_UNIT = "yibao"
OWN_ITEMS, OWN_NOTES = 300, 300
ITEMS_PER_MEETING = 50
BATCH = 5000
UNITS = ("xuanchuan", "minzheng", "fagai", "fupin", "weijian", "zhujian", "jiaoti", "caizheng", "renshe",
         "jingmao", "xinfang", "shenji", "tongji", "gongan", "zonggonghui", "canlian")  # everyone but OWN_UNIT
STATUSES = ("in_progress", "in_progress", "reported", "returned", "closed", "closed", "closed")


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _item(i: int, now: datetime, meeting_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    status = STATUSES[i % len(STATUSES)]
    created = now - timedelta(days=30 + i % 700, minutes=i % 1440)
    deadline = now + timedelta(days=(i % 120) - 60, hours=i % 24)
    lead = OWN_UNIT if i < OWN_ITEMS else UNITS[i % len(UNITS)]
    row = {"id": i + 1, "number": f"B{i + 1:07d}", "meeting_id": meeting_id, "content": f"基准议定事项{i + 1}：按分工抓好落实。",
           "lead_unit": lead, "deadline": deadline, "original_deadline": None, "status": status,
           "supervise_count": i % 3, "remind_count": i % 2, "closed_at": created + timedelta(days=20)
           if status == "closed" else None, "created_at": created, "source": "minutes", "key_item": i % 10 == 0,
           "escalation": "none"}
    co = [] if i % 2 else [{"resolution_id": i + 1, "unit_code": UNITS[(i + 5) % len(UNITS)], "position": 0,
                            "deadline": deadline, "status": "pending", "remind_count": 0, "supervise_count": 0}]
    return row, co


def add_resolutions(db: Database, count: int, now: datetime) -> None:
    """``count`` issued resolution items of ``count / ITEMS_PER_MEETING`` held meetings, half with a co-unit."""
    meetings = [{"id": m + 1, "year": 2000 + m // 100, "seq": m % 100 + 1, "kind": "regular",
                 "title": f"基准会议{m + 1}", "meeting_at": now - timedelta(days=40 + m), "place": "区民政局",
                 "status": "minutes_issued", "invited_units": [], "created_at": now - timedelta(days=50 + m)}
                for m in range(-(-count // ITEMS_PER_MEETING))]
    with db.engine.begin() as conn:
        for offset in range(0, len(meetings), BATCH):
            conn.execute(insert(_table(Meeting)), meetings[offset:offset + BATCH])
    for offset in range(0, count, BATCH):
        items, co = [], []
        for i in range(offset, min(count, offset + BATCH)):
            row, links = _item(i, now, i // ITEMS_PER_MEETING + 1)
            items.append(row)
            co += links
        with db.engine.begin() as conn:
            conn.execute(insert(_table(ResolutionItem)), items)
            if co:
                conn.execute(insert(_table(ResolutionCoUnit)), co)
    _after_bulk(db)


def add_notifications(db: Database, count: int, now: datetime) -> None:
    """``count`` notifications: ``OWN_NOTES`` to the group of OWN_UNIT, the rest to the other units."""
    for offset in range(0, count, BATCH):
        rows = [{"recipient_group": f"unit:{OWN_UNIT}" if i < OWN_NOTES else f"unit:{UNITS[i % len(UNITS)]}",
                 "kind": ("task", "reminder", "supervision", "info")[i % 4], "title": f"基准通知{i + 1}",
                 "body": "请及时办理。", "link": None, "created_at": now - timedelta(minutes=count - i),
                 "emailed_at": now, "email_attempts": 0}
                for i in range(offset, min(count, offset + BATCH))]
        with db.engine.begin() as conn:
            conn.execute(insert(_table(Notification)), rows)
    _after_bulk(db)


def add_audit(db: Database, count: int, now: datetime) -> None:
    """``count`` audit entries of completed tasks, oldest first."""
    for offset in range(0, count, BATCH):
        rows = [{"at": now - timedelta(seconds=count - i), "actor": UNITS[i % len(UNITS)], "action": "complete",
                 "instance_id": f"{i:032x}", "task_id": None, "task_name": "基准步骤", "process_key": "bench_three_task",
                 "data": {"a": f"意见{i}"}, "comment": None} for i in range(offset, min(count, offset + BATCH))]
        with db.engine.begin() as conn:
            conn.execute(insert(_table(AuditEvent)), rows)
    _after_bulk(db)


def _after_bulk(db: Database) -> None:
    """PostgreSQL: ids given explicitly leave the sequences behind; and statistics, as autovacuum would soon
    gather them. (SQLite runs without statistics, as deployed.)"""
    if not db.is_postgres:
        return
    with db.engine.begin() as conn:
        for table in ("meetings", "resolution_items"):
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT coalesce(max(id), 1) FROM {table}))")
    db.gather_statistics()
