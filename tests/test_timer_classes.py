"""Our timer event definitions (engine/timers.py) replace SpiffWorkflow's through the parser and the serializer
only: the library's own classes and module globals stay as shipped, and state stored with the stock classes
restores into ours."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer_module
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from test_engine_service import DIAGRAMS, OFFICE, Actions, deploy

from engine import clock as app_clock
from engine.clock import ManualClock, SystemClock, set_clock
from engine.db import Database
from engine.models import Instance, ProcessModel, ProcessSpec
from engine.serialization import StateCodec
from engine.service import WorkflowService
from engine.specs import AppParser, make_serializer
from engine.timers import (
    AppCycleTimerEventDefinition,
    AppDurationTimerEventDefinition,
    AppTimeDateEventDefinition,
    run_engine_steps,
)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing

STOCK_TIMER_NAMES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}

# What SpiffWorkflow's timer module looks like: run in a fresh interpreter that never imported our code, and here.
FINGERPRINT = """
from SpiffWorkflow.bpmn.specs.event_definitions import timer as m


def where(f):
    return f.__module__ + ":" + f.__qualname__


def fingerprint():
    return {
        "datetime": m.datetime.__module__ + "." + m.datetime.__qualname__,
        "LOCALTZ": str(m.LOCALTZ),
        "TimeDate.has_fired": where(m.TimeDateEventDefinition.has_fired),
        "Duration.has_fired": where(m.DurationTimerEventDefinition.has_fired),
        "Cycle.cycle_complete": where(m.CycleTimerEventDefinition.cycle_complete),
        "Cycle.update_task": where(m.CycleTimerEventDefinition.update_task),
        "Timer.get_datetime": where(m.TimerEventDefinition.get_datetime),
        "Timer.get_timedelta_from_start": where(m.TimerEventDefinition.get_timedelta_from_start),
    }
"""

ONE_HOUR_WAIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_stock" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="stock_wait" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="until" name="一小时">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="handle" name="到时处理"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="until" />
    <bpmn:sequenceFlow id="f2" sourceRef="until" targetRef="handle" />
    <bpmn:sequenceFlow id="f3" sourceRef="handle" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def fingerprint() -> dict[str, str]:
    namespace: dict[str, Any] = {}
    exec(FINGERPRINT, namespace)  # noqa: S102 - our own constant, the same text the fresh interpreter runs
    return namespace["fingerprint"]()


@pytest.fixture
def restore_clock() -> Any:
    yield
    set_clock(SystemClock())


@pytest.fixture
def svc(sqlite_db: Database, clock: ManualClock, restore_clock: Any) -> WorkflowService:
    service = WorkflowService(sqlite_db, Actions().registry, clock)
    deploy(service, "wait_date", "wait_duration", "monthly_ping", "monthly_visit")
    return service


def stored(svc: WorkflowService, instance_id: str) -> tuple[str, str, dict[str, Any]]:
    """The instance's state text, its spec hash and the stored spec blob, straight from the database."""
    with svc.db.sessions() as s:
        inst = s.get(Instance, instance_id)
        assert inst is not None
        model = s.get(ProcessModel, inst.model_id)
        assert model is not None
        blob = s.get(ProcessSpec, model.spec_sha)
        assert blob is not None
        return inst.state, model.spec_sha, blob.spec


def waiting(wf: BpmnWorkflow, bpmn_id: str) -> Any:
    [task] = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
    return task


def ready_ids(wf: BpmnWorkflow) -> list[str]:
    return sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY))


