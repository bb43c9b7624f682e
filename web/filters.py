"""Template helpers: Beijing time, traffic lights, unit names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app

from engine.clock import SHANGHAI

LIGHT_LABELS = {"green": "正常", "yellow": "即将到期", "red": "已逾期", "closed": "已办结", "none": "无时限"}
STATUS_LABELS = {
    "running": "办理中", "suspended": "已挂起", "completed": "已办结", "cancelled": "已终止", "error": "出错",
    "READY": "待办", "COMPLETED": "已办", "CANCELLED": "已取消",
}
ACTION_LABELS = {
    "start": "发起", "complete": "办理", "claim": "签收", "unclaim": "退回签收", "delegate": "转交",
    "timer": "定时触发", "message": "收到消息", "suspend": "挂起", "resume": "恢复", "cancel": "终止",
    "deploy": "部署", "migrate": "迁移版本",
}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime(fmt)


def due_light(due: datetime | None, now: datetime | None = None) -> str:
    if due is None:
        return "none"
    now = now or current_app.extensions["workflow"].now()
    if due < now:
        return "red"
    if due - now <= timedelta(days=3):
        return "yellow"
    return "green"


def register(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = lambda v: local_time(v, "%Y-%m-%d")
    app.jinja_env.globals["due_light"] = due_light
    app.jinja_env.globals["LIGHT_LABELS"] = LIGHT_LABELS
    app.jinja_env.globals["STATUS_LABELS"] = STATUS_LABELS
    app.jinja_env.globals["ACTION_LABELS"] = ACTION_LABELS

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_login import current_user

        from web.setup import LANGUAGES

        unread = 0
        if current_user.is_authenticated:
            from meeting.notify import unread_count

            with app.extensions["db"].sessions() as s:
                unread = unread_count(s, current_user.username, sorted(current_user.groups))
        return {"unread_notifications": unread, "LANGUAGES": LANGUAGES}
