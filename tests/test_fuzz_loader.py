"""Fuzzing the diagram loader and the expression evaluator: any input ends in a clean validation error
or a successful load, never another exception. `make fuzz` runs the same properties with many more cases."""

from __future__ import annotations

import os
from pathlib import Path

from figures import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import expressions
from engine.errors import DeployError
from engine.loader import SourceFile, load
from meeting.actions import registry

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "processes" / "topic_proposal.bpmn").read_bytes()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                database=None)


def try_load(data: bytes) -> None:
    count("diagrams tried")
    try:
        load([SourceFile("fuzz.bpmn", data)], registry)
    except DeployError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    try_load(data)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_real_diagram_never_crashes_the_loader(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID)
    for pos, value in flips:
        data[pos] = value
    try_load(bytes(data[: max(cut, 1)]) if cut % 3 == 0 else bytes(data))


EXPRESSION_SLOTS = (
    (b'${screen_decision == "accept"}', "condition"),
    (b'camunda:candidateGroups="office"', "candidateGroups"),
    (b'camunda:dueDate="P5D"', "dueDate"),
)
ATOMS = st.sampled_from(["__import__", "().__class__", "x", "'a'", "10**9", "*", "+", "(", ")", "[", "]",
                         "lambda", "for", "in", ".", "__subclasses__", "open", "len", ",", "days_before",
                         "\"", "'", "}", "${", "\\", "\x00", "、", "==", "not", "if", "else", "9" * 30])


@FUZZ
@given(st.lists(ATOMS, max_size=12).map(" ".join), st.sampled_from(EXPRESSION_SLOTS))
def test_hostile_expressions_in_every_slot_are_refused_or_safe(expr: str, slot: tuple[bytes, str]) -> None:
    original, kind = slot
    if original not in VALID:
        return
    escaped = expr.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").encode("utf-8", "replace")
    if kind == "condition":
        replacement = b"${" + escaped + b"}"
    else:
        attr = original.split(b"=")[0]
        replacement = attr + b'="${' + escaped + b'}"'
    try_load(VALID.replace(original, replacement, 1))


@FUZZ
@given(st.lists(ATOMS, max_size=12).map(" ".join),
       st.dictionaries(st.sampled_from(["x", "y", "units"]), st.one_of(st.integers(), st.text(max_size=5))))
def test_expression_evaluator_only_raises_expression_error(expr: str, data: dict[str, object]) -> None:
    count("expressions tried")
    try:
        expressions.evaluate(expr, data)
    except expressions.ExpressionError:
        pass
