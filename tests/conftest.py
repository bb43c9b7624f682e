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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist each worker hands its figures to the controller, which prints them once."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        from figures import FIGURES

        workeroutput["figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    from figures import FIGURES

    FIGURES.update(getattr(node, "workeroutput", {}).get("figures", {}))
