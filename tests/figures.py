"""Figures the suite prints at the end (diagrams tried, routes × roles checked, kills injected …)."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    FIGURES[name] += n
