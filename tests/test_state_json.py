"""The stored state and the JSON columns are written by orjson (engine/serialization.py, engine/db.py): the text
must be the JSON the standard library's encoder wrote, and a workflow's data must come back with its types —
dates, datetimes, decimals, durations, integers beyond 64 bits (written by the standard library's encoder, as
orjson refuses them), Chinese text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.util.task import TaskState

from engine.db import _json_dumps
from engine.models import Instance
from engine.serialization import SharedSpecWorkflowConverter, StateCodec, TaskToDict, _compact
from engine.specs import make_serializer
from tests.test_state_compaction import meeting_with_replies_open

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-2**80, max_value=2**80)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(exclude_categories=("Cs",)))
           | st.sampled_from(["区民政局", "社会救助联席会议", "议定事项\n落实"]))
# SpiffWorkflow's registry writes a duration as days and seconds (its microseconds are dropped, orjson or not)
TYPED = (st.dates() | st.datetimes(timezones=st.none() | st.just(UTC))
         | st.timedeltas().map(lambda d: timedelta(days=d.days, seconds=d.seconds))
         | st.decimals(allow_nan=False, allow_infinity=False))
STOCK = make_serializer({BpmnWorkflow: SharedSpecWorkflowConverter})  # SpiffWorkflow's TaskConverter
KEYS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)


def nested(leaves: Any) -> Any:
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                        max_leaves=10)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[StateCodec, str, Any]:
    w, iid = meeting_with_replies_open(tmp_path_factory.mktemp("state_json"))
    runner = w.service.runner
    with w.db.sessions() as s:
        inst = s.get(Instance, iid)
        return runner.codec, inst.state, runner.specs(s, runner.model_of(s, inst))


def standard_library_text(codec: StateCodec, wf: Any) -> str:
    """What ``dumps`` wrote before orjson and engine/serialization.py's TaskToDict: SpiffWorkflow's own task
    dictionaries, by the standard library's encoder."""
    serializer = STOCK
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(wf)
        _compact(dct)
        dct[serializer.VERSION_KEY] = serializer.VERSION
        return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))
    finally:
        serializer.registry._encoder_mode = False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(KEYS, nested(SCALARS | TYPED), max_size=5))
def test_the_state_is_the_standard_librarys_json_and_the_data_comes_back_typed(
        stored: tuple[StateCodec, str, Any], data: dict[str, Any]) -> None:
    codec, text, specs = stored
    wf = codec.loads(text, specs)
    task = wf.get_tasks(state=TaskState.READY)[0]
    task.data.update(data)
    written = codec.dumps(wf)
    assert json.loads(written) == json.loads(standard_library_text(codec, wf))
    again = codec.loads(written, specs)
    assert again.get_task_from_id(task.id).data == task.data


def test_what_orjson_refuses_is_written_by_the_standard_library(stored: tuple[StateCodec, str, Any]) -> None:
    codec, text, specs = stored
    wf = codec.loads(text, specs)
    task = wf.get_tasks(state=TaskState.READY)[0]
    task.data.update({"大数": 2**70, "金额": Decimal("12.50"), "日期": date(2026, 12, 8),
                      "时间": datetime(2026, 12, 8, 9, 30, tzinfo=UTC)})
    written = codec.dumps(wf)
    assert str(2**70) in written and written == standard_library_text(codec, wf)
    assert codec.loads(written, specs).get_task_from_id(task.id).data == task.data


@given(value=nested(SCALARS))
def test_a_json_column_is_the_standard_librarys_json(value: Any) -> None:
    assert json.loads(_json_dumps(value)) == value or value != value  # noqa: PLR0124 (no NaN is generated)
    assert json.loads(_json_dumps(value)) == json.loads(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def test_a_json_column_refuses_a_date_as_before() -> None:
    for value in ({"期限": date(2026, 12, 8)}, [datetime(2026, 12, 8, tzinfo=UTC)]):
        with pytest.raises(TypeError):
            _json_dumps(value)
    assert _json_dumps({"单位": "区民政局", "n": 2**70}) == '{"单位":"区民政局","n":1180591620717411303424}'


def test_the_task_dictionaries_are_spiffworkflows(stored: tuple[StateCodec, str, Any]) -> None:
    """TaskToDict gives SpiffWorkflow's own TaskConverter dictionary for every task of a joint meeting with its
    17 replies open (the root with its data, deltas, children, internal data), in both of the registry's modes."""
    codec, text, specs = stored
    wf = codec.loads(text, specs)
    ours, stock = codec.serializer.registry, STOCK.registry
    assert type(ours.convert_to_dict["Task"].args[1].__self__) is TaskToDict
    assert type(stock.convert_to_dict["Task"].args[1].__self__) is TaskConverter
    tasks = wf.get_tasks()
    assert len(tasks) > 40 and any(t.internal_data for t in tasks) and any(len(t.children) > 1 for t in tasks)
    for t in tasks[4:12]:  # keys dropped and changed under the parent's data: deltas with both
        t.data = {k: ("改" if i % 2 else v) for i, (k, v) in enumerate(list(t.data.items())[1:])}
    stock_dicts = [stock.convert(t) for t in tasks]
    assert any(d["delta"] and d["delta"]["deletions"] and d["delta"]["updates"] for d in stock_dicts)
    for encoder_mode in (False, True):
        ours._encoder_mode = stock._encoder_mode = encoder_mode
        try:
            assert [ours.convert(t) for t in tasks] == [stock.convert(t) for t in tasks]
        finally:
            ours._encoder_mode = stock._encoder_mode = False


def test_the_state_is_written_by_orjson(stored: tuple[StateCodec, str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is the one taken: with the standard library's encoder out of reach, a joint meeting's state
    is still written, and the same text."""
    codec, text, specs = stored
    wf = codec.loads(text, specs)
    expected = codec.dumps(wf)

    def refuse(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("the standard library's encoder was used")

    monkeypatch.setattr(json, "dumps", refuse)
    assert codec.dumps(wf) == expected
