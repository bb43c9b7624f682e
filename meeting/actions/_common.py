"""Small helpers the action modules share: reading task data, loading rows, decisions with comments."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.db import Base
from engine.errors import ActionError, FormError
from meeting.models import Unit

M = TypeVar("M", bound=Base)


def text(ctx: ActionContext, key: str) -> str:
    """A text value from the task data, stripped; missing counts as empty."""
    value = ctx.data.get(key)
    return str(value).strip() if value is not None else ""


def need_id(ctx: ActionContext, key: str) -> int:
    """An id the process carries (``topic_id``, ``meeting_id`` …); its absence is a modelling error."""
    value = ctx.data.get(key)
    if value is None or value == "":
        raise ActionError(f"流程数据中缺少 {key}，无法办理此步骤。")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ActionError(f"流程数据中的 {key} 不是有效编号：{value!r}") from None


def optional_id(ctx: ActionContext, key: str) -> int | None:
    return need_id(ctx, key) if ctx.data.get(key) not in (None, "") else None


def load(session: Session, model: type[M], ident: Any, what: str) -> M:
    row = session.get(model, ident)
    if row is None:
        raise ActionError(f"找不到{what}（编号 {ident}）。")
    return row


def decision(ctx: ActionContext, field: str, allowed: tuple[str, ...]) -> str:
    value = text(ctx, field)
    if value not in allowed:
        raise FormError({field: "请选择一项意见"})
    return value


def comment_required(ctx: ActionContext, field: str, message: str) -> str:
    """A comment the decision makes mandatory (a return, a refusal): missing raises FormError."""
    value = text(ctx, field)
    if not value:
        raise FormError({field: message})
    return value


def approve_or_return(ctx: ActionContext, decision_field: str, comment_field: str,
                      message: str = "退回修改时请写明意见") -> tuple[str, str]:
    """A signer's 同意 / 退回: the choice and its comment, which a return makes mandatory."""
    choice = decision(ctx, decision_field, ("approve", "return"))
    if choice == "return":
        return choice, comment_required(ctx, comment_field, message)
    return choice, text(ctx, comment_field)


def known_units(ctx: ActionContext, field: str) -> list[str]:
    """A list of unit codes from a ``units`` field, each active in the directory; duplicates dropped."""
    codes = list(dict.fromkeys(str(c) for c in (ctx.data.get(field) or [])))
    known = set(ctx.session.scalars(select(Unit.code).where(Unit.code.in_(codes), Unit.active)))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise FormError({field: f"单位“{'、'.join(unknown)}”不在单位名录中"})
    return codes


def unit_group(code: str) -> str:
    return f"unit:{code}"


def link(kind: str, ident: int) -> str:
    """Where a notification points; the web layer serves these paths."""
    return f"/{kind}/{ident}"
