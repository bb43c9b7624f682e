"""Stored state leaves out what SpiffWorkflow's serializer writes at its usual values, and an emptied predicted
step's list of deletions: a joint meeting with 17 replies open restores to the same tasks and data, and a state
stored in the full form (before compaction) still restores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState

import engine.models  # noqa: F401
import meeting.models  # noqa: F401
from bench.world import planned_meeting, walkthrough
from engine.db import Database
from engine.models import Instance
from engine.serialization import SERIALIZER_VERSION


def tasks_of(wf: Any) -> dict[str, tuple[Any, ...]]:
    return {str(t.id): (t.task_spec.name, t.state, str(t.parent.id) if t.parent else None,
                        sorted(str(c.id) for c in t.children), t.triggered, t.internal_data, t.data)
            for t in wf.get_tasks()}


def meeting_with_replies_open(tmp_path: Path) -> tuple[Any, str]:
    db = Database(f"sqlite:///{tmp_path}/state.db")
    db.create_all()
    w = walkthrough(db)
    iid = planned_meeting(w)
    return w, iid


def test_compact_state_restores_the_same_workflow(tmp_path: Path) -> None:
    w, iid = meeting_with_replies_open(tmp_path)
    runner = w.service.runner
    with w.db.sessions() as s:
        inst = s.get(Instance, iid)
        stored = inst.state
        wf = runner.restore(s, inst)
        specs = runner.specs(s, runner.model_of(s, inst))
    assert len(wf.get_tasks(state=TaskState.READY)) == 17  # one attendance reply per member unit
    codec = runner.codec

    # Nothing at its default is written, and emptied steps carry a mark instead of their parent's keys.
    dct = json.loads(stored)
    fields = [key for task in dct["tasks"].values() for key in task]
    assert "typename" not in fields and fields.count("data") == 1  # the root holds the data; the rest are deltas
    assert fields.count("internal_data") < len(dct["tasks"]) / 2 and fields.count("triggered") < len(dct["tasks"]) / 2
    assert any(task.get("delta") == {"emptied": True} for task in dct["tasks"].values())

    # Restored, it is the same workflow, and written again it is the same text.
    again = codec.loads(stored, specs)
    assert tasks_of(again) == tasks_of(wf) and codec.dumps(again) == stored

    # The full form SpiffWorkflow writes (states stored before compaction) restores to the same workflow too.
    serializer = codec.serializer
    serializer.registry._encoder_mode = True
    try:
        full = serializer.to_dict(wf)
    finally:
        serializer.registry._encoder_mode = False
    full[serializer.VERSION_KEY] = SERIALIZER_VERSION
    full_text = json.dumps(full, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))
    assert len(stored) < 0.8 * len(full_text)
    assert tasks_of(codec.loads(full_text, specs)) == tasks_of(wf)

    # And the meeting goes on from the compact state: every unit answers, the plan reaches the meeting day.
    with w.db.sessions() as s:
        from meeting import directory

        members = directory.member_unit_codes(s)
    for code in members:
        w.do(code, "confirm_attendance", {"attendance": "attend", "attendee_name": f"{code}分管负责人"}, attendee=code)
    with w.db.sessions() as s:
        assert runner.restore(s, s.get(Instance, iid)).get_tasks(state=TaskState.READY) == []
