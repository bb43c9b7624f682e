"""The worker and schedule commands as an operator runs them, and the embedded worker of the web process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.db import Database
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask
from engine.service import Actor
from meeting import directory
from meeting.runtime import build_service, deploy_defaults

ROOT = Path(__file__).resolve().parent.parent
OFFICE = Actor("office", frozenset({"office"}))


def fresh(url: str, clock: ManualClock) -> Database:
    import meeting.models  # noqa: F401

    db = Database(url)
    db.create_all()
    with db.transaction() as s:
        directory.seed_directory(s)
    service = build_service(db, clock)
    deploy_defaults(service)
    service.deploy([SourceFile("wait_date.bpmn", (ROOT / "tests/diagrams/wait_date.bpmn").read_bytes())], OFFICE)
    return db


def cli(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WORKFLOW_NOW_OFFSET")}
    env.update(DATABASE_URL=f"sqlite:///{db_path}", SECRET_KEY="test")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "web", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_worker_once_fires_what_is_due_in_real_time_and_logs_the_lag(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    db_path = tmp_path / "app.db"
    db = fresh(f"sqlite:///{db_path}", ManualClock(now - timedelta(hours=2)))
    service = build_service(db, ManualClock(now - timedelta(hours=2)))
    ids = [service.start("wait_date", OFFICE, {"when": (now - timedelta(hours=1)).isoformat()}).instance_id
           for _ in range(3)]
    service.start("wait_date", OFFICE, {"when": (now + timedelta(days=1)).isoformat()})
    db.dispose()
    result = cli(db_path, "worker", "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fired 3"
    assert result.stderr.count("timer fired: ") == 3
    lag = re.search(r"once: failed=0 lag n=3 p50=([0-9.]+)s", result.stderr)
    assert lag is not None and 3600 <= float(lag.group(1)) < 3700, result.stderr  # due an hour before the run
    again = cli(db_path, "worker", "--once")
    assert again.stdout.strip() == "fired 0"
    db = Database(f"sqlite:///{db_path}")
    with db.sessions() as s:
        fired = dict(s.execute(select(AuditEvent.instance_id, func.count()).where(AuditEvent.action == "timer")
                               .group_by(AuditEvent.instance_id)).all())
    db.dispose()
    assert fired == {i: 1 for i in ids}


def test_schedule_commands_add_list_and_remove_a_regular_meeting(tmp_path: Path) -> None:
    db_path = tmp_path / "app.db"
    fresh(f"sqlite:///{db_path}", ManualClock(datetime.now(UTC))).dispose()
    added = cli(db_path, "schedule", "add", "半年例会", "joint_meeting", "R/2030-06-01T09:00:00/P6M", "--as", "office")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added 半年例会: next 2030-06-01 09:00"
    listed = cli(db_path, "schedule", "list")
    assert "半年例会\tconfig\tjoint_meeting\tR/2030-06-01T09:00:00/P6M\t下次 2030-06-01 09:00\t已发起 0 次\t启用" \
        in listed.stdout
    twice = cli(db_path, "schedule", "add", "半年例会", "joint_meeting", "R/P6M")
    assert twice.returncode == 1 and "已存在" in twice.stderr
    bad = cli(db_path, "schedule", "add", "季度", "joint_meeting", "every quarter")
    assert bad.returncode == 1 and "ISO 8601" in bad.stderr
    assert cli(db_path, "schedule", "remove", "半年例会").stdout.strip() == "removed 半年例会"
    assert cli(db_path, "schedule", "list").stdout.strip() == "没有定时计划"


def test_sigterm_stops_the_worker_loop_with_exit_code_zero(tmp_path: Path) -> None:
    db_path = tmp_path / "app.db"
    fresh(f"sqlite:///{db_path}", ManualClock(datetime.now(UTC))).dispose()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{db_path}", SECRET_KEY="test")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "worker", "--interval", "0.2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "worker started"
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip().startswith("worker stopped; lag n=0")


def test_the_embedded_worker_fires_timers_in_the_web_process(tmp_path: Path) -> None:
    from web.embedded import wanted
    from web.wsgi import create_app

    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path}/app.db"
    db = fresh(url, clock)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "CLOCK": clock, "EMBEDDED_WORKER": "1",
                      "WORKER_INTERVAL": 0.05})
    embedded = app.extensions["embedded_worker"]
    try:
        service = app.extensions["workflow"]
        iid = service.start("wait_date", OFFICE, {"when": "2026-03-02T10:00:00+08:00"}).instance_id
        clock.set(datetime(2026, 3, 2, 2, 1, tzinfo=UTC))
        deadline = time.monotonic() + 20
        while service.instance(iid).next_timer_at is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        with db.sessions() as s:
            assert s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id == iid)) == 1
    finally:
        embedded.stop()
        db.dispose()
    assert not embedded.thread.is_alive()
    assert wanted(app)
    plain = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "CLOCK": clock, "EMBEDDED_WORKER": "auto"})
    assert "embedded_worker" in plain.extensions  # auto: on for SQLite
    plain.extensions["embedded_worker"].stop()
    off = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "CLOCK": clock, "EMBEDDED_WORKER": "0"})
    assert "embedded_worker" not in off.extensions
    pg = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "x",
                     "EMBEDDED_WORKER": "auto"})
    assert not wanted(pg) and "embedded_worker" not in pg.extensions
