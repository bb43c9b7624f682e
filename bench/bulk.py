"""Open instances in bulk, written with SQL inserts (not through the engine one by one): each has the
stored state of a real waiting instance, a timer weeks ahead, one READY task in the projection and its
candidate row, as the engine would have written them.

The measured unit user's own work is the same at every size (``OWN_CLAIMABLE`` tasks its unit may claim,
``OWN_MINE`` claimed by the user, ``OWN_DONE`` done by the user): a unit's workload does not grow with the
district's history. Everything else goes to the other units and the office, round robin.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from engine.db import Database
from engine.models import HumanTask, Instance, TaskCandidate

OWN_CLAIMABLE, OWN_MINE, OWN_DONE = 150, 40, 200
BATCH = 5000


@dataclass
class BulkSpec:
    model_id: int
    process_key: str
    state: str
    form: list[Any]
    user: str  # the measured unit user (username = unit code)
    others: list[str]  # candidate groups of everyone else's tasks


def _rows(spec: BulkSpec, start: int, count: int, now: datetime
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    instances, tasks, candidates = [], [], []
    own_total = OWN_CLAIMABLE + OWN_MINE
    for i in range(start, start + count):
        iid = uuid.uuid4().hex
        created = now - timedelta(minutes=i % 50_000)
        instances.append({
            "id": iid, "model_id": spec.model_id, "process_key": spec.process_key, "status": "running",
            "business_key": f"BK-{i:07d}", "title": "基准：三步办理", "state": spec.state,
            "next_timer_at": now + timedelta(days=7 + i % 60, seconds=i % 3600), "started_by": "office",
            "started_at": created, "updated_at": created, "ended_at": None, "revision": 1, "error": None,
        })
        assignee, group = None, spec.others[i % len(spec.others)]
        if i < own_total:
            group = f"unit:{spec.user}"
            assignee = spec.user if i >= OWN_CLAIMABLE else None
        task = {
            "id": str(uuid.uuid4()), "instance_id": iid, "process_key": spec.process_key, "bpmn_id": "step_a",
            "name": "第一步", "lane": None, "state": "READY", "assignee": assignee, "candidate_groups": [group],
            "candidate_users": [], "due_at": now + timedelta(days=i % 40 - 5, hours=i % 24),
            "follow_up_at": None, "priority": 50, "context": {}, "form": spec.form, "documentation": None,
            "business_key": f"BK-{i:07d}", "created_at": created, "claimed_at": created if assignee else None,
            "completed_by": None, "completed_at": None,
        }
        tasks.append(task)
        candidates.append({"task_id": task["id"], "kind": "g", "ref": group, "state": "READY"})
        if i < OWN_DONE:  # work the user finished earlier on these instances
            done = {**task, "id": str(uuid.uuid4()), "bpmn_id": "intake", "name": "受理", "state": "COMPLETED",
                    "candidate_groups": [f"unit:{spec.user}"], "assignee": spec.user,
                    "completed_by": spec.user, "completed_at": created, "claimed_at": created}
            tasks.append(done)
            candidates.append({"task_id": done["id"], "kind": "g", "ref": f"unit:{spec.user}",
                               "state": "COMPLETED"})
    return instances, tasks, candidates


def add_open_instances(db: Database, spec: BulkSpec, start: int, count: int, now: datetime) -> None:
    """Instances number ``start`` to ``start + count - 1``; the user's own share lies in the first few hundred."""
    for offset in range(start, start + count, BATCH):
        n = min(BATCH, start + count - offset)
        instances, tasks, candidates = _rows(spec, offset, n, now)
        with db.engine.begin() as conn:
            conn.execute(insert(Instance.__table__), instances)
            conn.execute(insert(HumanTask.__table__), tasks)
            conn.execute(insert(TaskCandidate.__table__), candidates)
    db.gather_statistics()
