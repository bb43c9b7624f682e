"""The lists, the dashboard and the ledger export at a district's scale (bench/run.py).

Two databases per backend, a small and a large one (1k and 100k in the full run): each holds that many open
instances with their tasks (bench/bulk.py), resolution items, notifications and audit entries (bench/lists.py),
and is served by its own web server. The measured users' own share is the same in both (their inbox, their
notifications, their unit's items), so a list that reads a page through its index takes the same time in both:
the growth ratio (p95 large / p95 small) shows one that does not. Requests go to the two servers in turns, so
whatever else the machine does weighs on both sizes alike.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

# list -> (the user who reads it, its pages or API calls); the page of a list is its first (keyset paging).
LISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "inbox": ("yibao", ("/tasks?tab=mine", "/tasks?tab=claimable")),
    "ledger_api": ("office", ("/api/resolutions?limit=100", "/api/resolutions?limit=100&sort=-created_at")),
    "instances": ("office", ("/instances",)),
    "notifications": ("yibao", ("/notifications",)),
    "audit": ("auditor", ("/api/audit?limit=100",)),
}
PG_LISTS = ("inbox", "ledger_api")
DASHBOARD = ("convener", "/monitor")
EXPORT = ("office", "/resolutions/export.xlsx")


# The figures are named after the full run's sizes (1k and 100k rows); the smoke run's smaller sizes are in each
# figure's ``rows``.
SMALL, LARGE = "1k", "100k"


def seed(db: Any, size: int, spec: Any, now: datetime) -> None:
    """``size`` open instances, resolution items, notifications and audit entries."""
    from bench.bulk import add_open_instances
    from bench.lists import add_audit, add_notifications, add_resolutions

    add_open_instances(db, spec, 0, size, now)
    add_resolutions(db, size, now)
    add_notifications(db, size, now)
    add_audit(db, size, now)


def build(url: str, size: int, password_hash: str, bulk_spec: Callable[[Any], Any]) -> Any:
    """A database at ``url`` with the demo world and ``size`` rows of each list."""
    from bench.run import prepare
    from meeting.runtime import build_service

    db = prepare(url, password_hash)
    t0 = time.perf_counter()
    seed(db, size, bulk_spec(db), build_service(db).now())
    if url.startswith("sqlite:///"):  # as years of automatic checkpoints leave it
        with sqlite3.connect(url[len("sqlite:///"):]) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"  ({size} of each list written in {time.perf_counter() - t0:.1f} s)", flush=True)
    return db


def measure(urls: dict[int, str], lists: tuple[str, ...], n: int, password: str, dashboard: bool,
            server_kw: dict[str, Any]) -> dict[tuple[str, int], list[float]]:
    """ms per request of each list at each size (and of the dashboard at the largest), in turns."""
    from bench.http import Client, Server

    sizes = sorted(urls)
    times: dict[tuple[str, int], list[float]] = {(name, size): [] for name in lists for size in sizes}
    with ExitStack() as stack:
        servers = {size: stack.enter_context(Server(urls[size], **server_kw)) for size in sizes}
        users = {LISTS[name][0] for name in lists} | ({DASHBOARD[0]} if dashboard else set())
        clients = {(user, size): Client(servers[size].url, user, password) for user in users for size in sizes}
        jobs = [(name, size, path) for name in lists for size in sizes for path in LISTS[name][1]]
        if dashboard:
            times[("dashboard", sizes[-1])] = []
            jobs.append(("dashboard", sizes[-1], DASHBOARD[1]))
        for name, size, path in jobs * 3:  # warm-up
            clients[(LISTS[name][0] if name in LISTS else DASHBOARD[0], size)].get(path)
        for i in range(n):
            for name, size, path in (jobs if i % 2 == 0 else jobs[::-1]):
                client = clients[(LISTS[name][0] if name in LISTS else DASHBOARD[0], size)]
                t0 = time.perf_counter()
                client.get(path)
                times[(name, size)].append((time.perf_counter() - t0) * 1000)
    return times


def report(results: Any, times: dict[tuple[str, int], list[float]], sizes: tuple[int, int], n: int,
           backend: str) -> None:
    """``<list>_p95_ms_<size>`` for both sizes and ``<list>_growth``; ``_pg`` after each on PostgreSQL."""
    from bench.run import percentile

    suffix = "_pg" if backend == "postgresql" else ""
    small, large = sizes
    for name in dict.fromkeys(name for name, _ in times):
        if name == "dashboard":
            values = times[(name, large)]
            results.add(f"dashboard_p95_ms_{LARGE}", percentile(values, 95), "ms", len(values), "p95", backend,
                        page=DASHBOARD[1], rows=large, median_ms=round(statistics.median(values), 3))
            continue
        p95 = {}
        for size, label in ((small, SMALL), (large, LARGE)):
            values = times[(name, size)]
            p95[size] = percentile(values, 95)
            results.add(f"{name}_p95_ms_{label}{suffix}", p95[size], "ms", len(values), "p95", backend, rows=size,
                        median_ms=round(statistics.median(values), 3), pages=list(LISTS[name][1]))
        results.add(f"{name}_growth{suffix}", p95[large] / p95[small], "x", n, "p95 ratio large / small", backend,
                    rows=list(sizes))


def rss_mb(pid: int, which: str = "VmHWM") -> float:
    """A process's resident memory in MiB: its peak since start or since ``reset_peak`` (VmHWM), or now (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{which}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {which}")


