#!/usr/bin/env bash
# The README's "Running on PostgreSQL" section, run for real: a private schema on the PostgreSQL server,
# `flask init`, gunicorn with its settings (web/gunicorn_conf.py: 2 web processes with threads), 2 timer
# workers; a unit starts a topic proposal and completes its task over HTTP (API token), the office sees the next
# task; then everything is stopped with SIGTERM and must exit 0. Used by tests/test_deploy.py (so `make test` and CI run it). Needs PostgreSQL; prints what it does.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${BIN:-.venv/bin}"
PG="${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
SCHEMA="deploy_$(date +%s)_$$"
WORK="$(mktemp -d)"
PIDS=()

"$BIN/python" -c "import psycopg,sys; psycopg.connect(sys.argv[1], autocommit=True).execute('CREATE SCHEMA $SCHEMA')" "$PG"
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  "$BIN/python" -c "import psycopg,sys; psycopg.connect(sys.argv[1], autocommit=True).execute('DROP SCHEMA IF EXISTS $SCHEMA CASCADE')" "$PG" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the README commands (with this schema and a free port) ---------------------------------------------------
export DATABASE_URL="$PG?options=-csearch_path%3D$SCHEMA"
export SECRET_KEY="deploy-check-secret"
export EMBEDDED_WORKER=0
PORT="$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

"$BIN/flask" --app web init --demo
"$BIN/gunicorn" -c python:web.gunicorn_conf --bind "127.0.0.1:$PORT" --pid "$WORK/gunicorn.pid" \
  --log-file "$WORK/gunicorn.log" 'web.wsgi:create_app()' &
PIDS+=($!)
"$BIN/flask" --app web worker --name worker-1 >"$WORK/worker-1.log" 2>&1 &
PIDS+=($!)
"$BIN/flask" --app web worker --name worker-2 >"$WORK/worker-2.log" 2>&1 &
PIDS+=($!)
# ------------------------------------------------------------------------------------------------------------

UNIT_TOKEN="$("$BIN/flask" --app web token create caizheng --name deploy-check | tail -1)"
OFFICE_TOKEN="$("$BIN/flask" --app web token create office --name deploy-check | tail -1)"

"$BIN/python" - "http://127.0.0.1:$PORT" "$UNIT_TOKEN" "$OFFICE_TOKEN" <<'PY'
import sys, time, requests
base, unit, office = sys.argv[1:]
deadline = time.monotonic() + 60
while True:
    try:
        if requests.get(base + "/login", timeout=2).status_code == 200:
            break
    except requests.ConnectionError:
        pass
    if time.monotonic() > deadline:
        sys.exit("gunicorn did not answer within 60 s")
    time.sleep(0.2)
auth = lambda t: {"Authorization": f"Bearer {t}"}
r = requests.post(base + "/api/processes/topic_proposal/start", json={}, headers=auth(unit), timeout=10)
assert r.status_code == 201, (r.status_code, r.text)
[task] = r.json()["my_tasks"]
values = {"title": "部署检查议题", "background": "检查多进程部署。", "proposal": "提请研究。", "urgency": "normal"}
r = requests.post(f"{base}/api/tasks/{task}/complete", json=values, headers=auth(unit), timeout=10)
assert r.status_code == 200, (r.status_code, r.text)
seen = set()
for _ in range(6):  # several requests: both gunicorn workers answer from the same database
    r = requests.get(base + "/api/tasks", headers=auth(office), timeout=10)
    assert r.status_code == 200, r.text
    seen.add(tuple(t["name"] for t in r.json()["tasks"]))
assert seen == {("审核议题",)}, seen
print(f"HTTP: topic proposal started and its task completed at {base}; the office now has 审核议题")
PY

"$BIN/flask" --app web worker --once
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
status=0
for pid in "${PIDS[@]}"; do
  if wait "$pid"; then :; else echo "process $pid exited with $?"; status=1; fi
done
PIDS=()
grep -h "worker stopped" "$WORK"/worker-*.log
grep -c "Booting worker" "$WORK/gunicorn.log" | sed 's/^/gunicorn web processes booted: /'
if [ "$status" -ne 0 ]; then cat "$WORK"/*.log; exit 1; fi
echo "deploy check passed"
