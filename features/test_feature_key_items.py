"""重点事项销号: the steps are in steps/supervision.py (and the shared ones)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("重点事项销号.feature")
