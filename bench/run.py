
"""``make bench``: how fast the product is, and whether it stays fast as the work grows.

    python -m bench.run            # the full run (N >= 200 per figure, lists of 1k and 100k rows)
    python -m bench.run --quick    # the smoke run, N = 5 and small bulk sizes (tests/test_bench_smoke.py)

Every figure runs on a fresh temporary SQLite file in WAL mode; the PostgreSQL figures run in a private schema
on the server that ``DATABASE_URL`` names, or the local one at postgresql://postgres@127.0.0.1:5432/test when it
answers (the schema is dropped afterwards). Prints a table and writes ``bench/results.json``, with the machine's
load average at the start and the end: other work on the machine shows in the figures, and a busy machine is
said so (a warning before and after the table).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import tempfile
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scale
from bench.world import PASSWORD, pg_unreachable, populate, postgres_url, walkthrough
from engine.db import private_schema

BENCH = Path(__file__).resolve().parent
DIAGRAMS = BENCH / "diagrams"
RESULTS = BENCH / "results.json"

# figure -> its target: the most it may be on a 2-core machine (results.json records whether each was "met").
TARGETS: dict[str, float] = {
    "three_task_ms": 4, "three_task_pg_ms": 10, "statements_per_instance": 20, "statements_per_instance_pg": 20,
    "overhead_ratio": 2, "http_complete_p50_ms": 15, "http_complete_p95_ms": 40,
    "inbox_p95_ms_100k": 30, "inbox_p95_ms_100k_pg": 30, "ledger_api_p95_ms_100k": 50,
    "ledger_api_p95_ms_100k_pg": 50, "ledger_export_100k_s": 10, "ledger_export_rss_mb": 150,
    "dashboard_p95_ms_100k": 100, "pg_complete_p99_ms_16_clients": 300,
    "timer_tick_ms_100k": 10, "state_kib_mi17": 20,
    "household_batch_10k_s": 30, "household_batch_rss_mb": 200, "household_batch_10k_pg_s": 30,
}
# The lists read at 1k and 100k rows (bench/scale.py): each list's page may grow by half at most.
LISTS = ("inbox", "ledger_api", "instances", "notifications", "audit")
PG_LISTS = ("inbox", "ledger_api")
LIST_FIGURES = (*(f"{name}_{what}" for name in LISTS for what in ("p95_ms_1k", "p95_ms_100k", "growth")),
                *(f"{name}_{what}_pg" for name in PG_LISTS for what in ("p95_ms_1k", "p95_ms_100k", "growth")))
TARGETS.update({f: 1.5 for f in LIST_FIGURES if "_growth" in f})
# figure -> the least it must be.
MIN_TARGETS: dict[str, float] = {"pg_completions_per_s_16_clients": 200}
# Cold page weight (bench/weight.py): what a browser with an empty cache downloads for a page.
PAGE_WEIGHTS = {"page_weight_kib_inbox": 150, "page_weight_kib_task": 400, "page_weight_kib_dashboard": 400}
TARGETS.update(PAGE_WEIGHTS)
FIGURES = (
    "three_task_ms", "three_task_pg_ms", "statements_per_instance", "statements_per_instance_pg",
    "bare_three_task_ms", "bare_json_three_task_ms", "overhead_ratio",
    "http_complete_p50_ms", "http_complete_p95_ms", "lifecycle_17_ms", *LIST_FIGURES, "dashboard_p95_ms_100k",
    "ledger_export_100k_s", "ledger_export_rss_mb", "timer_tick_ms_100k", "state_kib_mi17", "state_kib_200",
    "pg_completions_per_s_16_clients", "pg_complete_p99_ms_16_clients",
    *PAGE_WEIGHTS, "household_batch_10k_s", "household_batch_rss_mb", "household_batch_10k_pg_s",
)
PG_FIGURES = ("three_task_pg_ms", "statements_per_instance_pg", *(f for f in LIST_FIGURES if f.endswith("_pg")),
              "pg_completions_per_s_16_clients", "pg_complete_p99_ms_16_clients", "household_batch_10k_pg_s")
# The unit users the benchmarks act as (demo users are named after their unit).
THREE_TASK_USER, INBOX_USER = "caizheng", "yibao"
WEB_PROCESSES = 2  # gunicorn processes on PostgreSQL, one per core (web/gunicorn_conf.py)
# A machine whose 1-minute load average exceeds this share of its cores was busy with other work.
BUSY_LOAD_PER_CORE = 0.5


@dataclass(frozen=True)
class Plan:
    quick: bool
    n_three: int
    warmup: int
    n_bare: int
    n_http: int
    n_lifecycle: int
    list_sizes: tuple[int, int]  # rows of each list in the small and the large database
    n_lists: int
    n_tick: int
    n_loop: int
    pg_seconds: float  # how long the 16 clients complete tasks
    pg_per_client: int  # tasks waiting for each client (the run ends early when they run out)
    batch_households: int = 10_000  # households of the 动态复核 batch (bench/household_batch.py)

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 5, 1, 5, 5, 1, (200, 2_000), 5, 5, 5, 2, 10, batch_households=200)
        return cls(False, 300, 20, 500, 500, 3, (1_000, 100_000), 300, 50, 200, 30, 1_000)


def cores() -> int:
    return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cores": cores(), "cpu": cpu, "memory_gib": mem_gib, "os": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Results:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.figures: dict[str, dict[str, Any]] = {}
        self.skipped: dict[str, str] = {}
        self.machine = machine()

    def add(self, name: str, value: float, unit: str, n: int, stat: str, backend: str | None = None,
            **extra: Any) -> None:
        assert name in FIGURES, name
        fig: dict[str, Any] = {"value": round(value, 3), "unit": unit, "n": n, "stat": stat, "cores": cores()}
        if backend:
            fig["backend"] = backend
        if name in TARGETS:
            fig["target"] = f"<= {TARGETS[name]:g}"
            fig["met"] = value <= TARGETS[name]
        elif name in MIN_TARGETS:
            fig["target"] = f">= {MIN_TARGETS[name]:g}"
            fig["met"] = value >= MIN_TARGETS[name]
        fig.update(extra)
        self.figures[name] = fig
        print(f"  {name} = {fig['value']:g} {unit} (N={n}, {stat})", flush=True)

    def skip(self, names: tuple[str, ...], reason: str) -> None:
        for name in names:
            self.skipped[name] = reason

    def busy(self) -> str | None:
        """Why the figures are noisy (the load average at start or end above BUSY_LOAD_PER_CORE per core)."""
        m = self.machine
        loads = [m["load_average_at_start"][0], *(m["load_average_at_end"][:1] if "load_average_at_end" in m
                                                    else [])]
        if max(loads) <= BUSY_LOAD_PER_CORE * m["cores"]:
            return None
        return (f"WARNING: the machine was busy with other work (1-minute load average {loads[0]:g} at the start"
                + (f", {loads[1]:g} at the end" if len(loads) > 1 else "") + f" on {m['cores']} cores): the speed "
                "figures are noisy; run `make bench` on an idle machine for figures to compare with the targets")

    def as_json(self) -> dict[str, Any]:
        return {"issue": 20, "quick": self.plan.quick, "machine": self.machine, "busy": self.busy(),
                "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "figures": {k: self.figures[k] for k in FIGURES if k in self.figures},
                "skipped": self.skipped}

    def table(self) -> str:
        m = self.machine
        load = f"load average {m['load_average_at_start'][0]:g} at start" + (
            f", {m['load_average_at_end'][0]:g} at end" if "load_average_at_end" in m else "")
        lines = [f"machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, Python {m['python']}, "
                 f"SQLite {m['sqlite']}" + (f", {m['postgresql']}" if m.get("postgresql") else "") + f"; {load}",
                 "", "| figure | value | N | how | backend | target |", "| --- | ---: | ---: | --- | --- | --- |"]
        for name in FIGURES:
            if name in self.figures:
                f = self.figures[name]
                target = f"{f['target']} {'met' if f['met'] else 'MISSED'}" if "target" in f else ""
                lines.append(f"| {name} | {f['value']:g} {f['unit']} | {f['n']} | {f['stat']} | "
                             f"{f.get('backend', '')} | {target} |")
            else:
                lines.append(f"| {name} | skipped: {self.skipped.get(name, 'not run')} | | | | |")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- set-up
def bench_sources() -> list[Any]:
    from engine.loader import SourceFile

    return [SourceFile(p.name, p.read_bytes()) for p in sorted(DIAGRAMS.glob("*.bpmn"))]


def prepare(url: str, password_hash: str) -> Any:
    """A database with the schema of the models and the demo world (bench/world.py: the directory, the demo
    users, every shipped process) plus the benchmark diagrams deployed."""
    import engine.models  # noqa: F401
    import meeting.models  # noqa: F401
    from engine.db import Database
    from meeting.runtime import build_service

    db = Database(url)
    db.create_all()
    populate(db, build_service(db), password_hash, bench_sources())
    return db


def unit_actor(code: str) -> Any:
    from engine.service import Actor

    return Actor(code, frozenset({f"unit:{code}"}), code)


def pg_schema(url: str) -> AbstractContextManager[str]:
    return private_schema(url, "bench")


# ---------------------------------------------------------------------------------------------------- figures
def run_three_task(db: Any, n: int, warmup: int, service: Any = None) -> list[float]:
    """ms per instance: start, three completions, end; through the service layer."""
    from meeting.runtime import build_service

    service = service or build_service(db)
    actor = unit_actor(THREE_TASK_USER)
    times = []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        result = service.start("bench_three_task", actor)
        for field in "abc":
            result = service.complete(result.ready_tasks[0], actor, {field: f"意见{field}{i}"})
        elapsed = (time.perf_counter() - t0) * 1000
        assert result.status == "completed", result
        if i >= warmup:
            times.append(elapsed)
    return times


def run_bare(db: Any, n: int, warmup: int, with_json: bool, service: Any = None) -> list[float]:
    """The same process on bare SpiffWorkflow in memory; with_json wraps each step in the library's own
    JSON serializer (which writes the spec with the state)."""
    from SpiffWorkflow import TaskState
    from SpiffWorkflow.bpmn import BpmnWorkflow

    from engine.specs import make_serializer
    from meeting.runtime import build_service

    service = service or build_service(db)
    with db.sessions() as s:
        spec, subs = service.runner.specs(s, service.latest_model(s, "bench_three_task"))
    serializer = make_serializer()
    times = []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        wf = BpmnWorkflow(spec, subs)
        wf.get_tasks(spec_name="Start")[0].data.update({"initiator": THREE_TASK_USER})
        wf.do_engine_steps()
        text = serializer.serialize_json(wf) if with_json else ""
        for field in "abc":
            if with_json:
                wf = serializer.deserialize_json(text)
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update({field: f"意见{field}{i}"})
            task.run()
            wf.do_engine_steps()
            if with_json:
                text = serializer.serialize_json(wf)
        elapsed = (time.perf_counter() - t0) * 1000
        assert wf.is_completed()
        if i >= warmup:
            times.append(elapsed)
    return times


def run_three_and_bare(db: Any, plan: Plan) -> tuple[list[float], list[float], list[float]]:
    """The service-layer figure and its bare baselines measured in turns, block by block, so that whatever
    else the machine does at the time weighs on all three alike."""
    from meeting.runtime import build_service

    service = build_service(db)
    n_bare = max(plan.n_bare, plan.n_three)
    run_three_task(db, 0, plan.warmup, service)
    run_bare(db, 0, plan.warmup, False, service)
    run_bare(db, 0, plan.warmup, True, service)
    blocks = 1 if plan.quick else 10
    three: list[float] = []
    bare: list[float] = []
    bare_json: list[float] = []
    for b in range(blocks):
        three += run_three_task(db, plan.n_three // blocks + (b < plan.n_three % blocks), 0, service)
        bare += run_bare(db, n_bare // blocks + (b < n_bare % blocks), 0, False, service)
        bare_json += run_bare(db, n_bare // blocks + (b < n_bare % blocks), 0, True, service)
    return three, bare, bare_json


def statements_per_instance(db: Any, n: int = 10) -> float:
    """SQL statements the database receives per three-task instance (start and three completions), as
    ``python -m bench.profile`` counts them."""
    from sqlalchemy import event

    from meeting.runtime import build_service

    service = build_service(db)  # warmed up first: its caches hold the process's spec, as a running server's do
    run_three_task(db, 0, 2, service)
    count = [0]

    def counted(*_args: Any) -> None:
        count[0] += 1

    engines = {db.engine, db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)
    try:
        run_three_task(db, n, 0, service)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counted)
    return count[0] / n


def run_loop_state(db: Any, n: int) -> float:
    """KiB of stored state of one instance after ``n`` completed tasks."""
    from engine.models import Instance
    from meeting.runtime import build_service

    service = build_service(db)
    actor = unit_actor(THREE_TASK_USER)
    result = service.start("bench_loop", actor)
    for i in range(n):
        result = service.complete(result.ready_tasks[0], actor, {"note": f"第{i + 1}次办理情况", "more": i < n - 1})
    assert result.status == "completed", result
    with db.sessions() as s:
        state = s.get(Instance, result.instance_id).state
    return len(state.encode()) / 1024


def start_instances(db: Any, user: str, count: int) -> list[str]:
    """``count`` three-task instances for ``user``; returns the ids of their first tasks."""
    from meeting.runtime import build_service

    service = build_service(db)
    actor = unit_actor(user)
    return [service.start("bench_three_task", actor).ready_tasks[0] for _ in range(count)]


def run_http_complete(db: Any, url: str, n: int, warmup: int) -> list[float]:
    from bench.http import Client, Server

    task_ids = start_instances(db, THREE_TASK_USER, warmup + n)
    times = []
    with Server(url) as server:
        client = Client(server.url, THREE_TASK_USER, PASSWORD)
        for i, task_id in enumerate(task_ids):
            t0 = time.perf_counter()
            client.complete(task_id, {"a": f"意见{i}"})
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return times


def _bulk_spec(db: Any) -> Any:
    """What every bulk instance copies: the state and form of a real three-task instance waiting at its first
    task (started and cancelled here), and who else gets tasks."""
    from bench.bulk import BulkSpec
    from engine.models import HumanTask, Instance
    from meeting import directory
    from meeting.runtime import build_service

    service = build_service(db)
    first = service.start("bench_three_task", unit_actor(INBOX_USER))
    with db.sessions() as s:
        inst = s.get(Instance, first.instance_id)
        task = s.get(HumanTask, first.ready_tasks[0])
        others = [f"unit:{c}" for c in directory.member_unit_codes(s) if c != INBOX_USER] + ["office"]
        spec = BulkSpec(inst.model_id, inst.process_key, inst.state, task.form, INBOX_USER, others)
    service.cancel(first.instance_id, _admin(), "基准准备")
    return spec


def run_page_weight(tmp: str, password_hash: str, results: Results) -> None:
    """The cold weight of a unit liaison's inbox, a task page (with its diagram) and the convener's dashboard,
    on the monitoring world (bench/world.py: two meetings, items from green to red, 催办 and 督办 sent)."""
    from bench.http import Client, Server
    from bench.weight import page_weight
    from bench.world import monitoring_scenario
    from engine.clock import ManualClock, SystemClock, set_clock
    from meeting.demo import DEMO_START, Walkthrough
    from meeting.runtime import build_service

    url = f"sqlite:///{tmp}/weight.db"
    db = prepare(url, password_hash)
    try:
        clock = ManualClock(DEMO_START)
        monitoring_scenario(Walkthrough(db, build_service(db, clock), clock))
    finally:
        db.dispose()
        set_clock(SystemClock())
    with Server(url) as server:
        unit, convener = Client(server.url, "caizheng", PASSWORD), Client(server.url, "convener", PASSWORD)
        task = re.search(r'href="(/tasks/[0-9a-f-]{36})"', unit.get("/tasks?tab=claimable").text)
        assert task, "the unit has no open task in the monitoring world"
        for name, client, path in (("page_weight_kib_inbox", unit, "/tasks?tab=claimable"),
                                   ("page_weight_kib_task", unit, task.group(1)),
                                   ("page_weight_kib_dashboard", convener, "/monitor")):
            weight = page_weight(client.http, server.url, path)
            results.add(name, weight.kib, "KiB", 1, "transferred, cold cache (brotli/gzip)", "sqlite",
                        page=path, files={k: round(v / 1024, 1) for k, v in weight.bytes_by_url.items()})


def _admin() -> Any:
    from engine.service import Actor

    return Actor("admin", frozenset({"admin"}))


def run_lifecycle(url: str, runs: int) -> tuple[list[float], float]:
    """Whole joint meetings (17 attendance answers, 5 resolution items), start to end, through the service
    layer as people would do them. Returns ms per meeting and the KiB of state with the 17 replies open."""
    from engine.db import Database

    db = Database(url)
    try:
        db.create_all()
        w = walkthrough(db)
        times, state_kib = [], 0.0
        for run in range(runs):
            ms, kib = _one_meeting(w, run)
            times.append(ms)
            state_kib = state_kib or kib
        return times, state_kib
    finally:
        db.dispose()
        from engine.clock import SystemClock, set_clock

        set_clock(SystemClock())


LEADS = ("caizheng", "renshe", "yibao", "weijian", "zhujian")


def _one_meeting(w: Any, run: int) -> tuple[float, float]:
    from sqlalchemy import select

    from engine.models import Instance
    from meeting import directory
    from meeting.demo import answer_comments, draft_minutes
    from meeting.models import ResolutionItem

    topic_ids = []
    for unit in LEADS:  # proposals come before the meeting: not timed
        iid = w.start(unit, "topic_proposal")
        w.do(unit, "propose", {"title": f"第{run + 1}次会议议题（{unit}）", "background": "背景情况。",
                               "proposal": "建议联席会议研究。", "related_units": [], "urgency": "normal"})
        topic_id = int(w.service.workflow(iid).last_task.data["topic_id"])
        w.do("office", "screen", {"screen_decision": "accept"}, topic_id=topic_id)
        topic_ids.append(topic_id)
    with w.db.sessions() as s:
        members = directory.member_unit_codes(s)
    assert len(members) == 17, members

    t0 = time.perf_counter()
    meeting = w.start("office", "joint_meeting")
    w.do("office", "draft_plan", {"meeting_kind": "regular", "meeting_title": f"基准会议{run + 1}",
                                  "meeting_date": w.today(7), "meeting_place": "区民政局三楼会议室",
                                  "topic_ids": topic_ids, "invited_units": []})
    w.do("convener", "approve_plan", {"plan_decision": "approve"})
    with w.db.sessions() as s:
        state_kib = len(s.get(Instance, meeting).state.encode()) / 1024
    for code in members:
        w.do(code, "confirm_attendance", {"attendance": "attend", "attendee_name": f"{code}分管负责人"},
             attendee=code)
    w.advance(7.1)
    w.do("office", "sign_in", {"presider_name": "召集人"})
    w.do("office", "record_outcome", {
        "resolution_items": [
            {"content": f"议定事项{k + 1}：按分工落实。", "lead_unit": lead, "co_units": ["minzheng"] if k % 2 == 0 else [],
             "deadline": w.today(30), "topic_id": topic_ids[k]} for k, lead in enumerate(LEADS)],
        "major_topics": [], "deferred_topics": [], "outcome_summary": "形成议定事项五项。",
    })
    draft_minutes(w, "会议议定事项如下……")
    answer_comments(w)
    w.do("convener", "approve_minutes", {"minutes_decision": "approve"})
    with w.db.sessions() as s:
        items = {r.lead_unit: r.id for r in s.scalars(select(ResolutionItem).where(ResolutionItem.instance_id.is_not(None),
                                                                                  ResolutionItem.status != "closed"))}
    for k, lead in enumerate(LEADS):
        rid = items[lead]
        if k % 2 == 0:
            w.do("minzheng", "co_input", {"co_opinion": "已配合。"}, resolution_id=rid)
        w.do(lead, "implement", {"report_action": "report", "result_body": "已落实。"}, resolution_id=rid)
        w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=rid)
    w.do("office", "compile_report", {"report_body": "五项议定事项均已办结。"})
    w.do("convener", "approve_report", {"report_decision": "approve"})
    w.do("district", "receive_report", {"receipt_comment": "很好。"})
    elapsed = (time.perf_counter() - t0) * 1000
    status = w.service.instance(meeting).status
    assert status == "completed", status
    w.advance(40)  # let every reminder of this meeting pass before the next one
    return elapsed, state_kib


# ---------------------------------------------------------------------------------------------------- main
def step(title: str) -> None:
    print(f"· {title}", flush=True)


def run(plan: Plan, out: Path = RESULTS, pg: bool = True) -> Results:
    from meeting.passwords import hash_password

    results = Results(plan)
    if warning := results.busy():
        print(warning, flush=True)
    password_hash = hash_password(PASSWORD)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jm-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        db = prepare(url, password_hash)
        try:
            step("three_task (service layer, SQLite WAL) and bare SpiffWorkflow")
            three, bare, bare_json = run_three_and_bare(db, plan)
            results.add("three_task_ms", statistics.median(three), "ms", len(three), "median", "sqlite",
                        p95_ms=round(percentile(three, 95), 3), warmup=plan.warmup)
            results.add("bare_three_task_ms", statistics.median(bare), "ms", len(bare), "median", "memory")
            results.add("bare_json_three_task_ms", statistics.median(bare_json), "ms", len(bare_json), "median",
                        "memory")
            results.add("overhead_ratio", statistics.median(three) / statistics.median(bare_json), "x", len(three),
                        "median ratio three_task / bare_json", "sqlite")
            results.add("statements_per_instance", statements_per_instance(db), "statements", 10,
                        "mean per instance (start + 3 completions)", "sqlite")

            step("state after completed tasks")
            results.add("state_kib_200", run_loop_state(db, plan.n_loop), "KiB", plan.n_loop,
                        f"stored state after {plan.n_loop} completed tasks", "sqlite")

            step("HTTP: completing a task through waitress on loopback")
            http = run_http_complete(db, url, plan.n_http, plan.warmup)
            results.add("http_complete_p50_ms", percentile(http, 50), "ms", len(http), "p50", "sqlite")
            results.add("http_complete_p95_ms", percentile(http, 95), "ms", len(http), "p95", "sqlite")
        finally:
            db.dispose()

        step(f"lists, dashboard, export and timer worker with {plan.list_sizes[0]} and {plan.list_sizes[1]} rows")
        scale.run_sqlite(tmp, password_hash, plan, results, _bulk_spec)

        step("page weight: inbox, task page, dashboard")
        run_page_weight(tmp, password_hash, results)

        step(f"动态复核: a batch of {plan.batch_households} households x 6 providers (fan-out, worker memory)")
        run_household_batch(f"sqlite:///{tmp}/batch.db", password_hash, plan, results, "sqlite")

        step("lifecycle: whole joint meetings")
        meetings, mi17 = run_lifecycle(f"sqlite:///{tmp}/lifecycle.db", plan.n_lifecycle)
        results.add("lifecycle_17_ms", statistics.median(meetings), "ms", len(meetings), "median per meeting",
                    "sqlite", attendance_answers=17, resolution_items=len(LEADS))
        results.add("state_kib_mi17", mi17, "KiB", 1, "stored state with 17 parallel replies open", "sqlite")

    if pg:
        base = postgres_url()
        reason = pg_unreachable(base)
        if reason:
            results.skip(PG_FIGURES, reason)
            print(f"· PostgreSQL skipped: {reason}")
        else:
            with pg_schema(base) as schema_url:
                db = prepare(schema_url, password_hash)
                try:
                    with db.engine.connect() as conn:
                        results.machine["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
                    results.machine["postgresql"] = f"PostgreSQL {results.machine['postgresql']}"
                    step("three_task on PostgreSQL")
                    three_pg = run_three_task(db, plan.n_three, plan.warmup)
                    results.add("three_task_pg_ms", statistics.median(three_pg), "ms", len(three_pg), "median",
                                "postgresql", p95_ms=round(percentile(three_pg, 95), 3))
                    results.add("statements_per_instance_pg", statements_per_instance(db), "statements", 10,
                                "mean per instance (start + 3 completions)", "postgresql")
                    step(f"PostgreSQL: gunicorn ({WEB_PROCESSES} processes), 16 clients, {plan.pg_seconds:g} s")
                    run_pg_throughput(db, schema_url, plan, results)
                finally:
                    db.dispose()
                step(f"PostgreSQL: 动态复核 of {plan.batch_households} households x 6 providers")
                with pg_schema(base) as batch_url:
                    run_household_batch(batch_url, password_hash, plan, results, "postgresql")
                step(f"PostgreSQL: inbox and ledger with {plan.list_sizes[0]} and {plan.list_sizes[1]} rows")
                scale.run_postgresql(base, password_hash, plan, results, _bulk_spec, pg_schema)
    else:
        results.skip(PG_FIGURES, "PostgreSQL not requested (--no-pg)")
    results.machine["bench_seconds"] = round(time.perf_counter() - t_start, 1)
    results.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out.write_text(json.dumps(results.as_json(), ensure_ascii=False, indent=2) + "\n")
    print()
    print(results.table())
    if warning := results.busy():
        print(f"\n{warning}")
    print(f"\n{out} written in {results.machine['bench_seconds']} s")
    return results


def run_household_batch(url: str, password_hash: str, plan: Plan, results: Results, backend: str) -> None:
    """The monthly 动态复核 fan-out (bench/household_batch.py): N households x 6 providers started in a child
    process; on SQLite also its peak memory."""
    from bench.household_batch import add_households, measure
    from bench.world import T0

    db = prepare(url, password_hash)
    try:
        add_households(db, plan.batch_households, T0)
    finally:
        db.dispose()
    got = measure(url)
    if got["rows"] != plan.batch_households * 6 or got["tasks"] != 6:
        raise RuntimeError(f"household batch fanned out wrongly: {got}")
    extra = {"households": got["households"], "rows": got["rows"], "provider_tasks": got["tasks"]}
    if backend == "sqlite":
        results.add("household_batch_10k_s", got["seconds"], "s", 1, "start of one batch (fan-out)", backend, **extra)
        results.add("household_batch_rss_mb", got["rss_mb"], "MiB", 1, "peak RSS of the process starting the batch",
                    backend, rss_before_mb=got["rss_before_mb"], **extra)
    else:
        results.add("household_batch_10k_pg_s", got["seconds"], "s", 1, "start of one batch (fan-out)", backend,
                    **extra)


def run_pg_throughput(db: Any, url: str, plan: Plan, results: Results) -> None:
    """16 signed-in clients completing their own tasks against the README's deployment (bench/throughput.py)."""
    from bench.http import Server
    from bench.throughput import CLIENT_USERS, prepare_tasks, run_clients

    tasks = prepare_tasks(db, plan.pg_per_client)
    with Server(url, gunicorn_workers=WEB_PROCESSES) as server:
        got = run_clients(server.url, tasks, plan.pg_seconds, PASSWORD)
    from web import gunicorn_conf

    lat = got.latencies
    server_kind = f"gunicorn {WEB_PROCESSES} processes x {gunicorn_conf.threads} threads ({gunicorn_conf.worker_class})"
    results.add("pg_completions_per_s_16_clients", got.rate, "1/s", got.completions, "completions / wall time",
                "postgresql", clients=len(CLIENT_USERS), seconds=round(got.seconds, 2), server=server_kind,
                p50_ms=round(percentile(lat, 50), 3), p95_ms=round(percentile(lat, 95), 3))
    results.add("pg_complete_p99_ms_16_clients", percentile(lat, 99), "ms", len(lat), "p99", "postgresql",
                clients=len(CLIENT_USERS), server=server_kind)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5, small bulk sizes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON (bench/results.json)")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL figures")
    args = parser.parse_args(argv)
    run(Plan.make(args.quick), args.out, pg=not args.no_pg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
