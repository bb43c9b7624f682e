"""The Camunda 7 compatibility suite: public diagrams (BPMN MIWG references, camunda-bpm-examples, SpiffWorkflow's
test data) and diagrams authored for the suite, each with the outcome Camunda 7's semantics give it: refused at
deploy with located Chinese messages, or run with given inputs along an asserted path (tests/compat/README.md).

The public files are not kept in this repository: they are read from $COMPAT_DIAGRAMS or from ../shared/compat/
beside it, checked against the manifest's sha256, and skipped (with the reason) when absent."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.world import T0
from engine.clock import ManualClock
from engine.db import Database
from tests.compat import runner

HERE = Path(__file__).parent / "compat"
MANIFEST = json.loads((HERE / "MANIFEST.json").read_text(encoding="utf-8"))
PUBLIC_DIRS = [Path(p) for p in (os.environ.get("COMPAT_DIAGRAMS"),) if p] + \
    [Path(__file__).resolve().parents[2] / "shared" / "compat"]


def locate(entry: dict[str, Any]) -> Path | None:
    if entry["authored"]:
        return HERE / entry["file"]
    for base in PUBLIC_DIRS:
        if (base / entry["file"]).is_file():
            return base / entry["file"]
    return None


AUTHORED = [e for e in MANIFEST["diagrams"] if e["authored"]]
PUBLIC = [e for e in MANIFEST["diagrams"] if not e["authored"]]
PRESENT = [e for e in PUBLIC if locate(e) is not None]


def check(entry: dict[str, Any], path: Path, db: Database) -> None:
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], "the file is not the one the manifest names"
    expect = entry["expect"]
    got = runner.run([path], expect, db, ManualClock(T0))
    assert got["outcome"] == expect["outcome"], got
    if expect["outcome"] == "refused":
        assert got["located"], got  # every problem names an element or a line
        assert not Counter(expect["messages"]) - Counter(got["messages"]), got["messages"]
        assert not any("Error" in m or "Traceback" in m for m in got["messages"]), got["messages"]
    elif expect["outcome"] == "failed":
        assert (got["status"], got["message"]) == (expect["status"], expect["message"])
    else:
        assert (got["status"], got["path"], got["open"]) == (expect["status"], expect["path"], expect["open"])


@pytest.mark.parametrize("entry", AUTHORED, ids=[e["id"] for e in AUTHORED])
def test_authored_diagram_behaves_as_in_camunda(entry: dict[str, Any], sqlite_db: Database) -> None:
    check(entry, HERE / entry["file"], sqlite_db)


@pytest.mark.skipif(not PRESENT, reason=f"the {len(PUBLIC)} public diagrams are not in this repository (their "
                    "files may not be committed); give them with COMPAT_DIAGRAMS=dir or ../shared/compat")
@pytest.mark.parametrize("entry", PRESENT, ids=[e["id"] for e in PRESENT])
def test_public_diagram_behaves_as_in_camunda(entry: dict[str, Any], sqlite_db: Database) -> None:
    path = locate(entry)
    assert path is not None
    check(entry, path, sqlite_db)


def test_the_manifest_names_origin_and_licence_of_every_public_diagram() -> None:
    public = [e for e in MANIFEST["diagrams"] if not e["authored"]]
    assert len(public) >= 40
    for e in public:
        assert e["licence"] in MANIFEST["licences"], e["id"]
        origin = e["origin"]
        assert origin["url"].startswith(f"https://github.com/{origin['repo']}/blob/{origin['commit']}/"), e["id"]
    for e in MANIFEST["diagrams"]:
        assert e["expect"]["outcome"] in ("refused", "runs", "failed"), e["id"]
