"""The web application over real HTTP: sign-in, inbox, claim, forms, conflicts, permissions, API, mail."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_support import LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock
from meeting.models import User

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with live_app(f"sqlite:///{tmp_path}/web.db", ManualClock(T0)) as app:
        yield app


def task_ids(html: str) -> list[str]:
    return re.findall(r'data-task-id="([^"]+)"', html)


def propose_topic(live: LiveApp, unit: str = "caizheng", title: str = "统筹救助资金") -> str:
    """A unit starts a topic proposal and submits it; returns the office's screening task id."""
    b = live.client(unit)
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"]
    path = r.headers["Location"].replace(live.url, "")
    r = b.post(path, {"title": title, "background": "背景", "proposal": "建议", "urgency": "normal"},
               token_from=path)
    assert r.status_code == 302, r.text[:300]
    office = live.client("office")
    ids = task_ids(office.get("/tasks?tab=claimable").text)
    assert ids
    return ids[0]


def test_login_logout_and_throttling(live: LiveApp) -> None:
    b = live.client()
    assert b.get("/tasks", allow_redirects=False).status_code == 302
    for _ in range(5):
        r = b.post("/login", {"username": "caizheng", "password": "wrong"}, token_from="/login")
        assert r.status_code == 401
        assert "用户名或密码不正确" in r.text
    r = b.post("/login", {"username": "caizheng", "password": "demo123"}, token_from="/login")
    assert r.status_code == 429  # slowed down, not locked: tests/test_sessions.py has the policy
    assert "登录尝试过于频繁" in r.text and r.headers["Retry-After"] == "1"
    other = live.client("renshe")
    assert other.get("/tasks").status_code == 200
    r = other.post("/logout", token_from="/tasks")
    assert r.status_code == 302
    assert other.get("/tasks", allow_redirects=False).status_code == 302


def test_session_cookie_flags_and_security_headers(live: LiveApp) -> None:
    b = live.client()
    r = b.post("/login", {"username": "office", "password": "demo123"}, token_from="/login")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = b.get("/tasks")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in page.text  # no inline scripts


def test_post_without_csrf_is_refused_and_changes_nothing(live: LiveApp) -> None:
    b = live.client("caizheng")
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, csrf=False)
    assert r.status_code == 400
    assert "安全令牌" in r.text
    assert live.service.tasks_for(live.service.startable and _actor(live, "caizheng"), "mine") == []


def _actor(live: LiveApp, username: str):  # type: ignore[no-untyped-def]
    from meeting.runtime import actor_for

    return actor_for(live.db, username)


def test_unit_task_flow_claim_release_and_other_unit_forbidden(live: LiveApp) -> None:
    screen = propose_topic(live)
    office = live.client("office")
    page = office.get(f"/tasks/{screen}")
    assert page.status_code == 200
    assert "统筹救助资金" in page.text and 'data-subject="topic"' in page.text
    assert 'data-bpmn-viewer' in page.text
    # the proposing unit may not act on the office's task, nor read another unit's
    assert live.client("renshe").get(f"/tasks/{screen}").status_code == 403
    assert live.client("caizheng").post(f"/tasks/{screen}/claim", token_from="/tasks").status_code == 403
    r = office.post(f"/tasks/{screen}/claim", token_from=f"/tasks/{screen}")
    assert r.status_code == 302
    assert screen in task_ids(office.get("/tasks?tab=mine").text)
    r = office.post(f"/tasks/{screen}/unclaim", token_from=f"/tasks/{screen}")
    assert r.status_code == 302
    assert screen in task_ids(office.get("/tasks?tab=claimable").text)


def test_bad_value_shows_chinese_error_and_keeps_input(live: LiveApp) -> None:
    b = live.client("yibao")
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    path = r.headers["Location"].replace(live.url, "")
    r = b.post(path, {"title": "", "background": "已经写好的背景", "proposal": "建议", "urgency": "normal"},
               token_from=path)
    assert r.status_code == 422
    assert re.search(r'id="error-title"[^>]*>请填写“议题名称”', r.text)
    assert "已经写好的背景" in r.text
    r = b.post(path, {"title": "x" * 101, "background": "b", "proposal": "p", "urgency": "normal"},
               token_from=path)
    assert r.status_code == 422 and "不能超过 100 个字" in r.text


