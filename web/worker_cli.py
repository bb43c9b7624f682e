"""``flask --app web worker`` and ``flask --app web schedule …``."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from types import FrameType

import click
from flask import current_app

from engine import schedule
from engine.clock import SHANGHAI, OffsetClock, set_clock
from engine.errors import EngineError
from engine.worker import Worker
from web.embedded import mail_hook
from web.services import database, workflow

log = logging.getLogger("engine.worker")


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state at INFO


def _apply_now_offset() -> None:
    """``WORKFLOW_NOW_OFFSET`` (seconds): the worker acts as if that much later. For tests and rehearsals."""
    raw = os.environ.get("WORKFLOW_NOW_OFFSET")
    if not raw:
        return
    clock = OffsetClock(timedelta(seconds=float(raw)))
    service = workflow()
    service.clock = clock
    set_clock(clock)
    log.warning("WORKFLOW_NOW_OFFSET=%s: this worker's clock runs %s ahead — never in production", raw,
                clock.offset)


@click.command("worker")
@click.option("--once", is_flag=True, help="Fire what is due and exit, printing how many.")
@click.option("--interval", default=5.0, show_default=True, help="Longest sleep between passes (seconds).")
@click.option("--batch", default=1, show_default=True, help="Instances fired per transaction.")
@click.option("--limit", default=500, show_default=True, help="Most firings per pass before mail is sent.")
@click.option("--name", default=None, help="Name in the log lines (default worker-<pid>).")
def worker_command(once: bool, interval: float, batch: int, limit: int, name: str | None) -> None:
    """The timer worker: fires due timers and scheduled starts, one short transaction per instance (or
    --batch); several may run side by side on PostgreSQL. SIGTERM finishes the instance in hand and exits 0."""
    _configure_logging()
    _apply_now_offset()
    worker = Worker(workflow(), batch_size=batch, name=name or f"worker-{os.getpid()}")
    send_mail = mail_hook(current_app)
    if once:
        result = worker.run_pass(limit=1_000_000)
        click.echo(f"fired {result.fired}")
        if result.started:
            click.echo(f"started {result.started}")
        log.info("%s once: failed=%d lag %s", worker.name, result.failed, worker.stats.summary())
        send_mail()
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s: signal %d, finishing the instance in hand", worker.name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo("worker started")
    worker.run(stop, interval=interval, limit=limit, after_pass=send_mail)
    click.echo(f"worker stopped; lag {worker.stats.summary()}")


@click.group("schedule")
def schedule_group() -> None:
    """Regular starts of processes (e.g. the joint meeting every June and December)."""


@schedule_group.command("list")
def schedule_list() -> None:
    """Every schedule: timer start events of deployed diagrams and configured regular starts."""
    with database().sessions() as s:
        rows = schedule.list_schedules(s)
    if not rows:
        click.echo("没有定时计划")
    for r in rows:
        nxt = r.next_run_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if r.next_run_at else "—"
        state = "启用" if r.active else "停用"
        click.echo(f"{r.name}\t{r.source}\t{r.process_key}\t{r.expression}\t下次 {nxt}\t已发起 {r.runs} 次\t{state}")


@schedule_group.command("add")
@click.argument("name")
@click.argument("process_key")
@click.argument("expression")
@click.option("--as", "run_as", default="office", show_default=True, help="Recorded as the initiator.")
@click.option("--start-event", default=None, help="A none start event of the process (default: its first).")
@click.option("--data", default="{}", help="JSON object given to the new instances.")
def schedule_add(name: str, process_key: str, expression: str, run_as: str, start_event: str | None,
                 data: str) -> None:
    """Start PROCESS_KEY at the times of EXPRESSION (ISO 8601: a date, or R/2026-06-01T09:00/P6M)."""
    try:
        values = json.loads(data)
        if not isinstance(values, dict):
            raise ValueError("not an object")
    except ValueError:
        click.echo("--data 须为 JSON 对象", err=True)
        sys.exit(1)
    service = workflow()
    try:
        with database().transaction() as s:
            row = schedule.add_schedule(s, name, process_key, expression, service.now(), run_as=run_as,
                                        data=values, start_event=start_event, created_by="cli")
            nxt = row.next_run_at
    except EngineError as exc:
        detail = "；".join(getattr(exc, "errors", {}).values()) or exc.message
        click.echo(detail, err=True)
        sys.exit(1)
    assert nxt is not None
    click.echo(f"added {name}: next {nxt.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M')}")


@schedule_group.command("remove")
@click.argument("name")
def schedule_remove(name: str) -> None:
    """Delete a configured schedule."""
    try:
        with database().transaction() as s:
            schedule.remove_schedule(s, name)
    except EngineError as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    click.echo(f"removed {name}")
