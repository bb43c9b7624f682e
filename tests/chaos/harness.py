"""Kill the web server and the timer worker at random moments while users complete tasks over HTTP, then check
the database against what the users were told.

* The web server is ``python -m waitress --call web:create_app`` and the worker ``flask --app web worker``, real
  processes on one database (a SQLite file, or a private PostgreSQL schema passed as ``DATABASE_URL`` with its
  ``search_path`` option). Both are SIGKILLed — never asked — and started again on the same port.
* The load: one thread per unit liaison with a personal API token, each starting instances of
  ``chaos_chain.bpmn`` (填报 → a one-second timer → 复核, with a two-second non-interrupting 复核提醒 that the
  worker may fire while the user completes 复核) and completing whatever is in its inbox. A 200 is written in
  the ledger as *acknowledged*; a request that died with the server is *uncertain* and is resolved by the
  inbox: the task is still there (not stored: do it again) or gone (stored: a retry would get 409).
* The check, after everything stopped: every acknowledged completion is stored (the task COMPLETED by that
  user, one ``complete`` audit row by that user), no completion is stored twice, and every instance's
  projections (READY tasks, completed tasks, ``next_timer_at``, status, activity tokens, one notification per
  task, each timer fired once) agree with its workflow state as the engine restores it.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from SpiffWorkflow import TaskState
from sqlalchemy import select

from engine.db import private_schema as _private_schema

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = Path(__file__).with_name("chaos_chain.bpmn")
PROCESS = "chaos_chain"
USERS = ("caizheng", "renshe", "yibao", "weijian", "zhujian", "jiaoti")
READY_TIMEOUT = 60.0


def private_schema(url: str) -> AbstractContextManager[str]:
    return _private_schema(url, "chaos")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str, users: tuple[str, ...] = USERS) -> dict[str, str]:
    """Schema, directory, demo users, the chaos diagram; returns a personal API token per user."""
    from engine.budgets import Budgets
    from engine.db import Database
    from engine.loader import SourceFile
    from engine.migrate import upgrade
    from engine.service import Actor
    from meeting import directory
    from meeting.accounts import create_token
    from meeting.models import User
    from meeting.runtime import build_service

    db = Database(url)
    try:
        upgrade(db)
        with db.transaction() as s:
            directory.seed_directory(s)
            directory.create_demo_users(s, None)  # tokens only: no passwords needed
        service = build_service(db, budgets=Budgets(min_timer_seconds=1))  # the chain's timers are seconds
        service.deploy([SourceFile(DIAGRAM.name, DIAGRAM.read_bytes())], Actor("designer", frozenset({"designer"})))
        tokens = {}
        with db.transaction() as s:
            for name in users:
                user = s.scalar(select(User).where(User.username == name))
                assert user is not None, name
                tokens[name] = create_token(s, user, "chaos", service.now())
        return tokens
    finally:
        db.dispose()


# ---------------------------------------------------------------------------------------------- processes
class Child:
    """One real process (web server or worker) that is started, SIGKILLed and started again."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.argv, self.env, self.logs = name, argv, env, logs
        self.proc: subprocess.Popen[bytes] | None = None
        self.generation = 0
        self.log_path: Path | None = None

    def start(self) -> None:
        self.generation += 1
        self.log_path = self.logs / f"{self.name}-{self.generation}.log"
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> bool:
        """SIGKILL; True when it was running (a kill injected, not a corpse shot)."""
        assert self.proc is not None
        was_alive = self.proc.poll() is None
        if was_alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return was_alive

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in sorted(self.logs.glob(f"{self.name}-*.log")))


class Cluster:
    """The web server and the worker on one database."""

    def __init__(self, url: str, logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "chaos-secret", "PYTHONUNBUFFERED": "1",
               "EMBEDDED_WORKER": "0", "LOG_LEVEL": "INFO",
               "TIMER_FLOOR_SECONDS": "1"}  # the chain's one- and two-second timers (the product's floor is a minute)
        env.pop("WORKFLOW_NOW_OFFSET", None)
        logs.mkdir(parents=True, exist_ok=True)
        self.web = Child("web", [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={self.port}",
                                 "--threads=8", "--call", "web:create_app"], env, logs)
        self.worker = Child("worker", [sys.executable, "-m", "flask", "--app", "web", "worker", "--interval", "0.5"],
                            env, logs)

    def start_web(self) -> None:
        self.web.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.web.alive:
                raise RuntimeError(f"web server exited on start:\n{self.web.log_tail()}")
            try:
                if requests.get(self.url + "/api/openapi.json", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"web server not answering after {READY_TIMEOUT}s:\n{self.web.log_tail()}")

    def start_worker(self) -> None:
        self.worker.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self.worker.alive:
                raise RuntimeError(f"worker exited on start:\n{self.worker.log_tail()}")
            assert self.worker.log_path is not None
            if "started (batch" in self.worker.log_path.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.02)
        raise RuntimeError(f"worker not started after {READY_TIMEOUT}s:\n{self.worker.log_tail()}")

    def stop(self) -> None:
        self.web.stop()
        self.worker.stop()