def test_second_submission_gets_409_with_who_and_when(live: LiveApp) -> None:
    screen = propose_topic(live)
    first, second = live.client("office"), live.client("office")
    first.get(f"/tasks/{screen}")
    second.get(f"/tasks/{screen}")
    values = {"screen_decision": "accept", "screen_comment": "同意"}
    assert first.post(f"/tasks/{screen}", values, token_from=None).status_code == 302
    r = second.post(f"/tasks/{screen}", {**values, "screen_comment": "我的意见"}, token_from=None)
    assert r.status_code == 409
    # The same person in two windows: the page says it was them, never a login name, with the typed values.
    assert "您已于" in r.text and "办理过" in r.text and "office" not in r.text.split("<main", 1)[1]
    assert "意见说明" in r.text and "我的意见" in r.text and "受理" in r.text  # nothing the user typed is lost


def test_submitting_a_task_a_colleague_signed_for_names_them_and_keeps_what_was_typed(live: LiveApp) -> None:
    from web_support import _HASH

    from meeting.models import UserRole

    with live.db.transaction() as s:
        colleague = User(username="office_wang", display_name="王科员", unit_code="minzheng", password_hash=_HASH,
                         active=True, created_at=live.service.now())
        colleague.roles.append(UserRole(role="office"))
        s.add(colleague)
    screen = propose_topic(live)
    mine, theirs = live.client("office"), live.client("office_wang")
    mine.get(f"/tasks/{screen}")
    assert theirs.post(f"/tasks/{screen}/claim", token_from=f"/tasks/{screen}").status_code == 302
    r = mine.post(f"/tasks/{screen}", {"screen_decision": "accept", "screen_comment": "我写好的意见"}, token_from=None)
    assert r.status_code == 409
    main = r.text.split("<main", 1)[1]
    assert "已由王科员签收" in main and "office_wang" not in main  # by name, never the login name
    assert "我写好的意见" in main  # nothing typed is lost


def test_starting_leads_to_the_first_step_when_it_is_the_starters_to_sign_for(live: LiveApp) -> None:
    office = live.client("office")
    r = office.post("/start", {"process_key": "topic_call", "start_event": "start"}, token_from="/start")
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"], r.headers["Location"]
    page = office.get(r.headers["Location"].replace(live.url, "")).text
    assert "发出议题征集通知" in page and "已发起“发出议题征集通知”" in page


def test_the_plan_invites_towns_and_other_departments_not_member_units(live: LiveApp) -> None:
    office = live.client("office")
    r = office.post("/start", {"process_key": "joint_meeting", "start_event": "start_regular"}, token_from="/start")
    page = office.get(r.headers["Location"].replace(live.url, "")).text
    assert 'id="f-invited_units"' in page
    assert 'id="f-invited_units-laocheng"' in page  # a town (镇街) may be invited to sit in
    assert 'id="f-invited_units-caizheng"' not in page  # a member unit attends anyway


def test_a_topic_sent_in_a_topic_call_names_only_its_senders_row(live: LiveApp) -> None:
    office = _actor(live, "office")
    call = live.service.start("topic_call", office).instance_id
    [issue] = live.service.instance_tasks(call)
    live.service.claim(issue.id, office)
    live.service.complete(issue.id, office, {"call_title": "关于征集议题的通知", "call_deadline": "2026-03-20"})
    answers = {t.candidate_groups[0]: t for t in live.service.instance_tasks(call) if t.state == "READY"}
    caizheng = _actor(live, "caizheng")
    mine = answers["unit:caizheng"]
    live.service.claim(mine.id, caizheng)
    live.service.complete(mine.id, caizheng, {"call_answer": "topic", "title": "追加临时救助资金",
                                              "background": "背景", "proposal": "建议"})
    assert "追加临时救助资金" in live.client("caizheng").get("/tasks?tab=done").text
    other = live.client("renshe").get("/tasks?tab=claimable").text
    assert answers["unit:renshe"].id in other and "追加临时救助资金" not in other  # not another unit's topic
    assert "追加临时救助资金" not in live.client("office").get("/tasks?tab=done").text


def test_inbox_tabs_counts_and_search(live: LiveApp) -> None:
    propose_topic(live, "caizheng", "资金议题")
    propose_topic(live, "renshe", "就业议题")
    office = live.client("office")
    page = office.get("/tasks?tab=claimable").text
    assert re.search(r'data-count="claimable">2<', page)
    assert len(task_ids(page)) == 2
    found = office.get("/tasks?tab=claimable&q=T-").text
    assert len(task_ids(found)) == 2
    assert task_ids(office.get("/tasks?tab=claimable&q=nothing-like-this").text) == []
    assert re.search(r'data-count="done">0<', page)
    unit_page = live.client("caizheng").get("/tasks?tab=done").text
    assert re.search(r'data-count="done">1<', unit_page)
    assert "资金议题" in unit_page and "待填写" not in unit_page  # the sent topic names its done task