def reset_peak(pid: int) -> None:
    """Start the peak over from the memory in use now (Linux: clear_refs 5), so it shows what comes next and not
    the sign-in before (argon2 takes 64 MiB for a moment, on purpose)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # not allowed here: the peak then includes the start-up


def run_export(url: str, rows: int, password: str, results: Any) -> None:
    """The whole ledger as .xlsx (and as CSV) from a fresh web server: the time until the last byte arrived,
    and the server's peak memory (its memory after sign-in, before the export, is recorded too)."""
    from bench.http import Client, Server

    with Server(url) as server:
        client = Client(server.url, EXPORT[0], password)
        client.get("/resolutions")  # every module of the ledger imported, as on a server that has been up
        pid = server.proc.pid
        before = rss_mb(pid, "VmRSS")
        reset_peak(pid)
        t0 = time.perf_counter()
        size, lines = _download(client, EXPORT[1])
        xlsx_s = time.perf_counter() - t0
        peak = rss_mb(pid)
        t0 = time.perf_counter()
        csv_bytes, csv_lines = _download(client, "/resolutions/export.csv")
        csv_s = time.perf_counter() - t0
        peak_csv = rss_mb(pid)
    results.add(f"ledger_export_{LARGE}_s", xlsx_s, "s", rows, ".xlsx, all rows, until the last byte", "sqlite",
                bytes=size, csv_s=round(csv_s, 3), csv_bytes=csv_bytes, csv_lines=csv_lines)
    results.add("ledger_export_rss_mb", max(peak, peak_csv), "MiB", rows, "peak RSS of the web process while "
                "exporting", "sqlite", rss_before_export_mb=round(before, 1), rss_peak_xlsx_mb=round(peak, 1))


def _download(client: Any, path: str) -> tuple[int, int]:
    size = lines = 0
    with client.http.get(client.base + path, headers=client.cookie, stream=True, timeout=600) as r:
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
        for chunk in r.iter_content(64 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines


def run_sqlite(tmp: str, password_hash: str, plan: Any, results: Any, bulk_spec: Callable[[Any], Any]) -> None:
    """Every list at both sizes, the dashboard and the export at the larger, and the timer worker's pass."""
    from bench.run import PASSWORD, percentile
    from meeting.runtime import build_service

    sizes = plan.list_sizes
    urls = {size: f"sqlite:///{tmp}/lists_{size}.db" for size in sizes}
    dbs = {size: build(urls[size], size, password_hash, bulk_spec) for size in sizes}
    try:
        times = measure(urls, tuple(LISTS), plan.n_lists, PASSWORD, True, {})
        report(results, times, sizes, plan.n_lists, "sqlite")
        service = build_service(dbs[sizes[1]])
        ticks = []
        for _ in range(plan.n_tick):
            t0 = time.perf_counter()
            fired = service.fire_due_timers()
            ticks.append((time.perf_counter() - t0) * 1000)
            assert fired == 0
        results.add(f"timer_tick_ms_{LARGE}", statistics.median(ticks), "ms", plan.n_tick, "median",
                    "sqlite", waiting_timers=sizes[1], p95_ms=round(percentile(ticks, 95), 3))
    finally:
        for db in dbs.values():
            db.dispose()
    run_export(urls[sizes[1]], sizes[1], PASSWORD, results)


def run_postgresql(base: str, password_hash: str, plan: Any, results: Any, bulk_spec: Callable[[Any], Any],
                   schema: Callable[[str], Any]) -> None:
    """The inbox and the ledger API at both sizes on PostgreSQL, served as deployed (gunicorn)."""
    from bench.run import PASSWORD, WEB_PROCESSES

    sizes = plan.list_sizes
    with ExitStack() as stack:
        urls = {size: stack.enter_context(schema(base)) for size in sizes}
        dbs = [build(urls[size], size, password_hash, bulk_spec) for size in sizes]
        try:
            times = measure(urls, PG_LISTS, plan.n_lists, PASSWORD, False, {"gunicorn_workers": WEB_PROCESSES})
            report(results, times, sizes, plan.n_lists, "postgresql")
        finally:
            for db in dbs:
                db.dispose()
