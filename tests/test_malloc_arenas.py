"""The web process limits glibc's malloc arenas before its threads start, unless the environment says how many
(web/malloc_arenas.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "from web.malloc_arenas import limit_malloc_arenas; print(limit_malloc_arenas())"


def probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_one_arena_on_glibc_unless_the_environment_decides() -> None:
    assert probe() == "True"  # this machine runs glibc (Debian)
    assert probe(MALLOC_ARENA_MAX="4") == "False"
