"""Completions per second on PostgreSQL with the README's deployment (gunicorn, web/gunicorn_conf.py: two
processes with threads) and 16 signed-in clients, each completing its own tasks one after another for a fixed
time: the rate, and the latency each client saw (p50 / p95 / p99).

Each client's tasks are the first tasks of three-task instances started for it: one through the service, the
rest cloned from it in bulk (its stored state with fresh task ids, its task and activity rows), so thousands of
waiting tasks are ready in seconds and each completion does what a real one does (the next task, its
notification, the projections, the audit entry).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from engine.db import Database
from engine.models import ActivityTokens, HumanTask, Instance

# The member units whose liaisons act as the 16 clients (demo users are named after their unit).
CLIENT_USERS = ("caizheng", "renshe", "weijian", "zhujian", "fagai", "fupin", "jiaoti", "jingmao", "xuanchuan",
                "minzheng", "yibao", "xinfang", "shenji", "tongji", "gongan", "canlian")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def clone_waiting(db: Database, instance_id: str, count: int) -> list[str]:
    """``count`` copies of a three-task instance waiting at its first task, each with its own task ids; returns
    the ids of their first tasks."""
    with db.sessions() as s:
        inst = s.get(Instance, instance_id)
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "READY"))
        tokens = list(s.scalars(select(ActivityTokens).where(ActivityTokens.instance_id == instance_id)))
        assert inst is not None and task is not None
        template, task_row, token_rows = _row(inst), _row(task), [_row(t) for t in tokens]
    old_ids = sorted(set(_UUID.findall(template["state"])))
    firsts, instances, tasks, activity = [], [], [], []
    for _ in range(count):
        ids = {old: str(uuid.uuid4()) for old in old_ids}
        state = _UUID.sub(lambda m, ids=ids: ids[m.group(0)], template["state"])  # type: ignore[misc]
        iid = uuid.uuid4().hex
        instances.append({**template, "id": iid, "state": state})
        first = ids[task_row["id"]]
        tasks.append({**task_row, "id": first, "instance_id": iid})
        activity += [{**t, "instance_id": iid} for t in token_rows]
        firsts.append(first)
    with db.engine.begin() as conn:
        for offset in range(0, count, 2000):
            conn.execute(insert(Instance.__table__), instances[offset:offset + 2000])
            conn.execute(insert(HumanTask.__table__), tasks[offset:offset + 2000])
        if activity:
            conn.execute(insert(ActivityTokens.__table__), activity)
    return firsts


@dataclass
class Throughput:
    completions: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.completions / self.seconds


def run_clients(base: str, tasks: dict[str, list[str]], seconds: float, password: str) -> Throughput:
    """Every user of ``tasks`` signs in and completes its tasks in order until ``seconds`` have passed (or its
    tasks run out); all start together."""
    from bench.http import Client

    clients = {user: Client(base, user, password) for user in tasks}
    latencies: list[float] = []
    errors: list[BaseException] = []
    done = [0]
    lock = threading.Lock()
    gate = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def work(client: Any, task_ids: list[str]) -> None:
        mine: list[float] = []
        gate.wait()
        try:
            for i, task_id in enumerate(task_ids):
                if time.perf_counter() >= deadline[0]:
                    break
                t0 = time.perf_counter()
                client.complete(task_id, {"a": f"意见{i}"})
                mine.append((time.perf_counter() - t0) * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            latencies.extend(mine)
            done[0] += len(mine)

    threads = [threading.Thread(target=work, args=(clients[u], ids)) for u, ids in tasks.items()]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds
    gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return Throughput(done[0], elapsed, latencies)


def prepare_tasks(db: Database, per_client: int) -> dict[str, list[str]]:
    """Per client user: ``per_client`` waiting first tasks of its own three-task instances."""
    from engine.service import Actor
    from meeting.runtime import build_service

    service = build_service(db)
    out = {}
    for user in CLIENT_USERS:
        first = service.start("bench_three_task", Actor(user, frozenset({f"unit:{user}"}), user))
        out[user] = [first.ready_tasks[0], *clone_waiting(db, first.instance_id, per_client - 1)]
    db.gather_statistics()
    return out
