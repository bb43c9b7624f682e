"""gunicorn's settings for the PostgreSQL deployment (README "Running on PostgreSQL", tests/deploy):
``gunicorn -c python:web.gunicorn_conf --bind HOST:PORT 'web.wsgi:create_app()'``.

Two processes, one per core, each with threads: a request spends much of its time waiting for PostgreSQL
(a completion is a few round trips and a commit's flush to disk), and a thread that waits leaves the core to
another request of the same process, where a single-threaded process would idle. The thread count is what
bench/run.py's ``pg_completions_per_s_16_clients`` measured best with 16 clients on 2 cores (more threads
only queue on the cores and on Python's interpreter lock, raising p99). Each thread holds at most one database
connection (engine/db.py pools 10 per process, plus overflow). ``WEB_PROCESSES`` and ``WEB_THREADS`` override
both for larger machines: processes = cores, threads as measured there.
"""

from __future__ import annotations

import os

workers = int(os.environ.get("WEB_PROCESSES", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
graceful_timeout = 20  # SIGTERM: requests in hand finish, then the process exits
timeout = 60
keepalive = 65  # idle keep-alive seconds: longer than a reverse proxy's (usually 60), so the proxy closes first