# ---------------------------------------------------------------------------------------------- load
@dataclass
class Ledger:
    """What the users were told."""

    acked: dict[str, str] = field(default_factory=dict)  # task id -> user who got 200
    acked_starts: dict[str, str] = field(default_factory=dict)  # instance id -> user who got 201
    uncertain: set[str] = field(default_factory=set)  # task ids whose request died with the server
    uncertain_starts: int = 0
    resolved_stored: int = 0  # uncertain completions later found stored (retry got 409)
    retried_ok: int = 0  # uncertain completions done again with 200 (the first had not been stored)
    requests: int = 0
    connection_errors: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acked)


class Load:
    def __init__(self, base: str, tokens: dict[str, str], seed: int) -> None:
        self.base, self.tokens = base, tokens
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._user, args=(u, t, seed + n), name=f"load-{u}", daemon=True)
                        for n, (u, t) in enumerate(tokens.items())]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"load threads did not finish: {alive}"

    def _wait_up(self, http: requests.Session) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if http.get(self.base + "/api/openapi.json", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            self.stop.wait(0.02)
        if not self.stop.is_set():
            with self.ledger.lock:
                self.ledger.unexpected.append("server did not come back within a minute")

    def _user(self, user: str, token: str, seed: int) -> None:
        rng = random.Random(seed)
        led = self.ledger
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        seq = 0
        while not self.stop.is_set():
            try:
                r = http.get(self.base + "/api/tasks?view=mine", timeout=30)
            except requests.RequestException:
                with led.lock:
                    led.connection_errors += 1
                self._wait_up(http)
                continue
            if r.status_code != 200:
                with led.lock:
                    led.unexpected.append(f"GET mine {user}: {r.status_code} {r.text[:200]}")
                continue
            tasks = r.json()["tasks"]
            if tasks:
                task = rng.choice(tasks)
                seq += 1
                self._complete(http, user, task, seq, rng)
            else:
                self._start(http, user)
                # nothing of mine is READY: either a new instance came, or timers are still running
                self.stop.wait(0.01)

    def _complete(self, http: requests.Session, user: str, task: dict[str, Any], seq: int, rng: random.Random
                  ) -> None:
        led = self.ledger
        tid, key = task["id"], task["task_key"]
        body: dict[str, Any] = ({"note": f"{user} #{seq}", "n": seq} if key == "fill"
                                else {"ok": rng.choice(["yes", "no"])} if key == "check" else {})
        with led.lock:
            led.requests += 1
            again = tid in led.uncertain
        try:
            r = http.post(f"{self.base}/api/tasks/{tid}/complete", json=body, timeout=30)
        except requests.RequestException:
            with led.lock:
                led.uncertain.add(tid)
                led.connection_errors += 1
            self._wait_up(http)
            return
        with led.lock:
            if r.status_code == 200:
                if tid in led.acked:
                    led.unexpected.append(f"task {tid} acknowledged twice")
                led.acked[tid] = user
                if again:
                    led.retried_ok += 1
            elif r.status_code == 409 and again:
                led.resolved_stored += 1  # the request cut by the kill had been stored
            else:
                led.unexpected.append(f"complete {key} {tid} by {user}: {r.status_code} {r.text[:300]}")

    def _start(self, http: requests.Session, user: str) -> None:
        led = self.ledger
        with led.lock:
            led.requests += 1
        try:
            r = http.post(f"{self.base}/api/processes/{PROCESS}/start", json={}, timeout=30)
        except requests.RequestException:
            with led.lock:
                led.uncertain_starts += 1
                led.connection_errors += 1
            self._wait_up(http)
            return
        with led.lock:
            if r.status_code == 201:
                led.acked_starts[r.json()["instance_id"]] = user
            else:
                led.unexpected.append(f"start by {user}: {r.status_code} {r.text[:300]}")


# ---------------------------------------------------------------------------------------------- chaos
@dataclass
class Run:
    kills: Counter[str] = field(default_factory=Counter)
    ledger: Ledger | None = None
    seconds: float = 0.0
    cluster: Cluster | None = None

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())


