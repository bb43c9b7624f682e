"""进展报送与阶段性报告: the steps are in steps/supervision.py (and the shared ones)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios("进展报送与阶段性报告.feature")
