"""The benchmark harness (bench/run.py, ``make bench``) in its smoke mode: N = 5 and small bulk sizes.

It must produce every figure bench.run.FIGURES names with a positive value, its N and the machine's cores
(the PostgreSQL figures may be skipped, with the reason). How fast the figures are is what ``make bench``
reports; no speed is asserted here."""

from __future__ import annotations

import json
from pathlib import Path

# bench/ is a folder of the repository, not an installed package: the root conftest.py puts the repository
# root on sys.path, which makes it importable.
from bench.run import FIGURES, MIN_TARGETS, PG_FIGURES, TARGETS, Plan, run


def test_quick_run_writes_every_figure_with_its_n(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run(Plan.make(quick=True), out)
    data = json.loads(out.read_text(encoding="utf-8"))

    assert data["quick"] is True
    cores = data["machine"]["cores"]
    assert isinstance(cores, int) and cores >= 1
    for name in FIGURES:
        if name in PG_FIGURES and name in data["skipped"]:
            assert "PostgreSQL" in data["skipped"][name]  # no server here: said so, not silently left out
            continue
        figure = data["figures"][name]
        assert isinstance(figure["value"], int | float) and figure["value"] > 0, (name, figure)
        assert isinstance(figure["n"], int) and figure["n"] > 0, (name, figure)
        assert figure["cores"] == cores
        assert figure["unit"] and figure["stat"]
        if name in TARGETS:
            assert figure["target"] == f"<= {TARGETS[name]:g}" and isinstance(figure["met"], bool)
        if name in MIN_TARGETS:
            assert figure["target"] == f">= {MIN_TARGETS[name]:g}" and isinstance(figure["met"], bool)
    assert set(data["figures"]) | set(data["skipped"]) == set(FIGURES)
    load = data["machine"]["load_average_at_start"] + data["machine"]["load_average_at_end"]
    assert len(load) == 6 and "busy" in data  # the load is recorded, and whether it made the machine busy
