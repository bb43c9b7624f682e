"""A command takes the workflow the previous command on the same instance left in memory only when the
instance's row still holds the state that workflow was saved as: another process's command, or a command that
rolled back after saving, makes it read the state again (engine/warm.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from test_state_compaction import meeting_with_replies_open

import engine.models  # noqa: F401
import meeting.models  # noqa: F401
from engine.db import Database
from engine.models import Instance
from meeting import directory
from meeting.demo import Walkthrough, reply_for
from meeting.runtime import build_service

MEMBERS = 17  # one 参会回执 per member unit


def stored(db: Database, iid: str) -> str:
    with db.sessions() as s:
        inst = s.get(Instance, iid)
        assert inst is not None
        return inst.state


def unit_codes(w: Walkthrough) -> list[str]:
    """Member units that answer the 参会回执."""
    with w.db.sessions() as s:
        return [u for u in directory.member_unit_codes(s) if reply_for(u)]


def replies_open(w: Walkthrough, iid: str) -> int:
    """参会回执 still awaited in the workflow itself (not in its task rows)."""
    wf = w.service.workflow(iid)
    return sum(1 for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "confirm_attendance")


def test_the_workflow_kept_in_memory_is_the_stored_one(tmp_path: Path) -> None:
    w, iid = meeting_with_replies_open(tmp_path)
    warm = w.service.projector.warm
    hits = warm.hits
    units = unit_codes(w)[:5]
    for unit in units:
        w.do(unit, "confirm_attendance", reply_for(unit) or {}, attendee=unit)
        entry = warm._entries[iid]
        # What stays in memory writes the very text the row holds.
        assert entry.state == stored(w.db, iid) == w.service.runner.dumps(entry.workflow)
    assert warm.hits - hits == len(units)  # every reply after the first took the workflow from memory
    assert replies_open(w, iid) == MEMBERS - len(units)


def test_a_command_of_another_process_makes_the_next_one_read_the_state(tmp_path: Path) -> None:
    w, iid = meeting_with_replies_open(tmp_path)
    other = Walkthrough(w.db, build_service(w.db, w.clock), w.clock)  # as a second web process would
    caches = (w.service.projector.warm, other.service.projector.warm)
    before = [(c.hits, c.misses) for c in caches]
    units = unit_codes(w)[:6]
    for n, unit in enumerate(units):
        (other if n % 2 == 0 else w).do(unit, "confirm_attendance", reply_for(unit) or {}, attendee=unit)
    # Each reply came after the other process's: what either kept in memory no longer matched the row.
    assert [(c.hits - h, c.misses - m) for c, (h, m) in zip(caches, before, strict=True)] == [(0, 3), (0, 3)]
    assert replies_open(w, iid) == MEMBERS - len(units)
    assert w.service.runner.dumps(w.service.workflow(iid)) == stored(w.db, iid)


def test_a_command_that_rolls_back_after_saving_leaves_nothing_in_memory(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    w, iid = meeting_with_replies_open(tmp_path)
    first, second = unit_codes(w)[:2]
    w.do(first, "confirm_attendance", reply_for(first) or {}, attendee=first)
    before = stored(w.db, iid)
    projector = w.service.projector
    save = projector.save

    def save_then_fail(*args: Any, **kwargs: Any) -> Any:
        save(*args, **kwargs)  # the workflow with the reply is held for the commit …
        raise RuntimeError("提交失败")  # … which never comes

    monkeypatch.setattr(projector, "save", save_then_fail)
    task = w.task(second, "confirm_attendance", attendee=second)
    actor = w.actor(second)
    w.service.claim(task.id, actor)
    with pytest.raises(RuntimeError):
        w.service.complete(task.id, actor, reply_for(second) or {})
    assert stored(w.db, iid) == before and iid not in projector.warm._entries
    monkeypatch.undo()

    # Done again, the reply is recorded once, from the stored state.
    w.service.complete(task.id, actor, reply_for(second) or {})
    assert replies_open(w, iid) == MEMBERS - 2
