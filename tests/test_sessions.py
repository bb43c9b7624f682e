"""Sessions and sign-in: sign-out, a password change and deactivation end every session of the user (a cookie
saved before is refused, in any browser); throttling slows a guesser down without locking the owner out; an
unknown name costs as much work as a known one; every cookie-authenticated write needs the CSRF token whatever
headers come with it; API tokens have a name and an expiry and can be listed and revoked (command line and the
personal settings page); a refused task submission keeps none of its uploaded files."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bench.world import PASSWORD, T0, populate
from engine.clock import ManualClock
from engine.models import Attachment
from meeting import accounts
from meeting.models import ApiToken, LoginAttempt, User
from meeting.passwords import hash_password

OWNER_ADDRESS, ATTACKER = "10.1.1.5", "203.0.113.7"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def clock() -> ManualClock:  # one clock for the module's app (the root fixture is per test)
    return ManualClock(T0)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, clock: ManualClock) -> Iterator[Flask]:
    from engine.migrate import upgrade
    from web import create_app

    path: Path = tmp_path_factory.mktemp("sessions")
    flask_app = create_app({"DATABASE_URL": f"sqlite:///{path}/s.db", "SECRET_KEY": "t", "CLOCK": clock})
    db = flask_app.extensions["db"]
    upgrade(db)
    populate(db, flask_app.extensions["workflow"], hash_password(PASSWORD))
    yield flask_app
    db.dispose()


def browser(app: Flask, address: str = OWNER_ADDRESS) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def csrf(client: FlaskClient, path: str = "/login") -> str:
    return _CSRF.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})


def signed_in(client: FlaskClient) -> bool:
    return client.get("/tasks").status_code == 200


def forget_attempts(app: Flask) -> None:
    with app.extensions["db"].transaction() as s:
        s.execute(LoginAttempt.__table__.delete())


# ---------------------------------------------------------------------------------------------- sessions end
def test_a_cookie_saved_before_sign_out_is_refused_after_it_in_every_browser(app: Flask) -> None:
    first, other = browser(app), browser(app, "10.1.1.6")
    assert sign_in(first, "renshe").status_code == 302 and sign_in(other, "renshe").status_code == 302
    saved = first.get_cookie("jm_session")
    assert saved is not None
    copy = browser(app, "198.51.100.9")  # someone who copied the cookie
    copy.set_cookie("jm_session", saved.value)
    assert signed_in(copy)
    r = first.post("/logout", data={"csrf_token": csrf(first, "/tasks")})
    assert r.status_code == 302
    assert not signed_in(first) and not signed_in(copy) and not signed_in(other)
    assert sign_in(first, "renshe").status_code == 302 and signed_in(first)


def test_password_change_and_deactivation_end_every_session(app: Flask) -> None:
    b = browser(app)
    assert sign_in(b, "yibao").status_code == 302 and signed_in(b)
    with app.extensions["db"].transaction() as s:
        assert accounts.revoke_sessions(s, "yibao", T0) == 1  # what the password change calls
    assert not signed_in(b)
    assert sign_in(b, "yibao").status_code == 302 and signed_in(b)
    with app.extensions["db"].transaction() as s:
        s.scalar(select(User).where(User.username == "yibao")).active = False  # type: ignore[union-attr]
    assert not signed_in(b)
    with app.extensions["db"].transaction() as s:
        s.scalar(select(User).where(User.username == "yibao")).active = True  # type: ignore[union-attr]
    assert accounts.revoke_sessions.__doc__ and "every browser" in accounts.revoke_sessions.__doc__


# ---------------------------------------------------------------------------------------------- throttling
def test_guessing_slows_down_but_the_owner_still_signs_in_from_their_office(app: Flask, clock: ManualClock) -> None:
    forget_attempts(app)
    owner = browser(app)
    assert sign_in(owner, "jiaoti").status_code == 302  # the owner's usual address is now known
    owner.post("/logout", data={"csrf_token": csrf(owner, "/tasks")})
    attacker = browser(app, ATTACKER)
    statuses = [sign_in(attacker, "jiaoti", f"guess{i}").status_code for i in range(5)]
    assert statuses == [401] * 5  # the first five are free
    r = sign_in(attacker, "jiaoti", PASSWORD)  # even the right password waits now: the answer tells nothing
    assert r.status_code == 429 and r.headers["Retry-After"] == "1" and "秒后再试" in r.text
    waits = []
    for _ in range(4):  # the wait doubles with each failure
        clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
        assert sign_in(attacker, "jiaoti", "wrong").status_code == 401
        r = sign_in(attacker, "jiaoti", "wrong")
        waits.append(int(r.headers["Retry-After"]))
    assert waits == sorted(waits) and waits[-1] > waits[0]
    # From other addresses the account is slowed down too, but not from where the owner signs in.
    elsewhere = browser(app, "192.0.2.44")
    assert sign_in(elsewhere, "jiaoti", PASSWORD).status_code == 429
    assert sign_in(owner, "jiaoti").status_code == 302 and signed_in(owner)


@pytest.mark.parametrize("target", ["/\\evil.example", "//evil.example", "https://evil.example/", "/\t/evil.example",
                                    "/%5Cevil.example"])
def test_signing_in_never_leads_to_another_site(app: Flask, target: str) -> None:
    forget_attempts(app)
    client = browser(app)
    r = client.post("/login?next=" + target.replace("\t", "%09"), data={
        "username": "jiaoti", "password": PASSWORD, "csrf_token": csrf(client)})
    assert r.status_code == 302
    location = r.headers["Location"]
    assert "evil.example" not in location, location


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(tmp_path: Path, clock: ManualClock) -> None:
    from engine.migrate import upgrade
    from web import create_app

    proxied = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "SECRET_KEY": "t", "CLOCK": clock,
                          "TRUSTED_PROXY_HOPS": 1})
    upgrade(proxied.extensions["db"])
    populate(proxied.extensions["db"], proxied.extensions["workflow"], hash_password(PASSWORD))
    client = browser(proxied, "127.0.0.1")  # every request reaches the app from the proxy
    client.environ_base["HTTP_X_FORWARDED_FOR"] = ATTACKER
    sign_in(client, "jiaoti", "wrong")
    with proxied.extensions["db"].sessions() as s:
        assert list(s.scalars(select(LoginAttempt.remote))) == [ATTACKER]
    proxied.extensions["db"].dispose()


def test_guessing_from_the_owners_own_address_is_slowed_down_too(app: Flask, clock: ManualClock) -> None:
    """A known address is no free pass: behind a reverse proxy every client may come from the owner's address."""
    forget_attempts(app)
    owner = browser(app)
    assert sign_in(owner, "jiaoti").status_code == 302
    owner.post("/logout", data={"csrf_token": csrf(owner, "/tasks")})
    same_place = browser(app)  # another client seen from the same address
    assert [sign_in(same_place, "jiaoti", f"guess{i}").status_code for i in range(5)] == [401] * 5
    assert sign_in(same_place, "jiaoti", "guess5").status_code == 429


