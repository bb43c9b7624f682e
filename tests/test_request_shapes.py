"""No shape of a request answers 500: every route of the URL map, with hostile values in every path parameter and
in every query and form parameter any view reads, on SQLite and PostgreSQL.

The parameters are found, not listed: the URL map gives the path parameters, and the query and form parameter
names are every ``….get("name")`` / ``getlist`` / ``[...]`` on something named ``args`` or ``form`` in web/ and
meeting/ (and the names handed to helpers that read one), so a new page or filter is walked without touching
this file. Each route is requested once per hostile value with *all* parameters set to it, and where that is
refused (4xx) once per parameter, so one refusal cannot hide another parameter's crash.

``make test`` runs a smoke walk (a few values, two users); ``make fuzz`` the full one (REQUEST_SHAPES_FULL=1:
every value, more users).
"""

from __future__ import annotations

import ast
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bench.world import PASSWORD, T0, populate
from engine.clock import ManualClock
from engine.migrate import upgrade
from meeting.passwords import hash_password

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("REQUEST_SHAPES_FULL") == "1"
HOSTILE = ["99999999999999999999999999", "2147483648", "-1", "0", "²", "١٢", "１２", "0001-01-01", "9999-12-31",
           "9999-12-31T23:59:59", "1e999", "NaN", "' OR '1'='1", "\u202e\u2028", "../../etc/passwd", "x" * 500,
           "[]", "{}", ""]
SMOKE = ["99999999999999999999999999", "²", "9999-12-31", "0001-01-01", "-1", "١٢"]
SKIP = {("auth.logout", "POST"), ("auth.login", "POST"), ("account.password", "POST"), ("static", "GET")}
_HASH = hash_password(PASSWORD)


# ---------------------------------------------------------------------------------------------- the parameters
def _reads(node: ast.Call) -> str | None:
    """The parameter name a call like ``request.args.get("x")`` reads."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("get", "getlist") and node.args):
        return None
    receiver = ast.unparse(func.value)
    if not receiver.endswith(("args", "form", "request.values")):
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _loop_reads(loop: ast.For, helpers: set[str]) -> bool:
    """``for key in ("a", "b"): … args.get(key) …`` (or a helper that reads one)."""
    target = loop.target.id  # type: ignore[attr-defined]
    for call in ast.walk(loop):
        if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Name) \
                and call.args[0].id == target:
            if isinstance(call.func, ast.Name) and call.func.id in helpers:
                return True
            if isinstance(call.func, ast.Attribute) and ast.unparse(call.func.value).endswith(("args", "form")):
                return True
    return False


def parameter_names() -> list[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("web").rglob("*.py"), *ROOT.joinpath("meeting").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers: set[str] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.args.args:
                param = fn.args.args[0].arg
                for call in ast.walk(fn):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.args \
                            and isinstance(call.args[0], ast.Name) and call.args[0].id == param \
                            and ast.unparse(call.func.value).endswith(("args", "form")):
                        helpers.add(fn.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if (name := _reads(node)) is not None:
                    names.add(name)
                elif isinstance(node.func, ast.Name) and node.func.id in helpers and node.args \
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    names.add(node.args[0].value)
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith(("args", "form")) \
                    and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                names.add(node.slice.value)
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) \
                    and isinstance(node.iter, ast.Tuple | ast.List) and _loop_reads(node, helpers):
                names.update(e.value for e in node.iter.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    names.discard("csrf_token")
    return sorted(n for n in names if n.isidentifier() or "." in n or "-" in n)


def test_the_walk_finds_the_parameters_of_the_pages() -> None:
    names = parameter_names()
    assert {"page", "tab", "sort", "view", "from", "to", "due_from", "due_to", "reason"} <= set(names), names


# ---------------------------------------------------------------------------------------------- the app
def _walker(db: Any) -> None:
    """One person holding every role (an administrator's view of every page) and a unit liaison."""
    from meeting.models import User, UserRole
    from meeting.roles import FIXED_ROLES

    with db.transaction() as s:
        user = User(username="walker", display_name="巡检", unit_code="minzheng", password_hash=_HASH, active=True,
                    created_at=T0)
        s.add(user)
        s.flush()
        for role in FIXED_ROLES:
            if role != "designer":  # a designer works on no task: the walk reaches task pages as office/admin
                s.add(UserRole(user_id=user.id, role=role))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walked_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from meeting.demo import Walkthrough
    from web import create_app

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shapes')}/shapes.db"
        schema = None
    else:
        from bench.world import pg_unreachable, postgres_url
        from engine.db import private_schema

        reason = pg_unreachable(postgres_url())
        if reason:
            pytest.skip(reason)
        schema = private_schema(postgres_url(), "shapes")
        url = schema.__enter__()
    clock = ManualClock(T0)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "shapes", "CLOCK": clock, "WTF_CSRF_ENABLED": False,
                      "TESTING": False})
    db = app.extensions["db"]
    upgrade(db)
    service = app.extensions["workflow"]
    populate(db, service, _HASH)
    _walker(db)
    _some_work(Walkthrough(db, service, clock))
    try:
        yield app
    finally:
        db.dispose()
        if schema is not None:
            schema.__exit__(None, None, None)


