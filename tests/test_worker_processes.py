"""Worker processes on the real PostgreSQL server: two ``flask --app web worker`` processes and 1,000 due timers
fire each exactly once; a worker SIGKILLed in the middle of a batch loses nothing and doubles nothing; SIGTERM
ends a worker with exit code 0. Also: e-mail copies sent by two workers at once go out once.

The timers are made due without waiting: the instances are started with the clock at "now" and timers one day
later, and the workers run with ``WORKFLOW_NOW_OFFSET`` so that their "now" is just past that due time. The lag
they report is therefore the time a burst of 1,000 simultaneous timers waits for a worker. Sizes: ``WORKER_TIMERS``
(default 1000).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.world import pg_unreachable, postgres_url
from engine.clock import ManualClock
from engine.db import Base, Database, private_schema
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask, Instance
from engine.service import Actor
from meeting.models import Notification, User
from meeting.runtime import build_service

ROOT = Path(__file__).resolve().parent.parent
TIMERS = int(os.environ.get("WORKER_TIMERS", "1000"))
OFFICE = Actor("office", frozenset({"office"}))


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A private schema of this module's own (the worker processes are given its URL)."""
    url = postgres_url()
    if reason := pg_unreachable(url):
        pytest.skip(reason)
    with private_schema(url, "w") as schema_url:
        yield schema_url


@pytest.fixture
def due_timers(pg_url: str) -> Iterator[tuple[Database, datetime, list[str]]]:
    """A fresh schema with TIMERS instances of wait_date, all waiting for the same moment one day ahead."""
    import meeting.models  # noqa: F401

    db = Database(pg_url)
    Base.metadata.drop_all(db.engine)
    db.create_all()
    now = datetime.now(UTC)
    service = build_service(db, ManualClock(now))
    service.deploy([SourceFile("wait_date.bpmn", (ROOT / "tests/diagrams/wait_date.bpmn").read_bytes())],
                   Actor("designer", frozenset({"designer"})))
    due = now + timedelta(days=1)
    ids = [service.start("wait_date", OFFICE, {"when": due.isoformat()}).instance_id for _ in range(TIMERS)]
    yield db, due, ids
    db.dispose()


