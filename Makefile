# Everything a fresh machine with Python 3.11+ needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/.uv/bin/uv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BYTECODE := $(VENV)/.compiled
EDITABLES := -e libs/contracts -e libs/servicekit -e libs/testkit -e services/identity -e services/directory \
	-e services/notebook -e services/import -e services/notify -e services/audit -e services/gateway -e cli

.PHONY: run test bench install chromium clamav axe lock schemas clean

run: install clamav
	$(VENV)/bin/carnet up

# The slowest tests are listed at the end: the suite's time is watched (under 15 minutes is the aim).
test: install chromium clamav axe
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)

# Budgets of DESIGN §6, each with its baseline in the same run; results in bench/results/.
# Settings default to production (secret keys and public URL required): benchmarks run in dev.
bench: export CARNET_ENV ?= dev
bench: install
	$(PY) bench/annuaire.py
	$(PY) bench/carnets.py
	$(PY) bench/notebook_page.py
	# The budget is for 100,000 rows (--rows 100000); 20,000 keep make bench under 10 minutes at today's speed.
	$(PY) bench/imports.py --rows 20000
	# Exports of 10,000 and 100,000 rows through the worker's code: rows/s and flat memory, a list in memory as baseline.
	$(PY) bench/exports.py
	# A territory's dashboard over 100,000 notebooks' facts (budget 300 ms), one COUNT(*) of them as baseline.
	$(PY) bench/dashboard.py
	# Event propagation commit → consumer effect at 500 events/s (budget p99 100 ms), a bare NATS round trip as
	# baseline; a backlog of an import's events through identity's and directory's consumers, one per transaction
	# and in batches.
	$(PY) bench/events.py
	# The first `make run` from a clean var/ (budget 45 s) and each process's idle RSS (budget 90 MB); a second start
	# and a bare process importing the stack as baselines.
	$(PY) bench/startup.py
	# One table of every figure, its budget, its baseline and the ratio, into bench/README.md.
	$(PY) bench/summary.py

# Browser tests drive Debian's Chromium through Playwright; installed here when the machine lacks it.
chromium:
	@command -v chromium >/dev/null || command -v /usr/bin/chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y --no-install-recommends chromium \
		|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }; }

# The browser tests inject axe-core (accessibility rules) into every page; a pinned version from npm, kept in the
# venv without a lock file; Debian's npm installed here when the machine lacks it.
AXE_VERSION := 4.10.3
AXE_STAMP := $(VENV)/node/.axe-core-$(AXE_VERSION)

axe: $(AXE_STAMP)

$(AXE_STAMP):
	@command -v npm >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y --no-install-recommends npm \
		|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends npm; }; }
	npm install --no-save --no-package-lock --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_VERSION)
	touch $(AXE_STAMP)

# Uploads are scanned by Debian's clamd (run by `carnet up` and the tests with our own config and signature file,
# deploy/clamav/); installed here when the machine lacks it. Its freshclam service is not used: no internet here.
clamav:
	@command -v clamd >/dev/null || command -v /usr/sbin/clamd >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y --no-install-recommends clamav-daemon \
		|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends clamav-daemon; }; }

install: $(STAMP) $(BYTECODE)

# uv itself comes from PyPI into a private folder, so nothing outside the project is touched.
$(UV):
	$(PYTHON) -m venv $(VENV)/.uv
	$(VENV)/.uv/bin/pip install --quiet uv

$(STAMP): $(UV) requirements.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml cli/pyproject.toml)
	$(UV) venv --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --python $(PY) requirements.lock
	$(UV) pip install --python $(PY) --no-deps $(EDITABLES)
	touch $(STAMP)

# Every module compiled once here, on every core: otherwise each process of `make run` compiles what it imports at
# each start where PYTHONDONTWRITEBYTECODE is set (CI, containers), or all seven race to write the same files the
# first time; the compiled code also costs each process a few MB less than compiling it (issue 19: the first
# `make run` < 45 s, idle RSS < 90 MB). A file that does not compile (a package's Python 2 example) is skipped.
$(BYTECODE): $(STAMP)
	-$(PY) -m compileall -q -j 0 $(VENV)/lib libs/*/src services/*/src cli/src > /dev/null
	touch $(BYTECODE)

lock: $(UV)
	$(UV) pip compile requirements.in -o requirements.lock --no-header --no-annotate

schemas: install
	$(PY) -m contracts.snapshots
	$(PY) -m carnet.asyncapi

clean:
	rm -rf var $(VENV)
