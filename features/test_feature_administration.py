"""系统管理 and 系统初始化: steps in steps/administration.py. 系统初始化 starts from a production install: the
directory and the processes, no users (its own ``world``)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from pytest_bdd import given, scenarios
from sqlalchemy import delete
from steps.administration import *  # noqa: F403  (this feature's steps)
from steps.world import World

from engine.clock import ManualClock
from engine.db import Database
from meeting import passwords
from meeting.models import User, UserRole

scenarios("系统管理.feature", "系统初始化.feature")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small parameters: an import hashes a password per person (production keeps the defaults)."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(autouse=True)
def world(database: Database, clock: ManualClock) -> World:
    """As in conftest.py; 系统初始化 removes the demo users in its background step."""
    return World(database, clock)


@given("系统以生产方式初始化，没有任何用户")
def fresh_install(world: World) -> None:
    with world.db.transaction() as s:
        s.execute(delete(UserRole))
        s.execute(delete(User))
