"""The tests' own hook: the figures some tests record are printed at the end of the run.

The shared fixtures (``database``, ``sqlite_db``, ``pg_schema_url``, ``clock``) are declared once, in the root
conftest.py, for tests/ and features/ alike."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from figures import FIGURES

    if FIGURES:
        terminalreporter.section("figures")
        for name in sorted(FIGURES):
            terminalreporter.write_line(f"{name} = {FIGURES[name]}")
