"""The features run every scenario twice: on a real SQLite file (WAL) and on the machine's PostgreSQL server (a
private schema). Each scenario starts from a fresh database with the directory of the rules, the demo users and
the five deployed processes; time moves only through the ManualClock. The ``database`` and ``clock`` fixtures
(a SQLite file per scenario, the session's private PostgreSQL schema; the clock at Monday 2 March 2026, 09:00 in
Beijing) are the ones the tests use, declared once in the root conftest.py.

A command a scenario expects to be refused is kept by the world; the very next step must check it (steps
marked with ``checks_refusal``). Any other step finding an unchecked refusal fails the scenario there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))

from steps.common import *  # noqa: E402,F403  (the shared step definitions)
from steps.common import UNCHANGED  # noqa: E402
from steps.domain import *  # noqa: E402,F403
from steps.supervision import *  # noqa: E402,F403
from steps.timing import *  # noqa: E402,F403
from steps.world import World  # noqa: E402


@pytest.fixture(autouse=True)
def world(database: Database, clock: ManualClock) -> World:
    """Autouse, so that every scenario is parametrized over both backends."""
    return World(database, clock)


def pytest_bdd_before_scenario(request, feature, scenario) -> None:  # type: ignore[no-untyped-def]
    """Snapshots of every table cost a little; take them only where a scenario checks that nothing changed."""
    world: World = request.getfixturevalue("world")
    world.track_changes = any(step.name == UNCHANGED for step in scenario.steps)


def pytest_bdd_before_step(request, feature, scenario, step, step_func) -> None:  # type: ignore[no-untyped-def]
    world: World = request.getfixturevalue("world")
    if world.error is not None and not getattr(step_func, "checks_refusal", False):
        error, world.error = world.error, None
        raise AssertionError(f"上一步被拒绝：{error} {getattr(error, 'errors', '')}")


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:  # type: ignore[no-untyped-def]
    request.getfixturevalue("world").failed = True


def pytest_bdd_after_scenario(request, feature, scenario) -> None:  # type: ignore[no-untyped-def]
    world: World = request.getfixturevalue("world")
    if world.error is not None and not world.failed:
        error, world.error = world.error, None
        raise AssertionError(f"最后一步被拒绝，但没有步骤检查：{error} {getattr(error, 'errors', '')}")
