# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= instance/joint_meeting.db
# make test runs the suite in one process per core plus one (pytest-xdist): about a third of the suite's time is
# spent waiting for browsers, servers and subprocesses, so a third process keeps both cores busy (2 cores: 16.9 ->
# 14.1 min). TEST_WORKERS=0 runs it in one.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
export FLASK_APP := web

.PHONY: install run test lint clean fuzz test-workers bench chaos

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PY)）"; exit 1; }
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Front end: npm ci when the lock changed, esbuild bundles into web/static/dist/ (git-ignored) when a source did.
FRONTEND := web/frontend
NODE_STAMP := $(FRONTEND)/node_modules/.npm-ci-stamp
DIST_STAMP := web/static/dist/.built
FRONTEND_SRC := $(FRONTEND)/build.mjs $(wildcard $(FRONTEND)/src/*) $(wildcard $(FRONTEND)/src/*/*) \
	$(wildcard $(FRONTEND)/src/*/*/*) engine/lint_rules.json
CHROMIUM := /usr/bin/chromium

$(NODE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "需要 Node.js 20 和 npm（前端构建）"; exit 1; }
	cd $(FRONTEND) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(DIST_STAMP): $(NODE_STAMP) $(FRONTEND_SRC)
	cd $(FRONTEND) && npm run --silent build
	touch $@

# Debian's Chromium for tests/browser (Playwright cannot download its own browsers here).
$(CHROMIUM):
	@if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "未找到 apt-get：不安装 Chromium，tests/browser 的浏览器测试将被跳过"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "不是 root：不安装 Chromium（请以 root 运行 apt-get install chromium），浏览器测试将被跳过"; \
	else \
	  echo "安装 Chromium（apt-get install chromium）"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# LibreOffice (Writer, no GUI), CJK fonts and poppler for tests/test_minutes_layout.py: the 会议纪要 .docx is printed
# to PDF and its last page read back, as a clerk would print it. Calc prints the ledger's .xlsx the same way.
SOFFICE := /usr/bin/soffice
PDFTOTEXT := /usr/bin/pdftotext
CALC := /usr/lib/libreoffice/program/libsclo.so

$(SOFFICE) $(PDFTOTEXT) $(CALC):
	@if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "未找到 apt-get：不安装 LibreOffice 和 poppler，纪要版式测试将被跳过"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "不是 root：不安装 LibreOffice（apt-get install libreoffice-writer-nogui fonts-noto-cjk poppler-utils），纪要版式测试将被跳过"; \
	else \
	  echo "安装 LibreOffice、中文字体和 poppler（apt-get install libreoffice-writer-nogui fonts-noto-cjk poppler-utils）"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk poppler-utils >/dev/null; \
	fi

install: $(STAMP) $(DIST_STAMP) $(CHROMIUM) $(SOFFICE) $(PDFTOTEXT) $(CALC)

# A streamed export waits for a slow reader once 2 MiB are pending, rather than waitress holding up to 16 MiB of
# it in memory per download (bench/http.py serves the benchmarks with the same options).
WAITRESS_OPTIONS = --outbuf-high-watermark=2097152

run: install
	mkdir -p instance
	$(BIN)/flask --app web init --demo
	EMBEDDED_WORKER=$${EMBEDDED_WORKER:-auto} $(BIN)/waitress-serve --host 127.0.0.1 --port 5000 \
	  $(WAITRESS_OPTIONS) --call web.wsgi:create_app

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25 --durations-min=5

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache

# The worker tests at full size: two worker processes on PostgreSQL, WORKER_TIMERS due timers (default 10000).
test-workers: install
	WORKER_TIMERS=$${WORKER_TIMERS:-10000} $(BIN)/python -m pytest -q -s -p no:cacheprovider \
	  tests/test_worker_processes.py

# Benchmarks (bench/run.py): how fast the product is and whether it stays fast as the work grows (every list at
# 1k and 100k rows, the dashboard, the export, 16 clients on PostgreSQL), each figure with its N and its target.
# On fresh temporary SQLite files and, when DATABASE_URL names PostgreSQL or the local server answers, private
# schemas there. Prints a table with the machine's load (a warning when it was busy: run it on an idle machine),
# writes bench/results.json (git-ignored).
bench: $(STAMP)
	$(BIN)/python -m bench.run

# The loader and expression fuzzers at full size, and the walk of every route with every hostile parameter value
# (huge, negative, superscript and other Unicode digits, year 1 and 9999 …) as four users on both backends.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_loader.py
	REQUEST_SHAPES_FULL=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_request_shapes.py

# Crash safety and races at full size (no acknowledged completion lost or done twice, one winner per task), on
# SQLite and on PostgreSQL: CHAOS_KILLS SIGKILLs of the web server and the worker per backend (default 24)
# under at least CHAOS_COMPLETIONS acknowledged completions (default 1500), and RACE_ROUNDS rounds of ten
# simultaneous submissions of one task (default 20).
# CHAOS_SEED repeats a run's random moments. `make test` runs the smoke sizes (6 kills, 120 completions, 2 rounds).
# BUDGET_ATTACKS oversized multi-instance starts (default 30) run while other users complete their tasks: each
# fails fast and every completion goes through (`make test`: 3).
chaos: install
	CHAOS_KILLS=$${CHAOS_KILLS:-24} CHAOS_COMPLETIONS=$${CHAOS_COMPLETIONS:-1500} RACE_ROUNDS=$${RACE_ROUNDS:-20} \
	  $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_crash_safety.py tests/test_races.py
	BUDGET_ATTACKS=$${BUDGET_ATTACKS:-30} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_budgets.py \
	  -k others_keep_working
