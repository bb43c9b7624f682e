"""The clerk's pages without a browser: conditional form fields, the scoped task history, the inbox summaries,
the 409 page's words, and static files (hashed names, caching, compression)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from engine.db import Database
from engine.errors import FormError
from engine.forms import Field, FormSpec, is_shown, validate
from meeting import directory
from web.history import decision_lines, related_tasks
from web.taskforms import typed_values

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "static" / "dist"


# ------------------------------------------------------------------------------------ conditional fields
def _report_form() -> FormSpec:
    return FormSpec([
        Field("report_action", "办理方式", "enum", default="report", constraints={"required": None},
              options=[("report", "报告落实结果"), ("extend", "申请延期")]),
        Field("result_body", "落实情况", "text", constraints={"required": None},
              properties={"showWhen": "report_action=report"}),
        Field("extension_reason", "延期理由", "text", constraints={"required": None},
              properties={"showWhen": "report_action=extend"}),
        Field("note", "备注", "text", properties={"showWhen": "report_action=report|extend"}),
    ])


def test_a_hidden_field_is_neither_required_nor_stored() -> None:
    form = _report_form()
    clean = validate(form, {"report_action": "extend", "extension_reason": "需与市级平台对接。",
                            "result_body": "typed before changing the choice", "note": "n"})
    assert clean == {"report_action": "extend", "result_body": None, "extension_reason": "需与市级平台对接。",
                     "note": "n"}
    with pytest.raises(FormError) as refused:
        validate(form, {"report_action": "report"})
    assert set(refused.value.errors) == {"result_body"}  # the extension's reason is not asked for


def test_the_default_choice_decides_what_is_shown() -> None:
    form = _report_form()
    by_id = {f.id: f for f in form.fields}
    assert is_shown(form, by_id["result_body"], {}) and not is_shown(form, by_id["extension_reason"], {})
    malformed = Field("x", "x", "text", properties={"showWhen": "no rule here"})
    assert is_shown(FormSpec([malformed]), malformed, {})  # a typo never hides a field


# ------------------------------------------------------------------------------------ scoped history
def _task(tid: str, groups: list[str], ctx: dict[str, Any], done_by: str | None = None) -> Any:
    return SimpleNamespace(id=tid, candidate_groups=groups, context=ctx, assignee=done_by, completed_by=done_by)


def test_a_unit_reads_its_own_steps_and_the_decisions_on_its_item() -> None:
    meeting = {"meeting_id": 1}
    tasks = [
        _task("plan", ["office"], meeting, "office"),
        _task("att-cz", ["unit:caizheng"], {**meeting, "attendee": "caizheng"}, "caizheng"),
        _task("att-rs", ["unit:renshe"], {**meeting, "attendee": "renshe"}, "renshe"),
        _task("impl", ["unit:caizheng"], {**meeting, "resolution_id": 7, "lead_unit": "caizheng"}),
        _task("co", ["unit:minzheng"], {**meeting, "resolution_id": 7, "co_unit": "minzheng"}, "minzheng"),
        _task("verify", ["office"], {**meeting, "resolution_id": 7}, "office"),
        _task("other-item", ["unit:renshe"], {**meeting, "resolution_id": 8}),
    ]
    unit = frozenset({"unit:caizheng"})
    # On the meeting: its own reply only, not the office's plan or another unit's reply.
    assert related_tasks(tasks[1], tasks, unit, "caizheng", supervisor=False) == {"att-cz"}
    # On its item: the co-operating unit's input and the office's check, never another item.
    assert related_tasks(tasks[3], tasks, unit, "caizheng", supervisor=False) == {"impl", "co", "verify"}
    # A co-operating unit does not read another co-operating unit's input of the same kind.
    co_rs = _task("co-rs", ["unit:renshe"], {**meeting, "resolution_id": 7, "co_unit": "renshe"})
    seen = related_tasks(tasks[4], [*tasks, co_rs], frozenset({"unit:minzheng"}), "minzheng", supervisor=False)
    assert "co-rs" not in seen and {"co", "impl", "verify"} <= seen
    # The office reads every party's steps on the meeting.
    assert related_tasks(tasks[0], tasks, frozenset({"office"}), "office", supervisor=True) == {
        "plan", "att-cz", "att-rs"}


def test_decisions_read_as_labels_never_codes_or_private_strings() -> None:
    form = [{"id": "verify_decision", "label": "核验意见", "type": "enum",
             "options": [{"id": "accept", "name": "办结销号"}, {"id": "return", "name": "退回整改"}]},
            {"id": "verify_comment", "label": "核验意见说明", "type": "text"},
            {"id": "attendee_phone", "label": "联系电话", "type": "string"},
            {"id": "related_units", "label": "相关单位", "type": "units"}]
    lines = decision_lines(form, {"verify_decision": "return", "verify_comment": "请补充佐证材料。",
                                  "attendee_phone": "13800000000", "related_units": ["caizheng"]},
                           {"caizheng": "区财政局"})
    assert lines == ["核验意见：退回整改", "核验意见说明：请补充佐证材料。", "相关单位：区财政局"]


# ------------------------------------------------------------------------------------ the 409 page's values
def test_typed_values_are_shown_by_label(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        directory.seed_directory(s)
    form = [{"id": "screen_decision", "label": "审核意见", "type": "enum",
             "options": [{"id": "accept", "name": "受理"}]},
            {"id": "related_units", "label": "相关单位", "type": "units"},
            {"id": "screen_comment", "label": "意见说明", "type": "text"}]
    posted = MultiDict([("screen_decision", "accept"), ("related_units", "caizheng"), ("related_units", "renshe"),
                        ("screen_comment", "我的意见"), ("csrf_token", "x")])
    with sqlite_db.sessions() as s:
        assert typed_values(s, form, posted) == [("审核意见", "受理"), ("相关单位", "区财政局、区人社局"),
                                                 ("意见说明", "我的意见")]


# ------------------------------------------------------------------------------------ static files
@pytest.fixture
def client(tmp_path: Path) -> Any:
    from web import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/web.db", "SECRET_KEY": "x", "TESTING": True})
    return app.test_client()


needs_build = pytest.mark.skipif(not (DIST / "manifest.json").is_file(), reason="front end not built (make install)")


@needs_build
def test_bundles_have_hashed_names_a_year_of_cache_and_compression(client: Any) -> None:
    manifest = json.loads((DIST / "manifest.json").read_text())
    hashed = manifest["app.js"]
    assert hashed != "app.js" and (DIST / hashed).is_file()
    page = client.get("/login").get_data(as_text=True)
    assert f"/static/dist/{hashed}" in page and f"/static/dist/{manifest['app.css']}" in page

    r = client.get(f"/static/dist/{hashed}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "br"
    assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    assert "javascript" in r.headers["Content-Type"] and "Accept-Encoding" in r.headers["Vary"]
    assert len(r.get_data()) < (DIST / hashed).stat().st_size / 2

    r = client.get(f"/static/dist/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(r.get_data()) == (DIST / hashed).read_bytes()
    r = client.get(f"/static/dist/{hashed}")
    assert "Content-Encoding" not in r.headers and r.get_data() == (DIST / hashed).read_bytes()
    # The plain name stays available, revalidated on every use.
    assert client.get("/static/dist/app.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/dist/../../setup.py").status_code == 404


def test_pages_are_gzipped_when_the_browser_accepts_it(client: Any) -> None:
    r = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert "<html" in gzip.decompress(r.get_data()).decode()
    assert "Content-Encoding" not in client.get("/login").headers