def run_chaos(url: str, logs: Path, kills: int, completions: int, seed: int, acks_between: int = 4,
              deadline_s: float = 900.0) -> Run:
    """Start the cluster and the load, SIGKILL ``kills`` times (web, worker, now and then both), keep going
    until ``completions`` were acknowledged, stop everything. The database is then quiet for ``verify``."""
    rng = random.Random(seed)
    tokens = prepare(url)
    cluster = Cluster(url, logs)
    run = Run(cluster=cluster)
    started = time.monotonic()
    deadline = started + deadline_s
    cluster.start_web()
    cluster.start_worker()
    load = Load(cluster.url, tokens, seed)
    run.ledger = load.ledger
    load.start()
    try:
        plan = ["web", "worker"] * (kills // 2) + ["web"] * (kills % 2)
        rng.shuffle(plan)
        n = 0
        while n < len(plan):
            base = load.ledger.acked_count()
            while load.ledger.acked_count() < base + acks_between:  # the load runs between kills
                if time.monotonic() > deadline:
                    raise AssertionError(f"no progress: {load.ledger.acked_count()} acknowledged, "
                                         f"{run.total_kills} kills\nweb:\n{cluster.web.log_tail()}")
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))  # a random moment
            victims = [plan[n]]
            if n + 1 < len(plan) and plan[n + 1] != plan[n] and rng.random() < 0.2:
                victims.append(plan[n + 1])  # now and then both at once
            for v in victims:
                if (cluster.web if v == "web" else cluster.worker).kill():
                    run.kills[v] += 1
            for v in victims:
                cluster.start_web() if v == "web" else cluster.start_worker()
            n += len(victims)
        while load.ledger.acked_count() < completions:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {load.ledger.acked_count()} of {completions} completions acknowledged")
            time.sleep(0.02)
    finally:
        load.finish()
        cluster.stop()
        run.seconds = time.monotonic() - started
    return run


# ---------------------------------------------------------------------------------------------- the check
@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    lost_starts: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    instances: int = 0
    tasks: int = 0
    completed: int = 0
    timers_fired: int = 0
    cut_stored: int = 0  # requests cut by a kill whose completion had been committed (the answer was lost)
    cut_not_stored: int = 0  # requests cut by a kill before their completion was committed

    @property
    def ok(self) -> bool:
        return not (self.lost or self.lost_starts or self.duplicated or self.mismatches)

    def report(self) -> str:
        parts = []
        for name in ("lost", "lost_starts", "duplicated", "mismatches"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name} ({len(items)}):\n  " + "\n  ".join(items[:20]))
        return "\n".join(parts)


def expected_next_timer(wf: Any, status: str) -> Any:
    from engine.projection import TIMER_EVENT_TYPES
    from engine.timers import due_at

    if status != "running":
        return None
    dues = [due_at(ev.value) for ev in wf.waiting_events() if ev.event_type in TIMER_EVENT_TYPES]
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None


