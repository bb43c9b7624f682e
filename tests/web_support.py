"""A real WSGI server (waitress) in a thread, on a fresh database (migrated, then bench.world.populate: the
directory, the demo users with password ``demo123`` and the shipped processes), and a signed-in HTTP client that
reads CSRF tokens from pages like a browser does."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from waitress.server import create_server

from bench.world import PASSWORD, populate
from engine.clock import ManualClock
from engine.migrate import upgrade
from meeting.passwords import hash_password
from web import create_app

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HASH = hash_password(PASSWORD)  # once per test process: argon2 is slow on purpose


@dataclass
class LiveApp:
    app: Flask
    url: str
    clock: ManualClock

    def client(self, username: str | None = None, password: str = PASSWORD) -> Browser:
        b = Browser(self.url)
        if username:
            b.login(username, password)
        return b

    @property
    def service(self) -> Any:
        return self.app.extensions["workflow"]

    @property
    def db(self) -> Any:
        return self.app.extensions["db"]


class Browser:
    """requests.Session that fetches a page before posting its form, as a browser would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.last_token = ""

    def get(self, path: str, **kw: Any) -> requests.Response:
        r = self.http.get(self.base + path, allow_redirects=kw.pop("allow_redirects", True), timeout=30, **kw)
        m = _CSRF.search(r.text) if "text/html" in r.headers.get("Content-Type", "") else None
        if m:
            self.last_token = m.group(1)
        return r

    def post(self, path: str, data: dict[str, Any] | None = None, token_from: str | None = None,
             csrf: bool = True, **kw: Any) -> requests.Response:
        if csrf:
            if token_from is not None or not self.last_token:
                self.get(token_from or path)
            data = {**(data or {}), "csrf_token": self.last_token}
        return self.http.post(self.base + path, data=data, allow_redirects=kw.pop("allow_redirects", False),
                              timeout=30, **kw)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        r = self.post("/login", {"username": username, "password": password}, token_from="/login")
        assert r.status_code == 302, (username, r.status_code, r.text[:500])
        return r


@contextmanager
def live_app(database_url: str, clock: ManualClock, **config: Any) -> Iterator[LiveApp]:
    """``config`` adds to the app's configuration (e.g. ``BUDGETS`` for diagrams with second-long timers)."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "CLOCK": clock, **config})
    db = app.extensions["db"]
    upgrade(db)
    populate(db, app.extensions["workflow"], _HASH)
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    port = server.effective_port  # type: ignore[union-attr]
    def serve() -> None:
        try:
            server.run()
        except OSError:  # the socket map is closed under the loop when the test ends
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield LiveApp(app, f"http://127.0.0.1:{port}", clock)
    finally:
        server.close()
        thread.join(timeout=5)
        db.dispose()
