"""议定事项落实 (resolution_item): the steps of 议定事项落实.feature are shared (steps/domain.py)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("议定事项落实.feature")
