# Recovery Desk. `make run` starts everything; `make test` runs every test (what CI runs).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.10: on PATH, or any pyenv-installed 3.10.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then echo $$p; break; fi; done)

.PHONY: run test test-core test-e2e chromium promtool bench soak train nlu-eval lint locks clean
# Debian's Chromium drives the browser tests (tests/support/browser.py).
CHROMIUM := /usr/bin/chromium
# `make test` runs its two groups side by side (CI has 2 cores); TEST_JOBS=1 runs them one after the other.
TEST_JOBS ?= 2

# Set-up, in named steps that each say how long they took. The first run downloads about 180
# packages (2.9 GB, mostly TensorFlow); pip shows its own progress for them.
DONE = echo "    done in $${SECONDS}s"
$(BIN)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10)." >&2; exit 1; }
	@echo "==> Set-up 1/4: Python 3.10 virtual environment in $(VENV)/"; SECONDS=0; \
	  { test -x $(BIN)/python || $(PYTHON310) -m venv $(VENV); } && $(DONE)
	@echo "==> Set-up 2/4: pip 24.0"; SECONDS=0; \
	  { $(BIN)/python -m pip --version | grep -q "^pip 24.0 " || $(BIN)/python -m pip install --quiet --upgrade pip==24.0; } && $(DONE)
	@echo "==> Set-up 3/4: dependencies from requirements.lock and requirements-dev.lock, hashes checked (first time: several minutes)"; \
	  SECONDS=0; $(BIN)/python -m pip install --progress-bar on --require-hashes -r requirements.lock -r requirements-dev.lock && $(DONE)
	@echo "==> Set-up 4/4: Recovery Desk itself (editable, no dependencies)"; SECONDS=0; \
	  $(BIN)/python -m pip install --quiet --no-deps -e . && $(DONE)
	@touch $@

# Regenerates both locks with hashes (pip-tools in a throw-away venv outside the repo). pip-compile
# keeps every version already pinned in a lock; delete a package's lines there to let it move.
PIPTOOLS := $${TMPDIR:-/tmp}/recoverydesk-piptools
# PyPI's own files and hashes, whatever the local pip configuration (mirrors, find-links) says.
LOCK_ENV := PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= CUSTOM_COMPILE_COMMAND="make locks"
LOCK_ARGS := --quiet --generate-hashes --strip-extras --allow-unsafe
locks:
	test -x $(PIPTOOLS)/bin/pip-compile || { $(PYTHON310) -m venv $(PIPTOOLS) && $(PIPTOOLS)/bin/pip install --quiet pip-tools; }
	$(LOCK_ENV) $(PIPTOOLS)/bin/pip-compile $(LOCK_ARGS) -o requirements.lock requirements.in
	$(LOCK_ENV) $(PIPTOOLS)/bin/pip-compile $(LOCK_ARGS) -o requirements-dev.lock requirements-dev.in

# Trains only when the data, domain or config changed (the model's name is their fingerprint).
train: $(BIN)/.installed
	$(BIN)/recoverydesk train

run: $(BIN)/.installed
	$(BIN)/recoverydesk up

# Two independent groups: the e2e tests (each pytest process starts its own Redis, SMTP and stack on
# free ports, under its own --basetemp), and everything else then the Rasa stories.
test: train chromium promtool lint
	mkdir -p var/pytest
	$(MAKE) --no-print-directory --output-sync=target -j$(TEST_JOBS) test-core test-e2e

test-core:
	$(BIN)/rasa data validate --fail-on-warnings
	$(BIN)/python -m pytest -q --ignore=tests/e2e --basetemp=var/pytest/core
	$(BIN)/rasa test core --stories tests/conversations --fail-on-prediction-errors --out var/results/core --model $$($(BIN)/python -c "from recoverydesk.ops.training import model_path; from recoverydesk.settings import ROOT; print(model_path(ROOT))")

test-e2e:
	$(BIN)/python -m pytest -q tests/e2e --basetemp=var/pytest/e2e

# Installs Chromium when it is missing and we are root; otherwise stops with the one command to run.
chromium:
	@test -x $(CHROMIUM) || command -v chromium >/dev/null || { \
	  { test "$$(id -u)" = 0 && command -v apt-get >/dev/null; } || { \
	    echo "The browser tests need Chromium. Run: sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 1; }; \
	  echo "Installing Chromium for the browser tests (apt-get install -y chromium)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	}

# Prometheus's promtool checks the alert rules and a real /metrics scrape (tests/support/promtool.py).
# Installed like Chromium (Debian's prometheus package) when missing and we are root; the Prometheus
# service the package brings is stopped and disabled: only the promtool binary is wanted.
PROMTOOL := /usr/bin/promtool
promtool:
	@test -x $(PROMTOOL) || command -v promtool >/dev/null || { \
	  { test "$$(id -u)" = 0 && command -v apt-get >/dev/null; } || { \
	    echo "The metrics tests need promtool. Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus && sudo systemctl disable --now prometheus" >&2; exit 1; }; \
	  echo "Installing promtool for the metrics tests (apt-get install -y --no-install-recommends prometheus; its service stays off)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; \
	  { systemctl disable --now prometheus; service prometheus stop; update-rc.d prometheus disable; } >/dev/null 2>&1 || true; \
	}

bench: train
	$(BIN)/python -m bench

soak: train
	$(BIN)/python -m bench --soak-only --soak 600

# ruff on everything; mypy --strict on the core's typed modules (the domain, the settings, the logs).
lint: $(BIN)/.installed
	@echo "==> Lint: ruff check . ; mypy --strict recoverydesk/domain recoverydesk/settings.py recoverydesk/logs.py"
	@SECONDS=0; $(BIN)/ruff check . && $(BIN)/mypy --strict recoverydesk/domain recoverydesk/settings.py recoverydesk/logs.py && $(DONE)

nlu-eval: $(BIN)/.installed
	$(BIN)/rasa test nlu --nlu data --cross-validation --folds 5 --out var/results/nlu
	$(BIN)/python -m recoverydesk.ops.nlu_report var/results/nlu/intent_report.json

clean:
	rm -rf var/results models/*.tar.gz
