"""The web side of the benchmarks: the app served by waitress in its own process, and a signed-in client."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key"
# The options of ``make run`` (Makefile: WAITRESS_OPTIONS).
WAITRESS_OPTIONS = ("--outbuf-high-watermark=2097152",)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The application on loopback in child processes, as the README serves it: ``waitress-serve
    --outbuf-high-watermark=2097152 --call web.wsgi:create_app`` (``make run``, with its embedded timer worker
    where that is on by default), or with
    ``gunicorn_workers`` set, ``gunicorn -c python:web.gunicorn_conf --workers N 'web.wsgi:create_app()'`` (the
    PostgreSQL deployment; ``gunicorn_threads`` overrides the threads of web/gunicorn_conf.py)."""

    def __init__(self, database_url: str, threads: int = 4, gunicorn_workers: int = 0,
                 gunicorn_threads: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET}
        if gunicorn_workers:
            env["EMBEDDED_WORKER"] = "0"
            threads_arg = ["--threads", str(gunicorn_threads)] if gunicorn_threads is not None else []
            command = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf", "--workers",
                       str(gunicorn_workers), *threads_arg, "--bind", f"127.0.0.1:{self.port}",
                       "web.wsgi:create_app()"]
        else:
            command = [sys.executable, "-m", "waitress", "--host=127.0.0.1", f"--port={self.port}",
                       f"--threads={threads}", *WAITRESS_OPTIONS, "--call", "web.wsgi:create_app"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"web server exited: {self.output()}")
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"web server did not come up: {self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Client:
    """A signed-in user. Each request carries the session cookie as it was right after sign-in, so flashed
    messages of redirects that are not followed do not pile up in the cookie."""

    def __init__(self, base: str, username: str, password: str = "demo123") -> None:
        self.base = base
        self.http = requests.Session()
        r = self.http.get(base + "/login", timeout=30)
        token = _CSRF.search(r.text)
        assert token, r.text[:300]
        r = self.http.post(base + "/login", data={"username": username, "password": password,
                                                  "csrf_token": token.group(1)},
                           allow_redirects=False, timeout=30)
        assert r.status_code == 302, (username, r.status_code, r.text[:300])
        r = self.http.get(base + "/tasks", timeout=30)
        token = _CSRF.search(r.text)
        assert r.status_code == 200 and token, (r.status_code, r.text[:300])
        self.token = token.group(1)
        self.cookie = {"Cookie": f"jm_session={self.http.cookies.get('jm_session')}"}

    def get(self, path: str) -> requests.Response:
        r = self.http.get(self.base + path, headers=self.cookie, allow_redirects=False, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")
        return r

    def complete(self, task_id: str, values: dict[str, str]) -> None:
        r = self.http.post(f"{self.base}/tasks/{task_id}", data={**values, "csrf_token": self.token},
                           headers=self.cookie, allow_redirects=False, timeout=60)
        if r.status_code != 302 or not r.headers.get("Location", "").endswith("/tasks"):
            raise RuntimeError(f"complete {task_id}: {r.status_code} {r.text[:300]}")
