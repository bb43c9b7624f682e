"""Template helpers: Beijing time, traffic lights, status labels, unit names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask_login import current_user

from engine.clock import SHANGHAI
from meeting.notify import unread_count
from meeting.statuses import LABEL_TABLES, OPEN_ITEMS_LABEL, Light
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


def register(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, "%Y-%m-%d")
    app.jinja_env.filters["label"] = status_label
    app.jinja_env.globals["due_light"] = due_light
    app.jinja_env.globals["LIGHT_LABELS"] = LIGHT_LABELS
    app.jinja_env.globals["OPEN_ITEMS_LABEL"] = OPEN_ITEMS_LABEL
    app.jinja_env.globals["ACTION_LABELS"] = ACTION_LABELS

    @app.context_processor
    def inject() -> dict[str, Any]:
        unread = 0
        if current_user.is_authenticated:
            with database(app).sessions() as s:
                unread = unread_count(s, current_user.username, sorted(current_user.groups))
        return {"unread_notifications": unread, "LANGUAGES": LANGUAGES}
