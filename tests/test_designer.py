"""Process designers over real HTTP: who may design, the JSON API's 201/422, checks located on elements and
lines, drafts that refuse lost updates (409), hostile uploads, versions with their instances, version diffs.
Plus the designer service on SQLite and PostgreSQL (draft concurrency) and the XML diff."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from web_support import Browser, LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock
from engine.db import Database
from engine.designer import Designer, DraftConflict, locate
from engine.diff import diff_versions
from engine.errors import DeployError, Problem
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask, Instance, ProcessDraft, ProcessModel
from engine.service import Actor
from meeting.accounts import create_token
from meeting.models import User
from meeting.runtime import build_service, deploy_defaults

ROOT = Path(__file__).resolve().parent.parent
TOPIC = (ROOT / "processes" / "topic_proposal.bpmn").read_text(encoding="utf-8")
PHONE_FIELD = '<camunda:formField id="contact_phone" label="联系电话" type="string" />'
WITH_PHONE = TOPIC.replace('<camunda:formField id="attachment" label="附件" type="attachment" />',
                           '<camunda:formField id="attachment" label="附件" type="attachment" />\n          '
                           + PHONE_FIELD)
NO_GROUP = TOPIC.replace('camunda:candidateGroups="office" ', "")
DESIGNER = Actor("designer", frozenset({"designer"}))
XXE = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE bpmn:definitions [\n'
       '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n' + TOPIC.split("\n", 1)[1].replace("name=\"提出议题\"", "name=\"&xxe;\""))


def line_of(text: str, needle: str, nth: int = 1) -> int:
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    return text[:at].count("\n") + 1


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    """The app on a database built by the Alembic migrations alone (wf_draft included; test_migrations.py
    checks that they match the models)."""
    with live_app(f"sqlite:///{tmp_path}/designer.db", ManualClock(T0)) as app:
        yield app


def csrf(b: Browser) -> dict[str, str]:
    b.get("/tasks")
    return {"X-CSRFToken": b.last_token}


def post_json(b: Browser, path: str, body: dict) -> requests.Response:
    return b.http.post(b.base + path, json=body, headers=csrf(b), timeout=30)


def post_xml(b: Browser, xml: str, **params: str) -> requests.Response:
    return b.http.post(b.base + "/api/models", data=xml.encode("utf-8"), params=params, timeout=30,
                       headers={**csrf(b), "Content-Type": "application/xml"})


def publish(live: LiveApp, key: str, version: int) -> None:
    """发布审批: an approver (not the designer who submitted it) publishes the pending version."""
    approver = live.client("approver")
    r = approver.post(f"/reviews/{key}/v{version}/publish", {"comment": "同意"},
                      token_from=f"/reviews/{key}/v{version}")
    assert r.status_code == 302, r.text[:300]


def versions(live: LiveApp, key: str = "topic_proposal") -> list[int]:
    with live.db.sessions() as s:
        return list(s.scalars(select(ProcessModel.version).where(ProcessModel.key == key)
                              .order_by(ProcessModel.version)))


# ---------------------------------------------------------------------- permissions
@pytest.mark.parametrize("username", ["caizheng", "office"])
def test_only_designers_reach_designer_pages_and_deploy(live: LiveApp, username: str) -> None:
    b = live.client(username)
    for path in ("/designer/", "/designer/topic_proposal/v1", "/designer/templates.json",
                 "/designer/topic_proposal/v1.bpmn", "/designer/topic_proposal/diff",
                 "/designer/topic_proposal/migrate", "/designer/topic_proposal/draft"):
        assert b.get(path).status_code == 403, path
    assert 'id="nav-designer"' not in b.get("/tasks").text
    assert post_json(b, "/designer/check", {"xml": TOPIC}).status_code == 403
    assert post_json(b, "/designer/topic_proposal/deploy", {"xml": WITH_PHONE}).status_code == 403
    assert post_json(b, "/designer/topic_proposal/draft", {"xml": WITH_PHONE, "revision": None}).status_code == 403
    r = post_xml(b, WITH_PHONE)
    assert r.status_code == 403 and r.json()["message"] == "只有流程设计人员可以部署流程"
    with live.db.transaction() as s:
        token = create_token(s, s.scalar(select(User).where(User.username == username)), "t", live.service.now())
    r = requests.post(live.url + "/api/models", data=WITH_PHONE.encode(), timeout=30,
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"})
    assert r.status_code == 403
    assert versions(live) == [1]


def test_signed_out_users_are_sent_to_login_and_the_api_answers_401(live: LiveApp) -> None:
    b = live.client()
    r = b.get("/designer/", allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = requests.post(live.url + "/api/models", data=TOPIC.encode(), headers={"Authorization": "Bearer jm_wrong"},
                      timeout=30)
    assert r.status_code == 401


@pytest.mark.parametrize("username", ["designer", "admin"])
def test_designers_and_admins_see_models_with_versions(live: LiveApp, username: str) -> None:
    b = live.client(username)
    page = b.get("/designer/")
    assert page.status_code == 200
    assert 'id="nav-designer"' in page.text
    for key in ("topic_proposal", "joint_meeting", "resolution_item", "major_issue", "membership_change",
                "assigned_matter", "petition_referral", "coordination_request"):
        assert f'data-model="{key}"' in page.text
    modeler = b.get("/designer/topic_proposal/v1")
    assert modeler.status_code == 200
    assert 'data-jm-modeler="jm-modeler-config"' in modeler.text
    assert "<script>" not in modeler.text  # configuration travels in a JSON block, no inline script
    xml = b.get("/designer/topic_proposal/v1.bpmn")
    assert xml.text == TOPIC and xml.headers["Content-Disposition"].startswith("attachment")
    templates = b.get("/designer/templates.json").json()
    by_id = {t["id"]: t for t in templates}
    assert "action.topic.submit" in by_id
    assert {p["binding"]["name"]: p["value"] for p in by_id["action.topic.submit"]["properties"]} == {
        "camunda:type": "external", "camunda:topic": "topic.submit"}
    assert all(t["appliesTo"] == ["bpmn:ServiceTask"] for t in templates)


# ---------------------------------------------------------------------- deploy through the API
def test_api_deploys_a_new_version_running_instances_keep_theirs(live: LiveApp) -> None:
    unit = live.client("caizheng")
    r = unit.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    old_task = r.headers["Location"].replace(live.url, "")
    assert "联系电话" not in unit.get(old_task).text

    designer = live.client("designer")
    r = post_xml(designer, WITH_PHONE)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["key"], body["version"], body["created"], body["status"]) == ("topic_proposal", 2, True, "pending")
    assert body["models"][0]["deployed_by"] == "designer"
    assert post_xml(designer, WITH_PHONE).status_code == 200  # unchanged: same version
    assert versions(live) == [1, 2]
    publish(live, "topic_proposal", 2)

    r = unit.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    new_task = r.headers["Location"].replace(live.url, "")
    assert 'name="contact_phone"' in unit.get(new_task).text and "联系电话" in unit.get(new_task).text
    assert "联系电话" not in unit.get(old_task).text  # the instance started before keeps v1's form
    with live.db.sessions() as s:
        models = {i.id: i.model.version for i in s.scalars(select(Instance))}
        audit = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "submit",
                                                        AuditEvent.process_key == "topic_proposal")))
    assert sorted(models.values()) == [1, 2]
    assert [(a.actor, a.data["version"]) for a in audit][-1] == ("designer", 2)

    page = designer.get("/designer/").text
    section = page[page.index('data-model="topic_proposal"'):]
    rows = dict(re.findall(r'data-version="(\d+)">.*?data-running="(\d+)"', section, re.S)[:2])
    assert rows == {"2": "1", "1": "1"}


def test_api_refuses_with_element_ids_and_lines_and_deploys_nothing(live: LiveApp) -> None:
    bad = NO_GROUP.replace('<camunda:formField id="background"', '<camunda:formField id="title"')
    r = post_xml(live.client("designer"), bad, file_name="topic_proposal.bpmn")
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {"element": "screen", "line": line_of(bad, 'id="screen"'),
            "message": "用户任务“审核议题”没有指定办理人或候选组", "file": "topic_proposal.bpmn"} in problems
    dup = next(p for p in problems if "重复" in p["message"])
    assert (dup["element"], dup["line"]) == ("title", line_of(bad, 'id="title"', 2))
    assert versions(live) == [1]


def test_api_accepts_json_and_reports_parse_failures(live: LiveApp) -> None:
    designer = live.client("designer")
    r = designer.http.post(live.url + "/api/models", json={"xml": "<bpmn:definitions", "file_name": "x.bpmn"},
                           headers=csrf(designer), timeout=30)
    assert r.status_code == 422
    assert r.json()["problems"][0]["message"].startswith("XML 格式错误")
    assert r.json()["problems"][0]["file"] == "x.bpmn"
    r = designer.http.post(live.url + "/api/models", json={"nothing": 1}, headers=csrf(designer), timeout=30)
    assert r.status_code == 422
    # a session call without the CSRF header is refused before anything happens
    r = designer.http.post(live.url + "/api/models", data=WITH_PHONE.encode(), timeout=30,
                           headers={"Content-Type": "application/xml"})
    assert r.status_code == 400 and r.json()["error"] == "csrf"
    assert versions(live) == [1]


def test_openapi_documents_post_models(live: LiveApp) -> None:
    doc = requests.get(live.url + "/api/openapi.json", timeout=30).json()
    op = doc["paths"]["/api/models"]["post"]
    assert {"201", "403", "422"} <= set(op["responses"])
    assert "application/xml" in op["requestBody"]["content"]
    assert doc["components"]["schemas"]["Problem"]["properties"].keys() >= {"element", "line", "message"}


# ---------------------------------------------------------------------- hostile input
def test_doctype_uploads_are_refused_everywhere(live: LiveApp) -> None:
    designer = live.client("designer")
    r = post_xml(designer, XXE)
    assert r.status_code == 422
    assert r.json()["problems"] == [{"file": "diagram.bpmn", "line": 2, "element": None,
                                     "message": "不允许 DOCTYPE 或实体声明（可能的 XXE 攻击）"}]
    r = post_json(designer, "/designer/check", {"xml": XXE})
    assert r.status_code == 200 and "DOCTYPE" in r.json()["problems"][0]["message"]
    r = post_json(designer, "/designer/topic_proposal/draft", {"xml": XXE, "revision": None})
    assert r.status_code == 422 and "DOCTYPE" in r.json()["problems"][0]["message"]
    r = post_json(designer, "/designer/topic_proposal/deploy", {"xml": XXE})
    assert r.status_code == 422
    designer.get("/designer/")
    r = designer.http.post(live.url + "/designer/import", data={"csrf_token": designer.last_token},
                           files={"file": ("evil.bpmn", XXE.encode(), "application/xml")}, timeout=30)
    assert r.status_code == 422
    assert "不允许 DOCTYPE 或实体声明" in r.text and "root:" not in r.text
    assert versions(live) == [1]
    with live.db.sessions() as s:
        assert s.scalar(select(ProcessDraft)) is None


def test_import_stores_a_draft_and_the_modeler_deploys_it(live: LiveApp) -> None:
    designer = live.client("designer")
    designer.get("/designer/")
    r = designer.http.post(live.url + "/designer/import", data={"csrf_token": designer.last_token},
                           files={"file": ("mine.bpmn", WITH_PHONE.encode(), "application/xml")},
                           allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"].endswith("/designer/topic_proposal/draft")
    assert designer.get("/designer/topic_proposal/draft.bpmn").text == WITH_PHONE
    listing = designer.get("/designer/").text
    assert 'data-draft="topic_proposal"' in listing
    r = post_json(designer, "/designer/topic_proposal/deploy", {"xml": WITH_PHONE, "draft_revision": 1})
    assert r.status_code == 201 and r.json()["version"] == 2
    with live.db.sessions() as s:
        assert s.get(ProcessDraft, "topic_proposal") is None  # deployed from it: the draft is gone


# ---------------------------------------------------------------------- server check and modeler deploy
def test_check_locates_problems_on_diagram_elements(live: LiveApp) -> None:
    designer = live.client("designer")
    assert post_json(designer, "/designer/check", {"xml": TOPIC}).json() == {"ok": True, "problems": []}
    bad = NO_GROUP.replace('<camunda:formField id="background"', '<camunda:formField id="title"').replace(
        'value="topic.screen"', 'value="no.such.action"')
    r = post_json(designer, "/designer/check", {"xml": bad})
    found = {(p["element"], p["target"], p["line"]) for p in r.json()["problems"]}
    assert ("screen", "screen", line_of(bad, 'id="screen"')) in found
    assert ("title", "propose", line_of(bad, 'id="title"', 2)) in found  # a form field's problem marks its task
    assert ("screen", "screen", line_of(bad, 'value="no.such.action"')) in found
    r = post_json(designer, "/designer/topic_proposal/deploy", {"xml": bad})
    assert r.status_code == 422 and {p["target"] for p in r.json()["problems"]} == {"screen", "propose"}
    other = TOPIC.replace('id="topic_proposal"', 'id="renamed"').replace('processRef="topic_proposal"',
                                                                          'processRef="renamed"')
    r = post_json(designer, "/designer/topic_proposal/deploy", {"xml": other})
    assert r.status_code == 422 and "流程标识必须是“topic_proposal”" in r.json()["problems"][0]["message"]
    r = post_json(designer, "/designer/check", {"xml": other, "key": "topic_proposal"})
    assert r.json()["ok"] is False and r.json()["problems"][0]["line"] == line_of(other, "<bpmn:process ")
    assert versions(live) == [1] and versions(live, "renamed") == []


# ---------------------------------------------------------------------- drafts
def test_outdated_draft_save_is_refused_with_who_and_when(live: LiveApp) -> None:
    first, second = live.client("designer"), live.client("admin")
    r = post_json(first, "/designer/topic_proposal/draft", {"xml": WITH_PHONE, "revision": None, "base_version": 1})
    assert r.status_code == 200 and r.json()["revision"] == 1
    r = post_json(second, "/designer/topic_proposal/draft", {"xml": NO_GROUP, "revision": 1})
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = post_json(first, "/designer/topic_proposal/draft", {"xml": TOPIC, "revision": 1})
    assert r.status_code == 409
    body = r.json()
    assert body["updated_by"] == "admin" and body["revision"] == 2 and body["updated_at"]
    assert "草稿已由运维管理员于" in body["message"] and "admin" not in body["message"]  # by name, not login
    assert first.get("/designer/topic_proposal/draft.bpmn").text == NO_GROUP  # nothing overwritten
    # starting afresh from a version while a draft exists is a conflict too
    assert post_json(first, "/designer/topic_proposal/draft", {"xml": TOPIC, "revision": None}).status_code == 409
    r = post_json(first, "/designer/topic_proposal/draft", {"xml": TOPIC, "revision": 1, "force": True})
    assert r.status_code == 200 and r.json()["revision"] == 3
    page = first.get("/designer/topic_proposal/draft")
    assert page.status_code == 200 and '"draftRevision":3' in page.text.replace(" ", "")
    # discarding an outdated revision keeps the draft; the current one removes it
    first.get("/designer/")
    assert first.post("/designer/topic_proposal/draft/discard", {"revision": "2"}, token_from="/designer/"
                      ).status_code == 302
    with live.db.sessions() as s:
        assert s.get(ProcessDraft, "topic_proposal") is not None
    first.post("/designer/topic_proposal/draft/discard", {"revision": "3"}, token_from="/designer/")
    with live.db.sessions() as s:
        assert s.get(ProcessDraft, "topic_proposal") is None


def test_new_model_from_a_template_deploys_and_can_be_started(live: LiveApp) -> None:
    designer = live.client("designer")
    r = designer.post("/designer/new", {"key": "subsidy_review", "name": "补贴复核", "template": "approval"},
                      token_from="/designer/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/designer/subsidy_review/draft")
    xml = designer.get("/designer/subsidy_review/draft.bpmn").text
    assert 'id="subsidy_review" name="补贴复核"' in xml
    assert "补贴复核" in designer.get("/designer/subsidy_review/draft").text
    r = designer.post("/designer/new", {"key": "subsidy_review", "name": "重复", "template": "blank"},
                      token_from="/designer/")
    assert r.status_code == 422 and "已被使用" in r.text
    r = designer.post("/designer/new", {"key": "1bad key", "name": "x", "template": "blank"}, token_from="/designer/")
    assert r.status_code == 422
    r = post_json(designer, "/designer/subsidy_review/deploy", {"xml": xml, "draft_revision": 1})
    assert r.status_code == 201 and r.json()["version"] == 1 and r.json()["status"] == "pending"
    unit = live.client("caizheng")
    r = unit.post("/start", {"process_key": "subsidy_review", "start_event": "start"}, token_from="/start")
    assert r.status_code in (403, 404)  # nothing runs before an approver publishes it
    publish(live, "subsidy_review", 1)
    r = unit.post("/start", {"process_key": "subsidy_review", "start_event": "start"}, token_from="/start")
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"]


def test_diff_page_lists_and_marks_changes(live: LiveApp) -> None:
    designer = live.client("designer")
    changed = WITH_PHONE.replace('camunda:candidateGroups="office" camunda:dueDate="P5D"',
                                 'camunda:candidateGroups="office" camunda:dueDate="P3D"')
    assert post_xml(designer, changed).status_code == 201
    page = designer.get("/designer/topic_proposal/diff")
    assert page.status_code == 200
    assert 'data-change="changed" data-element="propose"' in page.text
    assert "表单字段新增：contact_phone（联系电话）" in page.text
    assert "办理期限：P5D → P3D" in page.text
    assert 'data-bpmn-url="/designer/topic_proposal/v1.bpmn"' in page.text
    assert designer.get("/designer/topic_proposal/diff?from=1&to=9").status_code == 404


# ---------------------------------------------------------------------- the designer service, check, locate and diff
def test_concurrent_draft_saves_one_wins(database: Database) -> None:
    service = build_service(database, ManualClock(T0))
    deploy_defaults(service)
    designer = Designer(service)
    designer.save_draft("topic_proposal", TOPIC.encode(), DESIGNER, None)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def save(n: int) -> None:
        barrier.wait()
        try:
            designer.save_draft("topic_proposal", WITH_PHONE.replace("联系电话", f"电话{n}").encode(),
                                Actor(f"d{n}", frozenset({"designer"})), 1)
            outcomes.append("saved")
        except DraftConflict as exc:
            assert exc.revision == 2 and exc.by and exc.by.startswith("d")
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]
    draft = designer.draft("topic_proposal")
    assert draft is not None and draft.revision == 2


def test_check_is_exactly_the_loader(sqlite_db: Database) -> None:
    service = build_service(sqlite_db, ManualClock(T0))
    deploy_defaults(service)
    designer = Designer(service)
    with pytest.raises(DeployError) as exc:
        service.deploy([SourceFile("t.bpmn", NO_GROUP.encode())])
    assert [p["message"] for p in designer.check(NO_GROUP.encode(), "t.bpmn")] == [
        p.message for p in exc.value.problems]
    call = (ROOT / "processes" / "joint_meeting.bpmn").read_text(encoding="utf-8")
    # deploy_defaults deployed both processes it calls (major_issue and resolution_item)
    assert designer.check(call.encode(), "joint_meeting.bpmn") == []
    broken = call.replace('calledElement="resolution_item"', 'calledElement="ghost"')
    assert any("目标流程“ghost”不存在" in p["message"] for p in designer.check(broken.encode(), "j.bpmn"))


def test_locate_maps_xsd_errors_to_the_element_at_their_line() -> None:
    xml = TOPIC.replace('<bpmn:documentation>成员单位', '<bpmn:bogus/><bpmn:documentation>成员单位')
    problems = [Problem("t.bpmn", line_of(xml, "<bpmn:bogus/>"), None, "不符合 BPMN 2.0 规范")]
    assert locate(xml.encode(), problems)[0]["target"] == "propose"


def test_diff_ignores_layout_and_describes_changes() -> None:
    moved = TOPIC.replace('<dc:Bounds x="420" y="140"', '<dc:Bounds x="430" y="150"')
    assert diff_versions(TOPIC, moved).empty
    new = NO_GROUP.replace('<bpmn:endEvent id="end_rejected" name="不予受理">',
                           '<bpmn:endEvent id="end_rejected" name="不受理">')
    new = new.replace('<bpmn:sequenceFlow id="Flow_screen_gw_screen" sourceRef="screen" targetRef="gw_screen" />',
                      '<bpmn:sequenceFlow id="Flow_x" sourceRef="screen" targetRef="gw_screen" />')
    result = {c.id: (c.change, c.details) for c in diff_versions(TOPIC, WITH_PHONE).changes}
    assert result == {"propose": ("changed", ["表单字段新增：contact_phone（联系电话）"])}
    result = {c.id: (c.change, c.details) for c in diff_versions(TOPIC, new).changes}
    assert result == {
        "screen": ("changed", ["候选组：office → （空）"]),
        "end_rejected": ("changed", ["名称：不予受理 → 不受理"]),
        "Flow_x": ("added", []),
        "Flow_screen_gw_screen": ("removed", []),
    }


def test_flask_init_keeps_what_designers_deployed(sqlite_db: Database) -> None:
    service = build_service(sqlite_db, ManualClock(T0))
    assert {r.model.key for r in deploy_defaults(service) if r.created} >= {"topic_proposal", "joint_meeting"}
    Designer(service).deploy(WITH_PHONE.encode(), DESIGNER, key="topic_proposal")
    assert deploy_defaults(service) != []  # the other shipped processes are still checked (and unchanged)
    assert all(not r.created for r in deploy_defaults(service))
    latest = Designer(service).latest("topic_proposal")
    assert latest is not None and (latest.version, latest.deployed_by) == (2, "designer")
    assert PHONE_FIELD in latest.xml


# ---------------------------------------------------------------------- migration (dry run, then audited move)
def test_migration_moves_only_instances_whose_changes_lie_ahead(live: LiveApp) -> None:
    unit = live.client("caizheng")
    starts = []
    for _ in range(2):
        r = unit.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
        starts.append(r.headers["Location"].replace(live.url, ""))
    values = {"title": "统筹救助资金", "background": "背景", "proposal": "建议", "urgency": "normal"}
    assert unit.post(starts[1], values, token_from=starts[1]).status_code == 302  # B is now at screening
    a_task = starts[0].rsplit("/", 1)[1]
    with live.db.sessions() as s:
        a_id = s.get(HumanTask, a_task).instance_id
        b_id = s.get(HumanTask, starts[1].rsplit("/", 1)[1]).instance_id
    extra = '<camunda:formField id="screen_extra" label="补充意见" type="string" />'
    v2 = TOPIC.replace('<camunda:formField id="screen_comment" label="意见说明" type="text" />',
                       '<camunda:formField id="screen_comment" label="意见说明" type="text" />' + extra)
    designer = live.client("designer")
    assert post_xml(designer, v2).status_code == 201
    assert 'data-migrate="topic_proposal"' not in designer.get("/designer/").text  # pending: no target yet
    publish(live, "topic_proposal", 2)
    assert 'data-migrate="topic_proposal"' in designer.get("/designer/").text

    page = designer.get("/designer/topic_proposal/migrate")
    assert page.status_code == 200
    rows = dict(re.findall(r'data-instance="(\w+)" data-movable="(\w+)"', page.text))
    assert rows == {a_id: "true", b_id: "false"}
    assert "步骤“审核议题”（screen）正在办理，新版本中已修改" in page.text
    with live.db.sessions() as s:
        assert {i.model.version for i in s.scalars(select(Instance))} == {1}  # the dry run moved nothing

    r = designer.post("/designer/topic_proposal/migrate", {"target_version": "2", "instance_id": b_id},
                      token_from="/designer/topic_proposal/migrate")
    assert r.status_code == 302
    assert "不能迁移" in designer.get(r.headers["Location"].replace(live.url, "")).text  # refused, B unchanged
    r = designer.post("/designer/topic_proposal/migrate", {"target_version": "2", "instance_id": a_id},
                      token_from="/designer/topic_proposal/migrate")
    assert r.status_code == 302
    with live.db.sessions() as s:
        versions_now = {i.id: i.model.version for i in s.scalars(select(Instance))}
        audit = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "migrate")))
    assert versions_now == {a_id: 2, b_id: 1}
    assert [(e.actor, e.instance_id, e.data["from_version"], e.data["to_version"]) for e in audit] == [
        ("designer", a_id, 1, 2)]
    # A's open task kept its id; once proposed, its screening shows v2's form
    assert unit.get(f"/tasks/{a_task}").status_code == 200
    assert unit.post(f"/tasks/{a_task}", values, token_from=f"/tasks/{a_task}").status_code == 302
    screens = {t.instance_id: t for t in live.service.tasks_for(Actor("x", frozenset({"office"})), "claimable")}
    assert "screen_extra" in [f["id"] for f in screens[a_id].form]
    assert "screen_extra" not in [f["id"] for f in screens[b_id].form]
