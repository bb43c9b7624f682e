"""Crash safety: SIGKILL the web server and the timer worker at random moments under a load of
task completions over HTTP, start them again, and check that every acknowledged completion is stored, none is
stored twice, and every instance's projections agree with its workflow state — on SQLite and PostgreSQL.

Sizes: ``CHAOS_KILLS`` kills (default 6 per backend: the smoke size in ``make test``) and at least
``CHAOS_COMPLETIONS`` acknowledged completions (default 120); ``make chaos`` runs 24 kills and 1,500 completions
per backend. ``CHAOS_SEED`` repeats a run's random moments (the seed is printed). The harness is
tests/chaos/harness.py.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos.harness import private_schema, run_chaos, verify
from figures import count

from bench.world import pg_unreachable, postgres_url

KILLS = int(os.environ.get("CHAOS_KILLS", "6"))
COMPLETIONS = int(os.environ.get("CHAOS_COMPLETIONS", "120"))


@pytest.fixture(params=["sqlite", "postgresql"])
def chaos_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or a private PostgreSQL schema named in the URL's search_path (the subprocesses get it
    as DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/chaos.db"
        return
    url = postgres_url()
    reason = pg_unreachable(url)
    if reason:
        pytest.skip(reason)
    with private_schema(url) as schema_url:
        yield schema_url


def test_sigkilled_server_and_worker_lose_nothing_and_store_nothing_twice(chaos_url: str, tmp_path: Path) -> None:
    backend = "postgresql" if chaos_url.startswith("postgresql") else "sqlite"
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1 << 30))
    run = run_chaos(chaos_url, tmp_path / "logs", kills=KILLS, completions=COMPLETIONS, seed=seed)
    ledger = run.ledger
    assert ledger is not None and run.cluster is not None
    findings = verify(chaos_url, ledger)

    lost = len(findings.lost) + len(findings.lost_starts)
    duplicated = len(findings.duplicated)
    for suffix in ("", f" ({backend})"):
        count("kills injected" + suffix, run.total_kills)
        count("completions acknowledged" + suffix, len(ledger.acked))
        count("lost" + suffix, lost)
        count("duplicated" + suffix, duplicated)
    print(f"\n[{backend}] seed={seed} {run.seconds:.1f}s kills={dict(run.kills)} "
          f"acknowledged={len(ledger.acked)} starts={len(ledger.acked_starts)} requests={ledger.requests} "
          f"cut by a kill={len(ledger.uncertain)} (committed before the kill {findings.cut_stored}, not "
          f"{findings.cut_not_stored}; done again {ledger.retried_ok}) starts cut={ledger.uncertain_starts} "
          f"instances={findings.instances} "
          f"tasks={findings.tasks} completed={findings.completed} timers fired={findings.timers_fired} "
          f"lost={lost} duplicated={duplicated} mismatches={len(findings.mismatches)}")

    assert findings.ok, f"seed {seed}:\n{findings.report()}"
    assert not ledger.unexpected, f"seed {seed}: unexpected answers:\n" + "\n".join(ledger.unexpected[:20])
    assert run.total_kills >= KILLS and run.kills["web"] and run.kills["worker"], run.kills
    assert len(ledger.acked) >= COMPLETIONS
    assert findings.timers_fired > 0, "the worker fired timers between the kills"
    # every completion the load saw acknowledged is in the database, and nothing else was completed twice
    assert findings.completed >= len(ledger.acked)
    for child in (run.cluster.web, run.cluster.worker):  # no 500 behind a 2xx, no failed worker pass
        assert "Traceback" not in child.log_text(), child.log_text()[-3000:]


def test_the_check_finds_a_lost_a_doubled_and_a_drifted_completion(tmp_path: Path) -> None:
    """The check itself is not vacuous: tampered rows are reported as lost, duplicated and out of step."""
    from datetime import timedelta

    from chaos.harness import PROCESS, Ledger, prepare
    from sqlalchemy import insert, select, update

    from engine.db import Database
    from engine.models import AuditEvent, HumanTask, Instance
    from meeting.runtime import actor_for, build_service

    url = f"sqlite:///{tmp_path}/check.db"
    prepare(url, ("caizheng",))
    db = Database(url)
    try:
        service = build_service(db)
        actor = actor_for(db, "caizheng")
        ids = [service.start(PROCESS, actor).instance_id for _ in range(3)]
        tasks = [service.instance_tasks(i)[0].id for i in ids]
        for t in tasks:
            service.complete(t, actor, {"note": "说明", "n": 1})
        acked = {t: "caizheng" for t in tasks}
        assert verify(url, Ledger(acked=acked)).ok
        with db.transaction() as s:
            s.execute(update(HumanTask).where(HumanTask.id == tasks[0]).values(state="READY", completed_by=None))
            row = s.scalar(select(AuditEvent).where(AuditEvent.task_id == tasks[1], AuditEvent.action == "complete"))
            s.execute(insert(AuditEvent).values(at=row.at, actor=row.actor, action="complete",
                                                instance_id=row.instance_id, task_id=row.task_id,
                                                task_name=row.task_name, process_key=row.process_key, data={}))
            s.execute(update(Instance).where(Instance.id == ids[2])
                      .values(next_timer_at=service.now() + timedelta(days=1)))
        findings = verify(url, Ledger(acked={**acked, "no-such-task": "caizheng"}))
    finally:
        db.dispose()
    assert any(tasks[0] in x for x in findings.lost) and any("no-such-task" in x for x in findings.lost)
    assert any(tasks[1] in x for x in findings.duplicated)
    assert any(ids[0] in x and "READY" in x for x in findings.mismatches)
    assert any(ids[2] in x and "next_timer_at" in x for x in findings.mismatches)
    assert not findings.ok