def test_notifications_unread_count_and_mark_read(live: LiveApp) -> None:
    propose_topic(live)
    office = live.client("office")
    page = office.get("/notifications").text
    assert 'data-kind="task"' in page
    assert re.search(r'id="unread-count">\d+<', page)
    office.post("/notifications/read", token_from="/notifications")
    assert 'id="unread-count"' not in office.get("/notifications").text


def test_start_page_lists_what_each_role_may_start(live: LiveApp) -> None:
    unit = live.client("caizheng").get("/start").text
    assert 'data-start="topic_proposal:start"' in unit and "joint_meeting" not in unit
    office = live.client("office").get("/start").text
    assert 'data-start="joint_meeting:start_regular"' in office
    district = live.client("district").get("/start").text
    assert 'data-start="joint_meeting:start_adhoc"' in district
    assert live.client("caizheng").post("/start", {"process_key": "joint_meeting", "start_event": "start_regular"},
                                        token_from="/start").status_code == 403


def test_district_requests_an_ad_hoc_meeting(live: LiveApp) -> None:
    d = live.client("district")
    r = d.post("/start", {"process_key": "joint_meeting", "start_event": "start_adhoc", "reason": "汛期临时救助",
                          "suggested_date": "2026-03-10"}, token_from="/start")
    assert r.status_code == 302
    office = live.client("office")
    ids = task_ids(office.get("/tasks?tab=claimable").text)
    assert len(ids) == 1
    assert "拟定会议方案" in office.get(f"/tasks/{ids[0]}").text


