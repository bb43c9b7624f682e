"""The deployment of the README ("Running on PostgreSQL"): gunicorn with two web processes and two timer workers,
driven over HTTP and stopped with SIGTERM (tests/deploy/check_deploy.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "deploy" / "check_deploy.sh"


def _pg_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else "postgresql://postgres@127.0.0.1:5432/test"


def test_gunicorn_and_two_workers_on_postgresql_serve_and_stop_cleanly() -> None:
    import psycopg

    url = _pg_url()
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        pytest.skip(f"PostgreSQL not reachable at {url}: {exc}")
    if shutil.which("bash") is None:
        pytest.skip("bash is needed for the deploy script")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env["PG_URL"] = url
    result = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "deploy check passed" in out
    assert "gunicorn web processes booted: 2" in out
    assert out.count("worker stopped") == 2
    assert "fired 0" in out
