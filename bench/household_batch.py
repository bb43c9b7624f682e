"""The monthly 动态复核 at scale (issue 16): a batch over N households on a town's rolls × 6 providers, fanned out
as one list per provider (N × 6 rows, 6 tasks). ``make bench`` reports the time the start takes — the fan-out, in
the one transaction that starts the batch — and the peak memory of the process doing it:
``household_batch_10k_s`` (≤ 30 s) and ``household_batch_rss_mb`` (≤ 200 MiB), and the time on PostgreSQL.

The households (with each provider's last answer, the baseline the lists carry) are written by the parent
process in bulk; the batch is started in a child process (``python -m bench.household_batch URL``) so that its
peak memory is the worker's own, not the harness's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

CHUNK = 2000
TOWN, REQUESTER = "wuli", "wuli_mzb"


def add_households(db: Any, n: int, now: datetime) -> None:
    """N completed checks of 五里镇 households, each provider's answer with them (公安: a vehicle)."""
    from sqlalchemy import insert, select

    from engine.attachments import store_attachment
    from meeting import checks
    from meeting.models import CheckAnswer, HouseholdCheck
    from meeting.statuses import AnswerStatus, CheckStatus

    with db.transaction() as s:
        authorization = store_attachment(s, "authorization", "授权书.pdf", b"%PDF-1.4 bench", REQUESTER, now).id
    for start in range(0, n, CHUNK):
        ids = range(start + 1, min(start + CHUNK, n) + 1)
        with db.transaction() as s:
            s.execute(insert(HouseholdCheck), [{
                "number": f"核〔2026〕B{i}号", "town_code": TOWN, "requester_group": f"town:{TOWN}:mzb",
                "requested_by": REQUESTER, "aid_type": "最低生活保障", "applicant_name": f"户主{i}",
                "id_number": f"6109021980{i:08d}", "address": f"五里镇{i % 40}村", "members": [],
                "authorization_id": authorization, "status": CheckStatus.RETURNED, "created_at": now,
                "closed_at": now} for i in ids])
            first = s.scalar(select(HouseholdCheck.id).where(HouseholdCheck.number == f"核〔2026〕B{ids[0]}号"))
            assert first is not None
            rows = []
            for k in range(len(ids)):
                for p in checks.PROVIDERS:
                    found = p == "gongan"
                    rows.append({"check_id": first + k, "provider": p, "items": [], "due_at": now,
                                 "status": AnswerStatus.FOUND if found else AnswerStatus.NO_RECORD,
                                 "findings": {"ga_vehicles": [{"plate": f"陕G{k:05d}", "model": "五菱", "value": 30000}]}
                                 if found else None, "answered_at": now, "on_time": True, "workdays": 2,
                                 "created_at": now})
            s.execute(insert(CheckAnswer), rows)


def measure(url: str, timeout: float = 600) -> dict[str, Any]:
    """Start one batch in a child process; its seconds, peak RSS, rows and tasks."""
    done = subprocess.run([sys.executable, "-m", "bench.household_batch", url], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": os.getcwd()})
    if done.returncode != 0:
        raise RuntimeError(f"household batch failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bench.scale import reset_peak, rss_mb
    from engine.db import Database
    from engine.models import HumanTask
    from meeting.models import HouseholdBatchRow, HouseholdCheck
    from meeting.runtime import actor_for, build_service

    db = Database(url)
    service = build_service(db)
    actor = actor_for(db, REQUESTER)
    with db.sessions() as s:
        households = s.scalar(select(func.count()).select_from(HouseholdCheck))
    pid = os.getpid()
    before = rss_mb(pid, "VmRSS")
    reset_peak(pid)
    t0 = time.perf_counter()
    started = service.start("household_batch", actor, form_values={"batch_month": "2026-06"})
    seconds = time.perf_counter() - t0
    peak = rss_mb(pid)
    with db.sessions() as s:
        rows = s.scalar(select(func.count()).select_from(HouseholdBatchRow))
        tasks = s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "READY",
                                                                           HumanTask.bpmn_id == "answer_batch"))
    db.dispose()
    return {"seconds": seconds, "rss_mb": peak, "rss_before_mb": round(before, 1), "rows": rows, "tasks": tasks,
            "households": households, "instance": started.instance_id}


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1])))