def test_no_lockout_the_delays_are_bounded_and_end(app: Flask, clock: ManualClock) -> None:
    forget_attempts(app)
    attacker = browser(app, ATTACKER)
    for _ in range(30):
        r = sign_in(attacker, "zhujian", "wrong")
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) <= accounts.MAX_DELAY.total_seconds()
            clock.advance(timedelta(seconds=int(r.headers["Retry-After"])))
    clock.advance(accounts.MAX_DELAY)
    assert sign_in(browser(app, "192.0.2.99"), "zhujian").status_code == 302


def test_unknown_and_known_names_cost_the_same_work(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    forget_attempts(app)
    checked: list[str] = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: checked.append(p) or real(h, p))
    db = app.extensions["db"]

    def attempt(name: str) -> float:
        began = time.perf_counter()
        with db.transaction() as s:
            result = accounts.authenticate(s, name, "wrong-password", T0, f"198.51.100.{len(checked) % 200}")
        assert result.user is None and not result.throttled
        return time.perf_counter() - began

    known = [attempt("fagai") for _ in range(4)]
    unknown = [attempt(f"nobody{i}") for i in range(4)]
    assert len(checked) == 8  # the password is checked for unknown names too (against a dummy hash)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.4 < ratio < 2.5, (known, unknown)


# ---------------------------------------------------------------------------------------------- CSRF
def test_every_cookie_authenticated_write_needs_the_csrf_token_whatever_headers_it_carries(app: Flask) -> None:
    forget_attempts(app)
    b = browser(app)
    assert sign_in(b, "caizheng").status_code == 302
    task_id = app.extensions["workflow"].start("topic_proposal", _actor(app, "caizheng")).ready_tasks[0]
    for headers in ({}, {"Authorization": "Basic Y2Fpemhlbmc6ZGVtbzEyMw=="}, {"Authorization": "Bearer nonsense"},
                    {"Authorization": ""}, {"X-Requested-With": "XMLHttpRequest"}):
        r = b.post(f"/api/tasks/{task_id}/claim", headers=headers)
        assert r.status_code in (400, 401), (headers, r.status_code)
    token = csrf(b, "/tasks")
    assert b.post(f"/api/tasks/{task_id}/claim", headers={"X-CSRFToken": token}).status_code == 200