def event_definitions(blob: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(blob, dict):
        ed = blob.get("event_definition")
        if isinstance(ed, dict):
            found.append(ed)
        for value in blob.values():
            found.extend(event_definitions(value))
    elif isinstance(blob, list):
        for value in blob:
            found.extend(event_definitions(value))
    return found


def event_typenames(blob: Any) -> list[str]:
    return [ed["typename"] for ed in event_definitions(blob)]


# ---------------------------------------------------------------- SpiffWorkflow stays stock
def test_stock_spiffworkflow_is_untouched_after_the_service_is_built(svc: WorkflowService) -> None:
    svc.start("wait_duration", OFFICE, {"wait": "PT1H"})  # a timer armed through our classes
    script = FINGERPRINT + "\nimport json\nprint(json.dumps(fingerprint()))\n"
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert fingerprint() == json.loads(fresh.stdout)
    assert spiff_timer_module.datetime is datetime

    # The stock classes, parsed by the stock parser, still read the system clock, not the moved app clock.
    assert app_clock.now() == T0
    parser = CamundaParser()
    parser.add_bpmn_str(ONE_HOUR_WAIT.encode())
    wf = BpmnWorkflow(parser.get_spec("stock_wait"))
    wf.do_engine_steps()
    task = waiting(wf, "until")
    assert type(task.task_spec.event_definition) is spiff_timer_module.DurationTimerEventDefinition
    due = datetime.fromisoformat(task.internal_data["event_value"])
    assert abs(due - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)


def test_our_parser_builds_our_timer_classes_on_every_event_kind() -> None:
    parser = AppParser()
    for name in ("wait_date", "wait_duration", "monthly_ping", "monthly_visit"):
        parser.add_bpmn_file(str(DIAGRAMS / f"{name}.bpmn"))
    kinds = {
        ("wait_date", "until"): AppTimeDateEventDefinition,  # intermediate catch
        ("wait_duration", "until"): AppDurationTimerEventDefinition,
        ("monthly_ping", "monthly"): AppCycleTimerEventDefinition,  # boundary
        ("monthly_visit", "month_end"): AppCycleTimerEventDefinition,  # start
    }
    for (process, bpmn_id), cls in kinds.items():
        [spec] = [t for t in parser.get_spec(process).task_specs.values() if t.bpmn_id == bpmn_id]
        assert type(spec.event_definition) is cls, (process, bpmn_id)


def test_timers_serialize_exactly_as_the_stock_classes_did() -> None:
    """So the stored spec of an unchanged diagram, hence its hash, stays the same and a redeploy keeps the
    version."""
    stock_parser, app_parser = CamundaParser(), AppParser()
    names = ("wait_date", "wait_duration", "monthly_ping", "monthly_visit")
    for name in names:
        stock_parser.add_bpmn_file(str(DIAGRAMS / f"{name}.bpmn"))
        app_parser.add_bpmn_file(str(DIAGRAMS / f"{name}.bpmn"))
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    for name in names:
        theirs = event_definitions(stock.to_dict(stock_parser.get_spec(name)))
        ours = event_definitions(make_serializer().to_dict(app_parser.get_spec(name)))
        assert ours == theirs and {ed["typename"] for ed in ours} & STOCK_TIMER_NAMES, name


# ---------------------------------------------------------------- deployed, stored, restored
@pytest.mark.parametrize(("process", "data", "bpmn_id", "cls", "due"), [
    ("wait_duration", {"wait": "PT1H"}, "until", AppDurationTimerEventDefinition, T0 + timedelta(hours=1)),
    ("wait_date", {"when": "2026-03-02T12:00:00"}, "until", AppTimeDateEventDefinition,  # naive: Beijing
     datetime(2026, 3, 2, 4, 0, tzinfo=UTC)),
    ("monthly_ping", {"start_at": "2026-03-31T09:00:00"}, "monthly", AppCycleTimerEventDefinition,
     datetime(2026, 3, 31, 1, 0, tzinfo=UTC)),
])
def test_a_started_instance_restored_by_the_state_codec_fires_on_the_moved_clock(
        svc: WorkflowService, clock: ManualClock, process: str, data: dict[str, str], bpmn_id: str, cls: type,
        due: datetime) -> None:
    iid = svc.start(process, OFFICE, data).instance_id
    state, sha, blob = stored(svc, iid)
    # Stored under SpiffWorkflow's type names, as before our classes: the spec hash of an unchanged diagram holds.
    assert set(event_typenames(blob)) & {"AppTimeDateEventDefinition", "AppDurationTimerEventDefinition",
                                         "AppCycleTimerEventDefinition"} == set()
    codec = StateCodec()  # a fresh one: nothing cached from the service
    wf = codec.loads(state, codec.specs(sha, blob))
    task = waiting(wf, bpmn_id)
    assert type(task.task_spec.event_definition) is cls
    [event] = [e for e in wf.waiting_events() if e.name == task.task_spec.event_definition.name]
    assert event.event_type == cls.__name__.removeprefix("App")  # the stock name, which next_timer_at relies on
    assert svc.instance(iid).next_timer_at == due

    clock.set(due - timedelta(seconds=1))
    wf.refresh_timers()
    run_engine_steps(wf)
    assert waiting(wf, bpmn_id) is not None and "handle" not in ready_ids(wf) and "ping" not in ready_ids(wf)

    wf = codec.loads(codec.dumps(wf), codec.specs(sha, blob))  # and once more through the codec
    clock.set(due + timedelta(seconds=1))
    wf.refresh_timers()
    run_engine_steps(wf)
    assert {"handle", "ping"} & set(ready_ids(wf))


def test_specs_and_state_written_by_the_stock_serializer_restore_into_our_classes(
        clock: ManualClock, restore_clock: Any) -> None:
    """Rows stored before our classes existed hold stock timer definitions: they come back as ours."""
    set_clock(clock)
    parser = CamundaParser()
    parser.add_bpmn_str(ONE_HOUR_WAIT.encode())
    wf = BpmnWorkflow(parser.get_spec("stock_wait"), parser.get_subprocess_specs("stock_wait"))
    wf.do_engine_steps()
    waiting(wf, "until").internal_data["event_value"] = (T0 + timedelta(hours=1)).isoformat()
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    legacy = stock.serialize_json(wf)
    dct = json.loads(legacy)
    blob = {"spec": dct.pop("spec"), "subprocess_specs": dct.pop("subprocess_specs")}
    assert "DurationTimerEventDefinition" in event_typenames(blob)

    codec = StateCodec()
    wf = codec.loads(json.dumps(dct), codec.specs("legacy", blob))
    assert type(waiting(wf, "until").task_spec.event_definition) is AppDurationTimerEventDefinition
    clock.set(T0 + timedelta(minutes=59))
    wf.refresh_timers()
    run_engine_steps(wf)
    assert ready_ids(wf) == []
    clock.set(T0 + timedelta(minutes=61))
    wf.refresh_timers()
    run_engine_steps(wf)
    assert ready_ids(wf) == ["handle"]

    # The whole-workflow serializer (spec included) restores them the same way.
    full = make_serializer().deserialize_json(legacy)
    assert type(full.spec.task_specs["until"].event_definition) is AppDurationTimerEventDefinition


def test_a_stock_timer_definition_is_not_silently_serialized_as_ours() -> None:
    parser = CamundaParser()
    parser.add_bpmn_str(ONE_HOUR_WAIT.encode())
    with pytest.raises(TypeError):
        make_serializer().serialize_json(BpmnWorkflow(parser.get_spec("stock_wait")))
