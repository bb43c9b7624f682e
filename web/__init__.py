"""The Flask application: where people do their part."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from engine.budgets import Budgets
from engine.db import Database
from meeting.runtime import build_service
from web.services import install


def _secret_key(instance: Path) -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def default_database_url(instance: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'joint_meeting.db'}"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    app.config.from_mapping(
        DATABASE_URL=None,
        SECRET_KEY=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="jm_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        FORCE_SECURE_COOKIES=os.environ.get("SECURE_COOKIES") == "1",
        SMTP_HOST=os.environ.get("SMTP_HOST"),
        SMTP_PORT=int(os.environ.get("SMTP_PORT", "25")),
        MAIL_FROM=os.environ.get("MAIL_FROM", "joint-meeting@localhost"),
        BASE_URL=os.environ.get("BASE_URL", "http://127.0.0.1:5000"),
        # How many reverse proxies in front set X-Forwarded-For/-Proto (0: none; the client address is the
        # socket's). Sign-in throttling counts by client address, so behind a proxy this must be set.
        TRUSTED_PROXY_HOPS=int(os.environ.get("TRUSTED_PROXY_HOPS", "0") or 0),
    )
    if config:
        app.config.update(config)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or default_database_url(instance)
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _secret_key(instance)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)

    # The engine's budgets (engine/budgets.py) from the environment unless a test passes BUDGETS; on PostgreSQL
    # every connection also gets a statement and a lock timeout.
    budgets = app.config.get("BUDGETS") or Budgets.from_env()
    db = Database(app.config["DATABASE_URL"],
                  pg_timeouts_ms=(budgets.pg_statement_timeout_ms, budgets.pg_lock_timeout_ms))
    install(app, db, build_service(db, app.config.get("CLOCK"), budgets))

    from web.cli import register_cli
    from web.setup import init_extensions, register_blueprints

    init_extensions(app)
    register_blueprints(app)
    register_cli(app)
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
