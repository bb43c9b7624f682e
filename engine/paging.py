"""Keyset paging: a page is the rows that come after (or before) a cursor in a stable order, found through
the order's index, so page 1000 costs what page 1 costs and no row is skipped or repeated while others are
added. (OFFSET paging reads and throws away every earlier row, and shifts when rows are inserted.)

An order is a list of keys ending in a unique one (the row id). A cursor is the key values of the row a page
ended (or began) with, as opaque URL-safe text; it says nothing a reader of the page does not see. Whatever
filters and permissions a list applies stay in its statement: a cursor only positions within them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import EngineError

T = TypeVar("T")
AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any columns
MAX_LIMIT = 200  # the most rows one page may ask for


class CursorError(EngineError):
    """A cursor or limit that cannot be read: the request is refused (400), nothing is guessed."""

    status = 400


@dataclass(frozen=True)
class Key:
    """One column of an order. ``attr`` names it on the rows (default: the column's own key). A nullable
    column sorts its NULLs last, on SQLite and PostgreSQL alike (their defaults differ)."""

    column: Any
    desc: bool = False
    attr: str | None = None

    @property
    def name(self) -> str:
        return self.attr or str(self.column.key)

    @property
    def nullable(self) -> bool:
        expr = getattr(self.column, "expression", self.column)
        return bool(getattr(expr, "nullable", True))

    def order_by(self, reverse: bool = False) -> Any:
        desc = self.desc != reverse
        expr = self.column.desc() if desc else self.column.asc()
        if self.nullable:  # (a NOT NULL column keeps the plain order, which its index serves as it is)
            expr = expr.nulls_first() if reverse else expr.nulls_last()
        return expr

    def after(self, value: Any, reverse: bool) -> ColumnElement[bool]:
        """Rows that come after ``value`` on this key (before it, when ``reverse``)."""
        desc = self.desc != reverse
        nulls_last = not reverse
        if value is None:  # NULLs come last: after them come none; before them, every non-NULL
            return self.column.is_not(None) if not nulls_last else false()
        beyond = self.column < value if desc else self.column > value
        return or_(beyond, self.column.is_(None)) if self.nullable and nulls_last else beyond

    def equals(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    limit: int
    next_cursor: str | None  # the cursor of the following page (None on the last)
    prev_cursor: str | None  # the cursor of the preceding page (None on the first)


def parse_limit(raw: str | None, default: int, maximum: int = MAX_LIMIT) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= maximum:
        raise CursorError(f"limit 应为 1 到 {maximum} 之间的整数")
    return int(raw)


def encode(values: Sequence[Any]) -> str:
    def one(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"t": v.astimezone(UTC).isoformat()}
        if isinstance(v, date):
            return {"d": v.isoformat()}
        return v

    text = json.dumps([one(v) for v in values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str, keys: Sequence[Key]) -> list[Any]:
    """The key values of a cursor, each checked against its column's type."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong length")
        return [_value(v, key) for v, key in zip(raw, keys, strict=True)]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error) as exc:
        raise CursorError("翻页位置（cursor）无效，请从第一页重新开始") from exc


def _value(v: Any, key: Key) -> Any:
    if v is None:
        if not key.nullable:
            raise ValueError("null for a NOT NULL key")
        return None
    try:
        expected = key.column.type.python_type
    except NotImplementedError:
        expected = object
    if isinstance(v, dict):
        v = datetime.fromisoformat(v["t"]) if "t" in v else date.fromisoformat(v["d"])
    if expected is datetime and isinstance(v, datetime) and v.tzinfo is not None:
        return v
    if expected is not datetime and isinstance(v, expected) and not isinstance(v, bool | dict):
        return v
    raise ValueError(f"{type(v).__name__} for {key.name}")


def _position(keys: Sequence[Key], values: Sequence[Any], reverse: bool) -> ColumnElement[bool]:
    """Rows strictly after (before, when ``reverse``) the row with ``values``, in the order of ``keys``."""
    clauses = []
    for i, key in enumerate(keys):
        same = [k.equals(v) for k, v in zip(keys[:i], values[:i], strict=True)]
        clauses.append(and_(*same, key.after(values[i], reverse)))
    return or_(*clauses)


def page(s: Session, stmt: AnySelect, keys: Sequence[Key], limit: int, after: str | None = None,
         before: str | None = None, scalars: bool = True, entity: Callable[[Any], Any] | None = None) -> Page[Any]:
    """One page of ``stmt`` (which must not be ordered or limited yet) in the order of ``keys``: the rows after
    the cursor ``after``, or the ones before ``before``, or the first ones. The key values are read from each
    row (``entity(row)`` when the keys' attributes are on a part of it)."""
    reverse = before is not None and after is None
    token = before if reverse else after
    if token:
        stmt = stmt.where(_position(keys, decode(token, keys), reverse))
    stmt = stmt.order_by(*(k.order_by(reverse) for k in keys)).limit(limit + 1)
    rows = list(s.scalars(stmt) if scalars else s.execute(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    if reverse:
        rows.reverse()

    def cursor(row: Any) -> str:
        holder = entity(row) if entity is not None else row
        return encode([getattr(holder, k.name) for k in keys])

    has_next = more if not reverse else True
    has_prev = bool(token) if not reverse else more
    return Page(rows, limit, cursor(rows[-1]) if rows and has_next else None,
                cursor(rows[0]) if rows and has_prev else None)


COUNT_CAP = 1000  # a list counts its rows up to here; beyond, it says "more than" (counting all grows with history)


def capped_count(s: Session, stmt: AnySelect, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``stmt`` has, reading at most ``cap + 1`` of them: (count, True) when there are more."""
    n = s.scalar(select(func.count()).select_from(stmt.order_by(None).limit(cap + 1).subquery())) or 0
    return (cap, True) if n > cap else (n, False)
