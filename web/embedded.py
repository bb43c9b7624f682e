"""The timer worker inside the web process (SQLite's default) and the e-mail hook every worker runs.

``EMBEDDED_WORKER`` (config or environment): ``auto`` (the default of ``web.wsgi``) runs it on SQLite only,
``1`` always, ``0`` never. Several web processes on PostgreSQL run separate ``flask --app web worker`` processes
instead (README, "Running on PostgreSQL"). Tests build the app with ``web.create_app``, which never starts it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

from flask import Flask

from engine.worker import Worker
from meeting.mailer import SmtpSettings, send_pending
from web.services import database, workflow

log = logging.getLogger("web.embedded")


def smtp_settings(app: Flask) -> SmtpSettings | None:
    host = app.config.get("SMTP_HOST")
    if not host:
        return None
    return SmtpSettings(host, int(app.config.get("SMTP_PORT") or 25),
                        app.config.get("MAIL_FROM") or "joint-meeting@localhost",
                        app.config.get("BASE_URL") or "http://127.0.0.1:5000")


def mail_hook(app: Flask) -> Callable[[], int]:
    """Sends the pending e-mail copies of notifications (nothing without SMTP_HOST)."""

    def send() -> int:
        settings = smtp_settings(app)
        if settings is None:
            return 0
        return send_pending(database(app), settings, workflow(app).now())

    return send


class EmbeddedWorker:
    def __init__(self, app: Flask, interval: float) -> None:
        self.worker = Worker(workflow(app), name="embedded-worker")
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, name="embedded-worker", daemon=True,
                                       args=(self.stop_event, interval), kwargs={"after_pass": mail_hook(app)})

    def start(self) -> None:
        self.thread.start()
        atexit.register(self.stop)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the instance in hand, then end the loop."""
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout)


def wanted(app: Flask) -> bool:
    mode = str(app.config.get("EMBEDDED_WORKER") or os.environ.get("EMBEDDED_WORKER") or "0").strip().lower()
    if mode == "auto":
        return not database(app).is_postgres
    return mode in ("1", "true", "yes", "on")


def start_embedded_worker(app: Flask) -> EmbeddedWorker | None:
    if not wanted(app) or "embedded_worker" in app.extensions:
        return app.extensions.get("embedded_worker")
    embedded = EmbeddedWorker(app, float(app.config.get("WORKER_INTERVAL") or 5.0))
    app.extensions["embedded_worker"] = embedded
    embedded.start()
    log.info("embedded timer worker started (%s)", database(app).engine.dialect.name)
    return embedded