def test_a_token_call_is_the_tokens_user_whatever_cookie_comes_along(app: Flask) -> None:
    with app.extensions["db"].transaction() as s:
        token = accounts.create_token(s, s.scalar(select(User).where(User.username == "renshe")), "脚本", T0)
    b = browser(app)
    assert sign_in(b, "caizheng").status_code == 302
    who = b.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).json
    assert who["username"] == "renshe" and who["token"] is True


# ---------------------------------------------------------------------------------------------- tokens
def test_tokens_have_a_name_and_an_expiry_and_can_be_listed_and_revoked(app: Flask, clock: ManualClock) -> None:
    with app.app_context():  # as `flask` runs its commands
        _token_commands(app, clock)


def _token_commands(app: Flask, clock: ManualClock) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["token", "create", "weijian", "--name", "报表脚本", "--days", "30"])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    api = app.test_client()
    assert api.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = runner.invoke(args=["token", "list", "weijian"])
    assert "报表脚本" in listed.output and "active" in listed.output
    token_id = int(listed.output.split("\t")[0])
    revoked = runner.invoke(args=["token", "revoke", "weijian", str(token_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert api.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in runner.invoke(args=["token", "list", "weijian"]).output
    assert runner.invoke(args=["token", "revoke", "caizheng", str(token_id)]).exit_code == 1  # not theirs
    # expiry
    short = runner.invoke(args=["token", "create", "weijian", "--name", "临时", "--days", "1"]).output.strip()
    assert api.get("/api/whoami", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert api.get("/api/whoami", headers={"Authorization": f"Bearer {short}"}).status_code == 401
    assert "expired" in runner.invoke(args=["token", "list", "weijian"]).output


def test_the_personal_settings_page_shows_creates_and_revokes_tokens(app: Flask) -> None:
    forget_attempts(app)
    b = browser(app)
    assert sign_in(b, "tongji").status_code == 302
    page = b.get("/account/tokens")
    assert page.status_code == 200 and "您还没有 API 令牌" in page.text
    r = b.post("/account/tokens", data={"name": " ", "days": "30", "csrf_token": csrf(b, "/account/tokens")})
    assert r.status_code == 422 and "请填写令牌用途" in r.text
    r = b.post("/account/tokens", data={"name": "数据对接", "days": "90", "csrf_token": csrf(b, "/account/tokens")})
    assert r.status_code == 201 and r.headers["Cache-Control"] == "no-store"
    token = re.search(r"(jm_[A-Za-z0-9_-]+)", r.text).group(1)  # type: ignore[union-attr]
    assert app.test_client().get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = re.search(r'data-token-id="(\d+)" data-state="active"', r.text).group(1)  # type: ignore[union-attr]
    assert token not in b.get("/account/tokens").text  # shown once only
    other = browser(app)
    assert sign_in(other, "shenji").status_code == 302
    assert other.post(f"/account/tokens/{token_id}/revoke",
                      data={"csrf_token": csrf(other, "/account/tokens")}).status_code == 404  # not theirs
    r = b.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(b, "/account/tokens")})
    assert r.status_code == 302
    assert 'data-state="revoked"' in b.get("/account/tokens").text
    assert app.test_client().get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with app.extensions["db"].sessions() as s:
        row = s.get(ApiToken, int(token_id))
        assert row is not None and row.expires_at is not None and row.revoked


# ---------------------------------------------------------------------------------------------- uploads
def test_a_refused_submission_keeps_none_of_its_files(app: Flask) -> None:
    forget_attempts(app)
    b = browser(app)
    assert sign_in(b, "canlian").status_code == 302
    task_id = app.extensions["workflow"].start("topic_proposal", _actor(app, "canlian")).ready_tasks[0]
    with app.extensions["db"].sessions() as s:
        before = s.scalar(select(func.count()).select_from(Attachment))
    import io

    token = csrf(b, f"/tasks/{task_id}")
    r = b.post(f"/tasks/{task_id}", data={"csrf_token": token, "title": "", "urgency": "normal",
                                         "attachment": (io.BytesIO(b"%PDF-1.4 test"), "a.pdf")},
               content_type="multipart/form-data")
    assert r.status_code == 422
    with app.extensions["db"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == before


def _actor(app: Flask, username: str) -> Any:
    from meeting.runtime import actor_for

    return actor_for(app.extensions["db"], username)
