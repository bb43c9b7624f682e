"""Request parameters read with bounds, so no shape of a request reaches the database or date arithmetic as a
500: ids in routes are ASCII digits up to 2^31 - 1 (PostgreSQL's integer), and query values out of range are the
caller's mistake (404 for a page or record that cannot exist, a Chinese message for a bad filter).

``int('²')`` raises although ``'²'.isdigit()`` is true, Werkzeug's ``<int:>`` matches any Unicode digit and any
length, and ``date(9999, 12, 31) + timedelta(days=1)`` overflows: these helpers accept only what every later step
can handle.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
# Dates people filter by: anything outside is a typo, and the arithmetic near year 1 or 9999 overflows.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` for the whole app: ASCII digits only, 0 … MAX_ID; anything else is no route (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 0, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def parse_int(raw: str | None, low: int = 1, high: int = MAX_ID) -> int | None:
    """An integer written in ASCII digits within [low, high], else None."""
    text = (raw or "").strip()
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_date(raw: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD) between MIN_DATE and MAX_DATE, else None."""
    text = (raw or "").strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if MIN_DATE <= value <= MAX_DATE else None
