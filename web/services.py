"""The one way the web layer reaches the workflow service and the database: typed accessors over the
objects ``create_app`` installs on the application.

Views, CLI commands, template filters and the login helpers call ``workflow()`` and ``database()`` inside a
request or app context; code running in its own thread (the embedded worker) passes the application.
"""

from __future__ import annotations

from flask import Flask, current_app

from engine.db import Database
from engine.service import WorkflowService

# Tests and tools read app.extensions under these names, so they stay as they always were.
_WORKFLOW = "workflow"
_DATABASE = "db"


def install(app: Flask, db: Database, service: WorkflowService) -> None:
    app.extensions[_DATABASE] = db
    app.extensions[_WORKFLOW] = service


def _app(app: Flask | None) -> Flask:
    return app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]


def workflow(app: Flask | None = None) -> WorkflowService:
    """The workflow service of ``app`` (default: the current application)."""
    service: WorkflowService = _app(app).extensions[_WORKFLOW]
    return service


def database(app: Flask | None = None) -> Database:
    """The database of ``app`` (default: the current application)."""
    db: Database = _app(app).extensions[_DATABASE]
    return db