def verify(url: str, ledger: Ledger) -> Findings:
    from engine import activity
    from engine.db import Database
    from engine.models import ActivityTokens, AuditEvent, HumanTask, Instance, ProcessModel
    from meeting.models import Notification
    from meeting.runtime import build_service

    f = Findings()
    db = Database(url)
    try:
        service = build_service(db)
        with db.sessions() as s:
            instances = {i.id: i for i in s.scalars(select(Instance))}
            tasks = {t.id: t for t in s.scalars(select(HumanTask))}
            completes: dict[str, list[str]] = defaultdict(list)
            timers: dict[str, list[str]] = defaultdict(list)
            for a in s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("complete", "timer", "timer_error")))
                               .order_by(AuditEvent.id)):
                if a.action == "complete":
                    completes[a.task_id].append(a.actor)
                elif a.action == "timer":
                    timers[a.instance_id].extend(a.data.get("timers") or [])
                else:
                    f.mismatches.append(f"instance {a.instance_id}: timer error {a.data}")
            called_by_model = dict(s.execute(select(ProcessModel.id, ProcessModel.called)).all())
            notes = Counter(s.scalars(select(Notification.link).where(Notification.kind == "task")))
            tokens: dict[str, dict[str, tuple[int, int, int]]] = defaultdict(dict)
            for row in s.scalars(select(ActivityTokens)):
                tokens[row.instance_id][row.bpmn_id] = (row.active, row.completed, row.failed)
        f.instances, f.tasks = len(instances), len(tasks)
        f.completed = sum(1 for t in tasks.values() if t.state == "COMPLETED")
        f.timers_fired = sum(len(v) for v in timers.values())

        # 1. every acknowledged completion and start is stored, by the user who was told so
        for tid, user in sorted(ledger.acked.items()):
            t = tasks.get(tid)
            if t is None or t.state != "COMPLETED" or t.completed_by != user or user not in completes.get(tid, []):
                f.lost.append(f"task {tid} acknowledged to {user}: row "
                              f"{None if t is None else (t.state, t.completed_by)}, audit {completes.get(tid)}")
        for iid, user in sorted(ledger.acked_starts.items()):
            if iid not in instances or instances[iid].started_by != user:
                f.lost_starts.append(f"instance {iid} acknowledged to {user}")

        for tid in ledger.uncertain:
            t = tasks.get(tid)
            if tid in ledger.acked:
                f.cut_not_stored += 1  # done again with 200, so the cut request had not been stored
            elif t is not None and t.state == "COMPLETED":
                f.cut_stored += 1
            else:
                f.cut_not_stored += 1

        # 2. nothing stored twice; the task rows and the audit trail tell the same story
        for tid, actors in completes.items():
            if len(actors) > 1:
                f.duplicated.append(f"task {tid}: {len(actors)} complete audit rows by {actors}")
        for tid, t in tasks.items():
            stored = completes.get(tid, [])
            if (t.state == "COMPLETED") != bool(stored) or (stored and stored[0] != t.completed_by):
                f.mismatches.append(f"task {tid}: row {t.state} by {t.completed_by}, audit {stored}")
            if notes.get(f"/tasks/{tid}", 0) != 1:
                f.mismatches.append(f"task {tid}: {notes.get(f'/tasks/{tid}', 0)} new-task notifications")

        # 3. every instance's projections agree with its workflow state
        by_instance: dict[str, list[Any]] = defaultdict(list)
        for t in tasks.values():
            by_instance[t.instance_id].append(t)
        for iid, inst in instances.items():
            wf = service.workflow(iid)
            rows = by_instance.get(iid, [])
            ready_wf = ({str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
                        if inst.status == "running" else set())
            ready_rows = {t.id for t in rows if t.state == "READY"}
            if ready_wf != ready_rows:
                f.mismatches.append(f"instance {iid}: READY in workflow {sorted(ready_wf)} != rows {sorted(ready_rows)}")
            done_wf = [t for t in wf.get_tasks(state=TaskState.COMPLETED, manual=True)]
            per_spec = Counter(t.task_spec.bpmn_id for t in done_wf)
            for bpmn_id, n in per_spec.items():
                if n > 1:
                    f.duplicated.append(f"instance {iid}: {bpmn_id} COMPLETED {n} times in the workflow")
            done_rows = {t.id for t in rows if t.state == "COMPLETED"}
            if {str(t.id) for t in done_wf} != done_rows:
                f.mismatches.append(f"instance {iid}: COMPLETED in workflow {sorted(str(t.id) for t in done_wf)} "
                                    f"!= rows {sorted(done_rows)}")
            want_status = ("completed" if wf.success else "cancelled") if wf.is_completed() else "running"
            if inst.status != want_status:
                f.mismatches.append(f"instance {iid}: status {inst.status}, workflow says {want_status}")
            want_timer = expected_next_timer(wf, inst.status)
            if inst.next_timer_at != want_timer:
                f.mismatches.append(f"instance {iid}: next_timer_at {inst.next_timer_at} != {want_timer}")
            called = called_by_model.get(inst.model_id) or []
            want = activity.totals(activity.scope_states(wf, inst.process_key, called))
            want_tokens = {bid: (0 if inst.status not in ("running", "suspended") else c.active, c.completed,
                                 c.failed) for (_pk, bid), c in want.items()}
            if tokens.get(iid, {}) != want_tokens:
                f.mismatches.append(f"instance {iid}: activity rows {tokens.get(iid)} != {want_tokens}")
            names = timers.get(iid, [])
            if len(names) != len(set(names)):
                f.duplicated.append(f"instance {iid}: timers fired {names}")
            if inst.error:
                f.mismatches.append(f"instance {iid}: error {inst.error}")
    finally:
        db.dispose()
    return f
