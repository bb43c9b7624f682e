"""Races: many concurrent submissions of the same task through a live server — exactly one
succeeds, every other one gets 409 naming who did it — on SQLite and PostgreSQL.

Ten office users (``RACE_THREADS``) wait at a barrier and then submit the same 审核议题 task at once: through
the JSON API with their tokens, through the task page's form with their sessions, or both mixed; and ten claim
the same task at once. ``RACE_ROUNDS`` rounds of each (default 2; ``make chaos`` runs 20). Afterwards the
crash-safety check (tests/chaos/harness.py) confirms the database: one completion per task, by the winner, and
projections in step with the workflows.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from chaos.harness import Ledger, private_schema, verify
from figures import count
from sqlalchemy import func, select
from web_support import _HASH, Browser, LiveApp, live_app

from bench.world import T0, pg_unreachable, postgres_url
from engine.clock import ManualClock
from engine.models import AuditEvent, HumanTask
from meeting.accounts import create_token
from meeting.models import Notification, Topic, User, UserRole
from meeting.runtime import actor_for

THREADS = int(os.environ.get("RACE_THREADS", "10"))
ROUNDS = int(os.environ.get("RACE_ROUNDS", "2"))
OFFICE = ["office"] + [f"office{n}" for n in range(2, THREADS + 1)]


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveApp, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/races.db"
        with live_app(url, ManualClock(T0)) as app:
            yield app, url
        return
    reason = pg_unreachable(postgres_url())
    if reason:
        pytest.skip(reason)
    with private_schema(postgres_url()) as url, live_app(url, ManualClock(T0)) as app:
        yield app, url


def add_office_staff(live: LiveApp) -> dict[str, str]:
    """Colleagues in the office (every one a candidate for its tasks); returns an API token for each."""
    tokens = {}
    with live.db.transaction() as s:
        for name in OFFICE:
            user = s.scalar(select(User).where(User.username == name))
            if user is None:
                user = User(username=name, display_name=f"办公室{name}", unit_code="minzheng", password_hash=_HASH,
                            active=True, created_at=live.service.now())
                user.roles.append(UserRole(role="office"))
                s.add(user)
                s.flush()
            tokens[name] = create_token(s, user, "race", live.service.now())
    return tokens


def screening_task(live: LiveApp, unit: str, title: str) -> str:
    """A unit proposes a topic (through the service); returns the office's 审核议题 task."""
    service, actor = live.service, actor_for(live.db, unit)
    instance = service.start("topic_proposal", actor).instance_id
    propose = service.instance_tasks(instance)[0]
    service.complete(propose.id, actor, {"title": title, "background": "背景", "proposal": "建议", "urgency": "normal"})
    ready = [t for t in service.instance_tasks(instance) if t.state == "READY"]
    assert [t.bpmn_id for t in ready] == ["screen"]
    return ready[0].id


def race(calls: list[Callable[[], requests.Response]]) -> list[tuple[int, requests.Response]]:
    """Run the calls at once (a barrier releases them together); returns (index, response) per call."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[int, requests.Response]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def go(i: int, call: Callable[[], requests.Response]) -> None:
        try:
            barrier.wait(timeout=30)
            r = call()
            with lock:
                results.append((i, r))
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == len(calls)
    return sorted(results, key=lambda x: x[0])


def api_complete(live: LiveApp, token: str, task_id: str, values: dict[str, Any]) -> Callable[[], requests.Response]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return lambda: http.post(f"{live.url}/api/tasks/{task_id}/complete", json=values, timeout=60)


def form_complete(browser: Browser, task_id: str, values: dict[str, Any]) -> Callable[[], requests.Response]:
    browser.get(f"/tasks/{task_id}")  # the page is open, its CSRF token read: then everyone presses 提交
    return lambda: browser.post(f"/tasks/{task_id}", values, token_from=None)


def test_concurrent_submissions_of_one_task_one_wins_the_rest_get_409(live: tuple[LiveApp, str]) -> None:
    app, url = live
    tokens = add_office_staff(app)
    browsers = {name: app.client(name) for name in OFFICE}
    with app.db.sessions() as s:
        names = dict(s.execute(select(User.username, User.display_name).where(User.username.in_(OFFICE))).all())
    ledger = Ledger()
    tally: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        for mode in ("api", "form", "mixed"):
            task_id = screening_task(app, "caizheng", f"第{round_no}轮{mode}议题")
            calls, by = [], []
            for n, name in enumerate(OFFICE):
                values = {"screen_decision": "accept", "screen_comment": f"{name}的意见"}
                use_api = mode == "api" or (mode == "mixed" and n % 2 == 0)
                calls.append(api_complete(app, tokens[name], task_id, values) if use_api
                             else form_complete(browsers[name], task_id, values))
                by.append((name, "api" if use_api else "form"))
            results = race(calls)
            won = [(by[i], r) for i, r in results if r.status_code in (200, 302)]
            lost = [(by[i], r) for i, r in results if r.status_code == 409]
            assert len(won) == 1, [(by[i], r.status_code, r.text[:200]) for i, r in results]
            assert len(lost) == THREADS - 1, [(by[i], r.status_code, r.text[:200]) for i, r in results]
            (winner, via), response = won[0]
            assert response.status_code == (200 if via == "api" else 302)
            for (name, how), r in lost:
                if how == "api":
                    assert r.json()["completed_by"] == winner, r.text
                else:
                    shown = names[winner]  # the winner by name, never the login name; nothing typed is lost
                    assert f"已由{shown}于" in r.text and f"{name}的意见" in r.text and f"（{winner}）" not in r.text
            ledger.acked[task_id] = winner
            with app.db.sessions() as s:
                rows = list(s.scalars(select(AuditEvent).where(AuditEvent.task_id == task_id,
                                                               AuditEvent.action == "complete")))
                task = s.get(HumanTask, task_id)
            assert [(a.actor, a.comment, a.data.get("screen_comment")) for a in rows] == [
                (winner, None, f"{winner}的意见")]
            assert task is not None and task.state == "COMPLETED" and task.completed_by == winner
            tally[mode] += THREADS

    # claims: one gets the task, the others learn who has it
    task_id = screening_task(app, "renshe", "签收竞争议题")
    http = {name: requests.Session() for name in OFFICE}
    for name, h in http.items():
        h.headers["Authorization"] = f"Bearer {tokens[name]}"
    results = race([lambda h=h: h.post(f"{app.url}/api/tasks/{task_id}/claim", timeout=60) for h in http.values()])
    statuses = Counter(r.status_code for _, r in results)
    assert statuses == Counter({200: 1, 409: THREADS - 1}), [(r.status_code, r.text[:200]) for _, r in results]
    holder = next(OFFICE[i] for i, r in results if r.status_code == 200)
    assert {r.json()["message"] for _, r in results if r.status_code == 409} == {f"任务已由{holder}签收"}
    tally["claim"] += THREADS

    with app.db.sessions() as s:
        accepted = s.scalar(select(func.count()).select_from(Topic).where(Topic.status == "accepted"))
        results_sent = s.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient_group == "unit:caizheng", Notification.kind != "task"))
    assert accepted == 3 * ROUNDS and results_sent == 3 * ROUNDS  # each decision took effect once
    findings = verify(url, ledger)
    assert findings.ok, findings.report()
    count("concurrent submissions raced", sum(tally.values()))