def _some_work(w: Any) -> None:
    """Records for the routes to find: a whole joint meeting when the demo runs through, else at least open
    instances and tasks."""
    from bench.world import first_meeting

    try:
        first_meeting(w)
    except Exception:  # noqa: BLE001 - the walk needs records, not this particular story
        w.start("caizheng", "topic_proposal")
        w.start("office", "joint_meeting")


def samples(app: Flask) -> dict[str, str]:
    """A real value for each path parameter name, so the other parameters of a route are reached."""
    from engine.models import Attachment, HumanTask, Instance, ProcessModel
    from meeting.models import Meeting, ResolutionItem, User

    db = app.extensions["db"]
    with db.sessions() as s:
        first = {
            "instance_id": s.scalar(select(Instance.id).limit(1)),
            "task_id": s.scalar(select(HumanTask.id).where(HumanTask.state == "READY").limit(1)),
            "attachment_id": s.scalar(select(Attachment.id).limit(1)),
            "model_id": s.scalar(select(ProcessModel.id).limit(1)),
            "meeting_id": s.scalar(select(Meeting.id).limit(1)),
            "item_id": s.scalar(select(ResolutionItem.id).limit(1)),
            "user_id": s.scalar(select(User.id).where(User.username == "tongji")),
        }
    return {**{k: str(v) for k, v in first.items() if v is not None}, "key": "joint_meeting", "version": "1",
            "code": "tongji", "day": "2026-05-01", "scope_id": "x", "filter_id": "1", "token_id": "1"}


def urls(app: Flask, values: list[str], method: str) -> Iterator[tuple[str, str, str]]:
    """(endpoint, url, what is hostile) for every route of ``method``: each path parameter in turn."""
    known = samples(app)
    for rule in app.url_map.iter_rules():
        if method not in (rule.methods or ()) or (rule.endpoint, method) in SKIP:
            continue
        args = sorted(rule.arguments)
        base = {a: known.get(a, "1") for a in args}
        yield rule.endpoint, _build(rule, base), "query"
        for arg in args:
            for v in values:
                if not v:
                    continue
                yield rule.endpoint, _build(rule, {**base, arg: v}), f"path {arg}={v[:20]!r}"


def _build(rule: Any, values: dict[str, str]) -> str:
    out = []
    for is_dynamic, part in rule._trace:
        if is_dynamic:
            out.append(quote(values[part], safe=""))
        else:
            out.append(part)
    path = "".join(out)
    return path[path.index("/"):] if "/" in path else path


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, (username, r.status_code)
    return client


def _request(client: FlaskClient, method: str, url: str, params: dict[str, str], token: str | None) -> int:
    """The status; an exception escaping the app (e.g. while a streamed export is written) counts as 500."""
    try:
        if method == "GET":
            response = client.get(url, query_string=params)
        elif url.startswith("/api/"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.post(url, json=params, headers=headers)
        else:
            response = client.post(url, data=params)
        response.get_data()  # a streamed body fails only while it is read
        return response.status_code
    except Exception:  # noqa: BLE001 - any escape is what the walk looks for
        return 500


def walk(app: Flask, username: str, values: list[str]) -> list[str]:
    from meeting.accounts import create_token
    from meeting.models import User

    db = app.extensions["db"]
    with db.transaction() as s:
        token = create_token(s, s.scalar(select(User).where(User.username == username)), "walk", T0)
    client = _client(app, username)
    names = parameter_names()
    failures = []
    for method in ("GET", "POST"):
        for _endpoint, url, what in urls(app, values, method):
            if what != "query":
                status = _request(client, method, url, {}, token)
                if status >= 500:
                    failures.append(f"{method} {url} ({what}) → {status}")
                continue
            baseline: list[int] = []  # the bare route's status, asked for only when needed
            for v in values:
                failures += _bisect(client, method, url, names, v, token, baseline)
    return failures


def _bisect(client: FlaskClient, method: str, url: str, names: list[str], value: str, token: str | None,
            baseline: list[int]) -> list[str]:
    """Every parameter set to ``value``; where that is refused although the bare route is not, the halves again,
    so one parameter's refusal cannot hide another's crash (a few requests per route, not one per name)."""
    status = _request(client, method, url, {n: value for n in names}, token)
    if status >= 500:
        return [f"{method} {url} ({names[0] if len(names) == 1 else 'every parameter'} = {value[:20]!r}) → {status}"]
    if len(names) == 1 or status not in (400, 404, 422):
        return []
    if not baseline:
        baseline.append(_request(client, method, url, {}, token))
    if baseline[0] >= 400:
        return []
    half = len(names) // 2
    return (_bisect(client, method, url, names[:half], value, token, baseline)
            + _bisect(client, method, url, names[half:], value, token, baseline))


def test_no_route_answers_500_to_hostile_parameters(walked_app: Flask) -> None:
    """Smoke (``make test``): two sampled values on SQLite, and on PostgreSQL the value whose failure is its own
    (2^31: beyond its integer, within SQLite's). Full (``make fuzz``): every value, four users, both backends."""
    rng = random.Random(17)
    postgres = walked_app.extensions["db"].is_postgres
    users = ["walker", "caizheng", "office", "designer"] if FULL else ["walker"]
    failures: list[str] = []
    for username in users:
        chosen = HOSTILE if FULL else (["2147483648"] if postgres else rng.sample(SMOKE, 2))
        failures += walk(walked_app, username, chosen)
    assert failures == [], "\n".join(failures[:60])