def test_api_with_token_claim_complete_and_errors(live: LiveApp, tmp_path: Path) -> None:
    screen = propose_topic(live)
    token = _token(live, "office")
    h = {"Authorization": f"Bearer {token}"}
    r = requests.get(f"{live.url}/api/tasks?view=claimable", headers=h, timeout=10)
    assert r.status_code == 200 and [t["id"] for t in r.json()["tasks"]] == [screen]
    assert requests.get(f"{live.url}/api/tasks", timeout=10).status_code == 401
    assert requests.get(f"{live.url}/api/tasks", headers={"Authorization": "Bearer jm_forged"},
                        timeout=10).status_code == 401
    unit_h = {"Authorization": f"Bearer {_token(live, 'renshe')}"}
    assert requests.post(f"{live.url}/api/tasks/{screen}/claim", headers=unit_h, timeout=10).status_code == 403
    r = requests.post(f"{live.url}/api/tasks/{screen}/complete", headers=h, json={"screen_decision": "maybe"},
                      timeout=10)
    assert r.status_code == 422 and "screen_decision" in r.json()["errors"]
    r = requests.post(f"{live.url}/api/tasks/{screen}/complete", headers=h, json={"screen_decision": "accept"},
                      timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(f"{live.url}/api/tasks/{screen}/complete", headers=h, json={"screen_decision": "accept"},
                      timeout=10)
    assert r.status_code == 409 and r.json()["completed_by"] == "office"
    r = requests.post(f"{live.url}/api/processes/topic_proposal/start", headers=unit_h, json={}, timeout=10)
    assert r.status_code == 201 and len(r.json()["my_tasks"]) == 1
    spec = requests.get(f"{live.url}/api/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.") and "/api/tasks/{task_id}/complete" in spec["paths"]


def test_api_with_session_needs_csrf_header(live: LiveApp) -> None:
    b = live.client("caizheng")
    r = b.http.post(f"{live.url}/api/processes/topic_proposal/start", json={}, timeout=10)
    assert r.status_code == 400
    b.get("/tasks")
    r = b.http.post(f"{live.url}/api/processes/topic_proposal/start", json={}, timeout=10,
                    headers={"X-CSRFToken": b.last_token})
    assert r.status_code == 201


def _token(live: LiveApp, username: str) -> str:
    from sqlalchemy import select

    from meeting.accounts import create_token

    with live.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return create_token(s, user, "test", live.service.now())


def test_token_cli_prints_a_token_that_works(tmp_path: Path) -> None:
    import os

    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
           "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    flask = [sys.executable, "-m", "flask", "--app", "web"]
    assert subprocess.run([*flask, "init", "--demo"], cwd=ROOT, env=env, capture_output=True).returncode == 0
    out = subprocess.run([*flask, "token", "create", "office"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().startswith("jm_")
    missing = subprocess.run([*flask, "token", "create", "nobody"], cwd=ROOT, env=env, capture_output=True,
                             text=True)
    assert missing.returncode == 1 and "不存在" in missing.stderr


def test_attachment_upload_type_checks_and_download_permissions(live: LiveApp) -> None:
    b = live.client("caizheng")
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    path = r.headers["Location"].replace(live.url, "")
    fields = {"title": "附件议题", "background": "b", "proposal": "p", "urgency": "normal"}
    b.get(path)
    r = b.http.post(live.url + path, data={**fields, "csrf_token": b.last_token},
                    files={"attachment": ("../../etc/passwd.pdf", b"not a pdf", "application/pdf")},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 422 and "附件内容与扩展名" in r.text
    b.get(path)
    r = b.http.post(live.url + path, data={**fields, "csrf_token": b.last_token},
                    files={"attachment": ("..\\报告.pdf", b"%PDF-1.4 test", "application/pdf")},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:400]
    office = live.client("office")
    screen = task_ids(office.get("/tasks?tab=claimable").text)[0]
    data = live.service.task_data(screen, _actor(live, "office"))
    attachment = data["attachment"]
    got = office.get(f"/attachments/{attachment}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 test"
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf" in got.headers["Content-Disposition"]
    assert live.client("renshe").get(f"/attachments/{attachment}").status_code == 403


def test_a_refused_submission_keeps_no_uploaded_file(live: LiveApp) -> None:
    """The upload is stored in the same transaction as the completion: refused, nothing of it stays; the form
    comes back with what was typed."""
    from sqlalchemy import func, select

    from engine.models import Attachment, AuditEvent

    def rows() -> tuple[int, int]:
        with live.db.sessions() as s:
            return (s.scalar(select(func.count()).select_from(Attachment)) or 0,
                    s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "complete"))
                    or 0)

    b = live.client("caizheng")
    r = b.post("/start", {"process_key": "topic_proposal", "start_event": "start"}, token_from="/start")
    path = r.headers["Location"].replace(live.url, "")
    before = rows()
    b.get(path)
    typed = {"title": "", "background": "背景：材料附后", "proposal": "建议", "urgency": "normal"}
    r = b.http.post(live.url + path, data={**typed, "csrf_token": b.last_token},
                    files={"attachment": ("材料.pdf", b"%PDF-1.4 kept only if accepted", "application/pdf")},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 422 and 'id="error-title"' in r.text, r.text[:400]
    assert "背景：材料附后" in r.text and "所选附件未保存" in r.text
    assert rows() == before
    b.get(path)
    r = b.http.post(live.url + path, data={**typed, "title": "附件议题", "csrf_token": b.last_token},
                    files={"attachment": ("材料.pdf", b"%PDF-1.4 kept only if accepted", "application/pdf")},
                    allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:400]
    assert rows() == (before[0] + 1, before[1] + 1)


def test_mail_copies_reach_the_unit_through_smtp(live: LiveApp) -> None:
    from aiosmtpd.controller import Controller

    from meeting.mailer import SmtpSettings, send_pending

    received: list[tuple[list[str], str]] = []
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with lock:
                received.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with live.db.transaction() as s:
        from sqlalchemy import select

        s.scalar(select(User).where(User.username == "office")).email = "office@hanbin.example"
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        propose_topic(live)
        settings = SmtpSettings("127.0.0.1", port)
        sent = send_pending(live.db, settings, live.service.now())
        assert sent >= 1
        assert any("office@hanbin.example" in to for to, _ in received)
        assert send_pending(live.db, settings, live.service.now()) == 0  # each copy goes out once
    finally:
        controller.stop()


def test_chinese_by_default_and_english_on_request(live: LiveApp) -> None:
    b = live.client("office")
    page = b.get("/tasks").text
    assert "待办事项" in page and 'lang="zh-CN"' in page
    b.post("/language", {"lang": "en", "next": "/tasks"}, token_from="/tasks")
    page = b.get("/tasks").text
    assert "My work" in page and 'lang="en"' in page and "Due soon" in page
    b.post("/language", {"lang": "xx", "next": "/tasks"}, token_from="/tasks")
    assert "My work" in b.get("/tasks").text