def start_worker(url: str, due: datetime, name: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    offset = (due + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    env = {**os.environ, "DATABASE_URL": url, "WORKFLOW_NOW_OFFSET": f"{offset:.3f}", "SECRET_KEY": "test",
           "LOG_LEVEL": "INFO"}
    out = log.open("wb")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "worker", "--interval", "0.5",
                             "--name", name, *extra], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def fired_count(db: Database) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer")) or 0


def wait_for(db: Database, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = fired_count(db)
    while n < count and time.monotonic() < deadline:
        time.sleep(0.2)
        n = fired_count(db)
    return n


def stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def fired_by(log: Path) -> list[str]:
    return re.findall(r"timer fired: ([0-9a-f]{32}) ", log.read_text(encoding="utf-8", errors="replace"))


def assert_each_fired_once(db: Database, ids: list[str]) -> None:
    with db.sessions() as s:
        timers = dict(s.execute(select(AuditEvent.instance_id, func.count()).where(AuditEvent.action == "timer")
                                .group_by(AuditEvent.instance_id)).all())
        tasks = dict(s.execute(select(HumanTask.instance_id, func.count()).group_by(HumanTask.instance_id)).all())
        notes = dict(s.execute(select(Notification.link, func.count()).where(Notification.kind == "task")
                               .group_by(Notification.link)).all())
        task_ids = {row.instance_id: row.id for row in s.scalars(select(HumanTask))}
        waiting = s.scalar(select(func.count()).select_from(Instance).where(Instance.next_timer_at.is_not(None)))
    assert waiting == 0
    assert sorted(timers) == sorted(ids) and set(timers.values()) == {1}, "every timer fired exactly once"
    assert sorted(tasks) == sorted(ids) and set(tasks.values()) == {1}, "one task per firing"
    assert {notes.get(f"/tasks/{task_ids[i]}") for i in ids} == {1}, "one notification per firing"


def summary(log: Path) -> str:
    lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
             if "stopped" in ln or " pass: " in ln]
    return "\n".join(lines[-3:])


def test_two_worker_processes_fire_1000_due_timers_exactly_once(
        due_timers: tuple[Database, datetime, list[str]], pg_url: str, tmp_path: Path) -> None:
    db, due, ids = due_timers
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    started = time.monotonic()
    workers = [start_worker(pg_url, due, "wA", logs[0]), start_worker(pg_url, due, "wB", logs[1])]
    try:
        assert wait_for(db, TIMERS, timeout=180) == TIMERS
        elapsed = time.monotonic() - started
    finally:
        codes = [stop(w) for w in workers]
    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    split = [len(fired_by(log)) for log in logs]
    assert sum(split) == TIMERS and all(n > 0 for n in split), split
    assert_each_fired_once(db, ids)
    print(f"\n{TIMERS} timers, 2 workers: {split[0]} + {split[1]} fired in {elapsed:.1f}s (incl. start-up)")
    for name, log in zip(("wA", "wB"), logs, strict=True):
        print(f"{name}: {summary(log)}")


def test_a_sigkilled_worker_loses_nothing_and_doubles_nothing(
        due_timers: tuple[Database, datetime, list[str]], pg_url: str, tmp_path: Path) -> None:
    db, due, ids = due_timers
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    victim = start_worker(pg_url, due, "wA", logs[0], "--batch", "20")
    survivor = start_worker(pg_url, due, "wB", logs[1], "--batch", "20")
    try:
        assert wait_for(db, TIMERS // 5, timeout=120) >= TIMERS // 5
        while len(fired_by(logs[0])) == 0 and victim.poll() is None:  # make sure the victim is at work
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        at_kill = fired_count(db)
        assert wait_for(db, TIMERS, timeout=180) == TIMERS
        time.sleep(0.5)  # nothing more may arrive: a double firing would show up in the counts below
    finally:
        if victim.poll() is None:
            victim.kill()
        code = stop(survivor)
    assert code == 0, logs[1].read_text()[-2000:]
    assert_each_fired_once(db, ids)
    by_victim, by_survivor = set(fired_by(logs[0])), set(fired_by(logs[1]))
    redone = by_victim & by_survivor  # fired in the victim's uncommitted batch, rolled back, fired again
    print(f"\nSIGKILL after {at_kill} committed firings: the victim logged {len(by_victim)}, the survivor "
          f"{len(by_survivor)}; {len(redone)} rolled back with the victim's open batch and fired by the survivor")
    print(f"wB: {summary(logs[1])}")
    assert by_victim | by_survivor == set(ids)


# ---------------------------------------------------------------------------- e-mail copies, two senders
def test_two_workers_send_each_notification_by_mail_once(pg_url: str) -> None:
    from aiosmtpd.controller import Controller

    from meeting import directory
    from meeting.mailer import SmtpSettings, send_pending
    from meeting.notify import notify

    class Sink:
        def __init__(self) -> None:
            self.subjects: list[str] = []

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            content = envelope.content.decode("utf-8", "replace")  # type: ignore[attr-defined]
            self.subjects.extend(re.findall(r"^Subject: (.*)$", content, re.M))
            time.sleep(0.002)  # a slow server widens the window for doubles
            return "250 OK"

    db = Database(pg_url)
    Base.metadata.drop_all(db.engine)
    db.create_all()
    now = datetime.now(UTC)
    with db.transaction() as s:
        directory.seed_directory(s)
        directory.create_demo_users(s, None, now=now)
        for user in s.scalars(select(User)):
            user.email = f"{user.username}@example.org"
        for i in range(60):
            notify(s, "office", "supervision", f"督办 {i:02d}", "逾期。", None, now)
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = SmtpSettings("127.0.0.1", port)
        sent: list[int] = []
        threads = [threading.Thread(target=lambda: sent.append(send_pending(db, settings, now, limit=7)))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        while send_pending(db, settings, now, limit=50):
            pass
    finally:
        controller.stop()
        db.dispose()
    assert sorted(sink.subjects) == sorted({s for s in sink.subjects}) and len(sink.subjects) == 60


# ---------------------------------------------------------------------------- 催办 and 督办, two workers
def test_two_workers_remind_and_supervise_each_item_once(pg_url: str, tmp_path: Path) -> None:
    """40 resolution items, each past its reminder (3 days before) and its deadline when the workers start:
    one 催办 to the lead unit and one 督办 each to the lead unit, the office and the convener — no more."""
    from meeting import directory
    from meeting.models import Meeting, ResolutionItem
    from meeting.runtime import deploy_defaults

    db = Database(pg_url)
    Base.metadata.drop_all(db.engine)
    db.create_all()
    now = datetime.now(UTC)
    deadline = now + timedelta(days=5)
    units = ["caizheng", "renshe", "yibao", "weijian"]
    with db.transaction() as s:
        directory.seed_directory(s)
        meeting = Meeting(year=2026, seq=1, title="联席会议", meeting_at=now, status="minutes_issued", created_at=now)
        s.add(meeting)
        s.flush()
        items = [ResolutionItem(number=f"HY-2026-01-{i:02d}", meeting_id=meeting.id, content=f"事项{i}",
                                lead_unit=units[i % len(units)], deadline=deadline, status="draft", created_at=now)
                 for i in range(40)]
        s.add_all(items)
        s.flush()
        item_ids = [item.id for item in items]
    service = build_service(db, ManualClock(now))
    deploy_defaults(service)
    admin = Actor("admin", frozenset({"admin"}))
    for item_id in item_ids:
        service.start("resolution_item", admin, {"resolution_id": item_id})
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [start_worker(pg_url, deadline, "wA", logs[0]), start_worker(pg_url, deadline, "wB", logs[1])]
    try:
        assert wait_for(db, len(item_ids), timeout=120) == len(item_ids)
        time.sleep(0.5)  # a second firing of any item would land in the counts below
    finally:
        codes = [stop(w) for w in workers]
    assert codes == [0, 0]
    with db.sessions() as s:
        notes = s.execute(select(Notification.link, Notification.kind, Notification.recipient_group)
                          .where(Notification.kind.in_(("reminder", "supervision")))).all()
        counts = dict(s.execute(select(ResolutionItem.id, ResolutionItem.supervise_count)).all())
    db.dispose()
    for i, item_id in enumerate(item_ids):
        mine = sorted((kind, group) for link, kind, group in notes if link == f"/resolutions/{item_id}")
        lead = f"unit:{units[i % len(units)]}"
        assert mine == sorted([("reminder", lead), ("supervision", lead), ("supervision", "office"),
                               ("supervision", "convener")]), (item_id, mine)
    assert set(counts.values()) == {1}
    print(f"\n40 overdue items, 2 workers: {[len(fired_by(log)) for log in logs]} firings; "
          f"{len(notes)} notifications (1 催办 + 3 督办 each)")
