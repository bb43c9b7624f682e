"""定时与督办 (scheduled starts, timer start events): steps in steps/timing.py."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("定时与督办.feature")
