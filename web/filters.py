"""Template helpers: Beijing time, traffic lights, status labels, unit names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, g
from flask_login import current_user
from sqlalchemy import select

from engine.clock import SHANGHAI
from meeting.models import User
from meeting.notify import unread_count
from meeting.statuses import LABEL_TABLES, OPEN_ITEMS_LABEL, Light, SignIn
from web.i18n import LANGUAGES
from web.services import database, workflow

LIGHT_LABELS = Light.labels()
ACTION_LABELS = {
    "start": "发起", "complete": "办理", "claim": "签收", "unclaim": "退回签收", "delegate": "转交",
    "timer": "定时触发", "message": "收到消息", "suspend": "挂起", "resume": "恢复", "cancel": "终止",
    "deploy": "部署", "migrate": "迁移版本",
}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime(fmt)


def due_light(due: datetime | None, now: datetime | None = None) -> Light:
    if due is None:
        return Light.NONE
    now = now or workflow().now()
    if due < now:
        return Light.RED
    if due - now <= timedelta(days=3):
        return Light.YELLOW
    return Light.GREEN


def status_label(value: str | None, table: str) -> str:
    """``{{ _(meeting.status|label('meeting')) }}``: the one label of a status (meeting/statuses.py), by the
    key of its table; a wrong key fails the page in tests instead of showing a code."""
    return LABEL_TABLES[table].label_of(value)


def person_name(username: str | None) -> str:
    """``{{ m.deployed_by|person }}``: who did something, by name (系统 for the system, 其他人员 for a name no
    longer in the directory), never a login name; the names are read once per request."""
    if not username or username == "system":
        return "系统"
    names = g.get("_jm_person_names")
    if names is None:
        with database().sessions() as s:
            names = g._jm_person_names = dict(s.execute(select(User.username, User.display_name)).all())
    return str(names.get(username) or "其他人员")


def register(app: Flask) -> None:
    app.jinja_env.filters["person"] = person_name
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, "%Y-%m-%d")
    app.jinja_env.filters["label"] = status_label
    app.jinja_env.globals["due_light"] = due_light
    app.jinja_env.globals["LIGHT_LABELS"] = LIGHT_LABELS
    app.jinja_env.globals["SIGN_IN_LABELS"] = SignIn.labels()
    app.jinja_env.globals["OPEN_ITEMS_LABEL"] = OPEN_ITEMS_LABEL
    app.jinja_env.globals["ACTION_LABELS"] = ACTION_LABELS

    @app.context_processor
    def inject() -> dict[str, Any]:
        unread = 0
        if current_user.is_authenticated:
            with database(app).single_reads() as s:
                unread = unread_count(s, current_user.username, sorted(current_user.groups))
        return {"unread_notifications": unread, "LANGUAGES": LANGUAGES}
