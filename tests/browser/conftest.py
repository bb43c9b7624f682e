"""Browser tests: the real app served by waitress on a free loopback port, driven by Debian's Chromium.

Every test in this folder is marked ``browser`` (``pytest -m "not browser"`` leaves them out). The session
serves ``web.create_app`` (through ``clock_app.py``) on a fresh SQLite database made by ``flask init --demo``;
``base_url`` points at it, so ``page.goto("/login")`` works. Screenshots and traces of failed tests land in
``test-results/`` (pytest ini ``addopts``). Playwright's own browser downloads are never used:
``make install`` installs Debian's ``chromium``, and without it the tests that need a browser are skipped.

The server's clock is real time plus an offset the tests can move forward (``served_app.advance_clock``), and
``served_app.fire_timers()`` runs the timer worker once under the same clock (see ``clock_app.py``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
# Without the networking switches Chromium keeps calling hosts this network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0
# web.create_app with the movable clock (real time unless a test moves it); see clock_app.py.
APP_MODULE = "tests.browser.clock_app"
OFFSET_ENV = "JM_CLOCK_OFFSET_FILE"  # clock_app.OFFSET_ENV (not imported: the conftest stays free of the app)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the mark must be there before pytest's own -m deselection runs.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def chromium_executable() -> str | None:
    override = os.environ.get("CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_answering(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"waitress exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (404, 302, 500) means the server is up
        except OSError as exc:
            last_error = exc
            time.sleep(0.1)
    raise RuntimeError(f"waitress did not answer {url} within {SERVER_START_TIMEOUT:.0f} s "
                       f"({last_error}):\n{_log_tail(log)}")


@dataclass(frozen=True)
class ServedApp:
    """The session's server: its URL, its database, and the clock offset file it reads."""

    url: str
    database_url: str
    env: dict[str, str]
    clock_file: Path

    def clock_offset(self) -> timedelta:
        text = self.clock_file.read_text().strip() if self.clock_file.exists() else ""
        return timedelta(seconds=float(text)) if text else timedelta(0)

    def advance_clock(self, delta: timedelta) -> None:
        """Move the server's (and the worker's) clock forward; it keeps running in real time from there."""
        self.clock_file.write_text(str((self.clock_offset() + delta).total_seconds()))

    def reset_clock(self) -> None:
        self.clock_file.write_text("0")

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``flask --app tests.browser.clock_app <args>`` against the served database and clock."""
        proc = subprocess.run([sys.executable, "-m", "flask", "--app", APP_MODULE, *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def fire_timers(self) -> int:
        """The timer worker, once (``flask worker --once``); returns how many timers fired."""
        out = self.flask("worker", "--once").stdout
        fired = re.search(r"^fired (\d+)$", out, re.MULTILINE)
        assert fired, f"flask worker --once printed {out!r}"
        return int(fired.group(1))


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """Serve the app with waitress on a fresh demo database; the clock reads ``clock-offset``."""
    tmp = tmp_path_factory.mktemp("browser-app")
    clock_file = tmp / "clock-offset"
    clock_file.write_text("0")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'browser.db'}",
        "SECRET_KEY": "browser-tests-not-secret",
        "PYTHONUNBUFFERED": "1",
        OFFSET_ENV: str(clock_file),
    }
    init = subprocess.run(
        [sys.executable, "-m", "flask", "--app", APP_MODULE, "init", "--demo"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    if init.returncode != 0:
        pytest.fail(f"flask --app {APP_MODULE} init --demo failed ({init.returncode}):\n"
                    f"{init.stdout}\n{init.stderr}")

    port = _free_port()
    log = tmp / "waitress.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={port}",
             "--call", f"{APP_MODULE}:create_app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url + "/", proc, log)
        yield ServedApp(url, env["DATABASE_URL"], env, clock_file)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def app_server(served_app: ServedApp) -> str:
    """The base URL of the session's server."""
    return served_app.url


@pytest.fixture(scope="session")
def base_url(app_server: str) -> str:
    return app_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    executable = chromium_executable()
    if executable is None:
        where = os.environ.get("CHROMIUM") or " or ".join(CHROMIUM_CANDIDATES)
        pytest.skip(f"no Chromium at {where} (`make install` runs `apt-get install chromium`)")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture
def results_dir(pytestconfig: pytest.Config) -> Path:
    """pytest-playwright's ``--output`` folder (``test-results/``), for screenshots a test keeps on purpose.
    Note that every pytest session empties it when it starts."""
    path = Path(pytestconfig.getoption("--output")).absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def watch_errors(page, errors: list[str] | None = None) -> list[str]:
    """Collect console errors, uncaught exceptions and HTTP errors of ``page`` (CSP violations show up here)
    into ``errors`` (a new list unless given); returns the list."""
    errors = [] if errors is None else errors

    def on_console(msg) -> None:
        # "Failed to load resource" names no URL; the response handler below reports it with the URL.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"console.error: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    return errors


@pytest.fixture
def error_watcher() -> Callable[..., list[str]]:
    """``error_watcher(page, errors)``: what ``console_errors`` does, for pages of other contexts."""
    return watch_errors


@pytest.fixture
def console_errors(page) -> list[str]:
    """Console errors, uncaught exceptions and HTTP errors of the page (CSP violations show up here)."""
    return watch_errors(page)


@pytest.fixture
def login(base_url: str) -> Callable[..., None]:
    """``login(page, "office")``: sign in through the login form (demo password by default)."""

    def _login(page, username: str, password: str = "demo123") -> None:
        page.goto(f"{base_url}/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        try:
            page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
        except Exception as exc:  # noqa: BLE001 - re-raised with what the page says
            alerts = page.locator(".alert, .invalid-feedback").all_inner_texts()
            raise AssertionError(f"login as {username!r} failed; page at {page.url} says {alerts}") from exc

    return _login


@pytest.fixture(scope="session")
def monitoring_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """(LiveApp, Scenario): the monitoring world of bench/world.py (two meetings, items from green to red, 催办 and
    督办 sent) served by a waitress thread on its own SQLite file, built once for the modules that share it (the
    clerk's pages and the accessibility sweep); each changes only what it made or the state of its own tasks."""
    from web_support import live_app

    from bench.world import monitoring_scenario
    from engine.clock import ManualClock
    from meeting.demo import DEMO_START, Walkthrough

    path = tmp_path_factory.mktemp("monitoring-world")
    with live_app(f"sqlite:///{path}/world.db", ManualClock(DEMO_START)) as app:
        yield app, monitoring_scenario(Walkthrough(app.db, app.service, app.clock))
