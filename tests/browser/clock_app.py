"""The app as the browser tests serve it: ``web.create_app`` with a clock that runs in real time but may be
moved forward by the tests.

The server runs in its own process, so a test cannot move a ``ManualClock`` inside it. Instead the clock adds
an offset (seconds) read from the file named by ``JM_CLOCK_OFFSET_FILE`` on every reading; the test writes the
file, and the timer worker (``flask --app tests.browser.clock_app worker --once``) reads the same file, so the
waitress process and the worker agree on what time it is. No file (or an empty one) means no offset.
Used only by tests/browser/conftest.py.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from engine.clock import Clock
from web import create_app as create_web_app

OFFSET_ENV = "JM_CLOCK_OFFSET_FILE"


class OffsetFileClock(Clock):
    """Real time plus the number of seconds written in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def offset(self) -> timedelta:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return timedelta(0)
        return timedelta(seconds=float(text)) if text else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def create_app() -> Flask:
    return create_web_app({"CLOCK": OffsetFileClock(Path(os.environ[OFFSET_ENV]))})
