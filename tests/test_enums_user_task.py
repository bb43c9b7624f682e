"""A user task's ``enums`` field keeps its declared values through the parse and the stored spec (SpiffWorkflow's
own parser and converter keep the values of ``enum`` fields only)."""

from __future__ import annotations

from pathlib import Path

from engine.forms import FormSpec
from engine.loader import SourceFile, load
from engine.serialization import StateCodec
from meeting.actions import registry
from meeting.fields import field_types

ROOT = Path(__file__).resolve().parents[1]


def test_the_verification_form_offers_every_aid_type_after_a_restore() -> None:
    source = SourceFile("urgent_assistance.bpmn", (ROOT / "processes" / "urgent_assistance.bpmn").read_bytes())
    handling = SourceFile("assistance_handling.bpmn", (ROOT / "processes" / "assistance_handling.bpmn").read_bytes())
    loaded = {p.key: p for p in load([source, handling], registry, field_types=field_types())}
    blob = loaded["urgent_assistance"].spec
    assert next(f for f in blob["spec"]["task_specs"]["verify_case"]["form"]["fields"]
                if f["id"] == "refer_aid_types")["options"][0] == {"id": "最低生活保障", "name": "最低生活保障"}
    spec, _ = StateCodec().specs("sha", blob)
    form = FormSpec.from_task_spec(spec.task_specs["verify_case"])
    field = next(f for f in form.fields if f.id == "refer_aid_types")
    assert field.type == "enums" and [i for i, _ in field.options][:3] == ["最低生活保障", "特困人员供养", "临时救助"]
    assert len(field.options) == 10
    verdict = next(f for f in form.fields if f.id == "verify_result")
    assert verdict.options == [("confirmed", "属实"), ("unfounded", "不属实")]  # enum fields as before
