"""Paging of the list pages and the list API (engine/paging.py): ``limit``, ``cursor`` (the page after) and
``before`` (the page before) from the query string, and the links of a page's pager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from engine.paging import MAX_LIMIT, CursorError, Page, parse_limit
from web.params import parse_int

MAX_CURSOR = 1000  # characters: a cursor holds a few key values


@dataclass(frozen=True)
class PageArgs:
    limit: int
    after: str | None
    before: str | None

    @property
    def first(self) -> bool:
        return not self.after and not self.before


def page_args(default: int, maximum: int = MAX_LIMIT) -> PageArgs:
    """The paging parameters of this request (CursorError, a 400 with a Chinese message, when unreadable)."""
    after = request.args.get("cursor") or None
    before = request.args.get("before") or None
    if any(c is not None and len(c) > MAX_CURSOR for c in (after, before)):
        raise CursorError("翻页位置（cursor）无效，请从第一页重新开始")
    return PageArgs(parse_limit(request.args.get("limit"), default, maximum), after, before)


def page_json(page: Page[Any]) -> dict[str, Any]:
    """What every list of the API says about its page (besides its rows)."""
    return {"limit": page.limit, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor}


def pager_links(page: Any, args: PageArgs, seq: int | None = None) -> dict[str, str | None]:
    """首页 / 上一页 / 下一页 of a list page (``page``: anything with ``rows``, ``next_cursor``, ``prev_cursor``):
    the same endpoint and query, another position. With ``seq``, the number of the page's first row, the links
    carry ``n``, the number of the first row of the page they lead to (for a 序号 column)."""
    kept = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("cursor", "before", "page", "n")}
    endpoint, view_args = request.endpoint or "", dict(request.view_args or {})

    def link(n: int | None = None, **position: str) -> str:
        numbered = {"n": str(n)} if seq is not None and n is not None and n > 1 else {}
        return url_for(endpoint, **view_args, **kept, **position, **numbered)

    start = seq or 1
    return {"first": None if args.first else link(),
            "prev": link(max(1, start - args.limit), before=page.prev_cursor) if page.prev_cursor else None,
            "next": link(start + len(page.rows), cursor=page.next_cursor) if page.next_cursor else None}


# How the OpenAPI document (web/views/api.py) describes paging: the same three parameters and fields on every
# list of the API.
PAGE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
     "description": f"每页条数（1–{MAX_LIMIT}，各列表有默认值）"},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "上一页响应中的 next_cursor：取其后一页（不透明的翻页位置）"},
    {"name": "before", "in": "query", "schema": {"type": "string"},
     "description": "某页响应中的 prev_cursor：取其前一页"},
]
PAGE_PROPERTIES: dict[str, Any] = {
    "limit": {"type": "integer", "description": "本页最多条数"},
    "next_cursor": {"type": "string", "nullable": True, "description": "下一页的 cursor；最后一页为 null"},
    "prev_cursor": {"type": "string", "nullable": True, "description": "前一页的 before；第一页为 null"},
}


def first_seq() -> int:
    """The number of a page's first row, as its pager passed it on (``n``; 1 when absent or unreadable)."""
    return parse_int(request.args.get("n")) or 1
