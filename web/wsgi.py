"""The application as WSGI servers load it: ``waitress-serve --call web.wsgi:create_app`` or
``gunicorn 'web.wsgi:create_app()'``. Unlike ``web.create_app`` (tests, the CLI) it starts the embedded timer
worker when configured: ``EMBEDDED_WORKER=auto`` by default, i.e. on SQLite only (web/embedded.py)."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from web import create_app as _create_app
from web.embedded import start_embedded_worker
from web.malloc_arenas import limit_malloc_arenas


def create_app(config: dict[str, Any] | None = None) -> Flask:
    limit_malloc_arenas()  # before the server's threads start (web/malloc_arenas.py)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state at INFO
    app = _create_app(config)
    app.config.setdefault("EMBEDDED_WORKER", os.environ.get("EMBEDDED_WORKER", "auto"))
    start_embedded_worker(app)
    return app
