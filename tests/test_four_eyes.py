"""发布审批 (four eyes): a designer's deploy is a pending version that changes nothing until an approver other than
its author publishes it; designers are never candidates or assignees of tasks; ``flask init`` keeps what an
approver published. The approver's page shows the diff with every change of who does the work highlighted;
diagrams are served as attachments. On SQLite and PostgreSQL (the web part on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bench.world import PASSWORD, T0, populate
from engine.actions import ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.designer import Designer
from engine.errors import Conflict, Forbidden, FormError, NotFound
from engine.loader import SourceFile
from engine.models import AuditEvent, ProcessModel, Schedule
from engine.service import Actor, WorkflowService
from meeting.passwords import hash_password

OFFICE = Actor("office", frozenset({"office"}))
DESIGNER = Actor("designer", frozenset({"designer"}))
APPROVER = Actor("approver", frozenset({"approver"}))
ADMIN = Actor("admin", frozenset({"admin"}))
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def screening(group: str = "office", start: str = '<bpmn:startEvent id="start" />') -> bytes:
    return (HEAD + '<bpmn:process id="screening" name="议题审核" isExecutable="true" '
            'camunda:candidateStarterGroups="office">' + start
            + f'<bpmn:userTask id="screen" name="审核议题" camunda:candidateGroups="{group}" />'
            '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="screen" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="screen" targetRef="end" /></bpmn:process>'
            "</bpmn:definitions>\n").encode()


@pytest.fixture
def service(database: Database, clock: ManualClock) -> WorkflowService:
    svc = WorkflowService(database, ActionRegistry(), clock, excluded_groups=("designer",))
    svc.deploy([SourceFile("screening.bpmn", screening())])  # the shipped version, published by the operator
    return svc


def test_a_designer_changing_candidate_groups_changes_nothing_until_an_approver_publishes(
        service: WorkflowService) -> None:
    designer = Designer(service)
    [result] = designer.deploy(screening("designer"), DESIGNER, key="screening")
    assert result.created and result.model.status == "pending" and result.model.version == 2
    # Nothing runs the pending version: new instances still start on v1, for the office.
    started = service.start("screening", OFFICE)
    task = service.get_task(started.ready_tasks[0], OFFICE)
    assert task.candidate_groups == ["office"]
    assert [p.version for p in service.pending_versions()] == [2]
    # The same diagram again is the same pending version.
    [again] = designer.deploy(screening("designer"), DESIGNER, key="screening")
    assert not again.created and again.model.version == 2
    # The author cannot publish their own version, not even as an approver.
    with pytest.raises(Forbidden, match="四眼原则"):
        service.publish("screening", 2, Actor("designer", frozenset({"designer", "approver"})))
    published = service.publish("screening", 2, APPROVER, "同意")
    assert (published.status, published.reviewed_by, published.review_comment) == ("published", "approver", "同意")
    started = service.start("screening", OFFICE)
    assert service.get_task(started.ready_tasks[0], ADMIN).candidate_groups == ["designer"]
    with service.db.sessions() as s:
        actions = [(a.action, a.actor, a.data.get("version")) for a in s.scalars(
            select(AuditEvent).where(AuditEvent.process_key == "screening").order_by(AuditEvent.id))
            if a.action in ("deploy", "submit", "publish", "reject")]
    assert actions == [("deploy", "system", 1), ("submit", "designer", 2), ("publish", "approver", 2)]
    with pytest.raises(Conflict, match="已发布"):
        service.publish("screening", 2, APPROVER)


def test_designers_are_never_candidates_or_assignees(service: WorkflowService) -> None:
    Designer(service).deploy(screening("designer"), DESIGNER, key="screening")
    service.publish("screening", 2, APPROVER)
    task_id = service.start("screening", OFFICE).ready_tasks[0]
    task = service.get_task(task_id, ADMIN)
    assert not service.is_candidate(task, DESIGNER) and not service.may_work(task, DESIGNER)
    assert service.tasks_for(DESIGNER, "open") == []
    with pytest.raises(Forbidden):
        service.claim(task_id, DESIGNER)
    with pytest.raises(Forbidden):
        service.complete(task_id, DESIGNER, {})
    with pytest.raises(Forbidden):
        service.get_task(task_id, DESIGNER)


def test_a_rejected_version_needs_a_reason_is_audited_and_never_runs(service: WorkflowService) -> None:
    Designer(service).deploy(screening("designer"), DESIGNER, key="screening")
    with pytest.raises(FormError):
        service.reject("screening", 2, APPROVER, " ")
    rejected = service.reject("screening", 2, APPROVER, "候选组不能是设计人员")
    assert rejected.status == "rejected"
    with pytest.raises(Conflict):
        service.publish("screening", 2, APPROVER)
    with pytest.raises(NotFound):
        service.publish("screening", 9, APPROVER)
    with service.db.sessions() as s:
        assert service.latest_model(s, "screening").version == 1
        reject = s.scalar(select(AuditEvent).where(AuditEvent.action == "reject"))
        assert reject is not None and reject.comment == "候选组不能是设计人员" and reject.actor == "approver"


def test_an_older_pending_version_cannot_replace_a_newer_published_one(service: WorkflowService) -> None:
    designer = Designer(service)
    designer.deploy(screening("office,convener"), DESIGNER, key="screening")  # v2 pending
    service.deploy([SourceFile("screening.bpmn", screening("convener"))])  # v3 by the operator
    with pytest.raises(Conflict, match="已有更新的已发布版本"):
        service.publish("screening", 2, APPROVER)


def test_timer_starts_of_a_pending_version_wait_for_publication(service: WorkflowService) -> None:
    start = ('<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:startEvent>")
    Designer(service).deploy(screening(start=start), DESIGNER, key="screening")
    with service.db.sessions() as s:
        assert s.scalar(select(Schedule).where(Schedule.process_key == "screening")) is None
    service.publish("screening", 2, APPROVER)
    with service.db.sessions() as s:
        assert s.scalar(select(Schedule).where(Schedule.process_key == "screening")) is not None


def test_the_review_diff_highlights_changed_assignments(service: WorkflowService) -> None:
    designer = Designer(service)
    [result] = designer.deploy(screening("designer"), DESIGNER, key="screening")
    diff = designer.review_diff(result.model)
    [change] = [c for c in diff.changes if c.id == "screen"]
    assert change.assignments == ["候选组：office → designer"]


def test_flask_init_keeps_the_published_version(database: Database, clock: ManualClock) -> None:
    from meeting.runtime import build_service, deploy_defaults

    service = build_service(database, clock)
    deploy_defaults(service)
    with database.sessions() as s:
        shipped = service.latest_model(s, "topic_proposal")
        original = shipped.xml
    xml = original.replace('camunda:candidateGroups="office"', 'camunda:candidateGroups="convener"', 1).encode()
    assert xml != original.encode()
    Designer(service).deploy(xml, DESIGNER, key="topic_proposal")
    assert all(r.model.key != "topic_proposal" for r in deploy_defaults(service))  # pending: left alone
    service.publish("topic_proposal", shipped.version + 1, APPROVER)
    assert all(r.model.key != "topic_proposal" for r in deploy_defaults(service))  # published: kept
    with database.sessions() as s:
        assert service.latest_model(s, "topic_proposal").version == shipped.version + 1


# ---------------------------------------------------------------------------------------------- the pages
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from engine.migrate import upgrade
    from web import create_app

    path: Path = tmp_path_factory.mktemp("four_eyes")
    flask_app = create_app({"DATABASE_URL": f"sqlite:///{path}/f.db", "SECRET_KEY": "t", "CLOCK": ManualClock(T0)})
    db = flask_app.extensions["db"]
    upgrade(db)
    populate(db, flask_app.extensions["workflow"], hash_password(PASSWORD))
    yield flask_app
    db.dispose()


def login(app: Flask, username: str) -> tuple[object, str]:
    import re

    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.text[:300]
    page = client.get("/account/tokens").text  # a signed-in page: the session's own CSRF token
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_the_approver_reviews_and_publishes_through_the_pages(app: Flask) -> None:
    service = app.extensions["workflow"]
    with service.db.sessions() as s:
        shipped = service.latest_model(s, "topic_proposal").xml
    changed = shipped.replace('camunda:candidateGroups="office"', 'camunda:candidateGroups="designer"', 1)
    assert changed != shipped
    designer, dtoken = login(app, "designer")
    r = designer.post("/designer/topic_proposal/deploy", json={"xml": changed},  # type: ignore[attr-defined]
                      headers={"X-CSRFToken": dtoken})
    assert r.status_code == 201 and r.json["status"] == "pending", r.text
    version = r.json["version"]
    assert designer.get("/reviews/").status_code == 403  # type: ignore[attr-defined]
    approver, atoken = login(app, "approver")
    listing = approver.get("/reviews/").text  # type: ignore[attr-defined]
    assert f'data-key="topic_proposal" data-version="{version}"' in listing
    page = approver.get(f"/reviews/topic_proposal/v{version}").text  # type: ignore[attr-defined]
    assert 'id="sensitive-changes"' in page and "候选组：office → designer" in page
    assert 'data-sensitive="true"' in page
    xml = approver.get(f"/reviews/topic_proposal/v{version}.bpmn")  # type: ignore[attr-defined]
    assert xml.headers["Content-Type"].startswith("text/plain")
    assert xml.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in xml.headers["Content-Security-Policy"]
    r = approver.post(f"/reviews/topic_proposal/v{version}/publish",  # type: ignore[attr-defined]
                      data={"csrf_token": atoken, "comment": "核对无误"})
    assert r.status_code == 302
    with service.db.sessions() as s:
        model = s.scalar(select(ProcessModel).where(ProcessModel.key == "topic_proposal",
                                                    ProcessModel.version == version))
        assert model is not None and model.status == "published" and model.reviewed_by == "approver"


def test_every_diagram_route_serves_an_attachment_never_a_document(app: Flask) -> None:
    from engine.models import Instance

    service = app.extensions["workflow"]
    office, _ = login(app, "office")
    designer, _ = login(app, "designer")
    with service.db.sessions() as s:
        model = service.latest_model(s, "topic_proposal")
    started = service.start("topic_proposal", Actor("caizheng", frozenset({"unit:caizheng"}), "caizheng"))
    with service.db.sessions() as s:
        inst = s.get(Instance, started.instance_id)
        assert inst is not None
    caizheng, _ = login(app, "caizheng")
    responses = [
        caizheng.get(f"/tasks/{started.ready_tasks[0]}/diagram.bpmn"),  # type: ignore[attr-defined]
        office.get(f"/instances/{started.instance_id}/diagram/topic_proposal.bpmn"),  # type: ignore[attr-defined]
        office.get(f"/instances/models/{model.id}/diagram.bpmn"),  # type: ignore[attr-defined]
        designer.get(f"/designer/topic_proposal/v{model.version}.bpmn"),  # type: ignore[attr-defined]
    ]
    for r in responses:
        assert r.status_code == 200, r.request.path
        assert r.headers["Content-Type"].startswith("text/plain"), r.request.path
        assert r.headers["Content-Disposition"].startswith("attachment;"), r.request.path
        assert r.headers["Content-Security-Policy"].startswith("sandbox"), r.request.path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "<bpmn:definitions" in r.text
