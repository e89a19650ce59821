# Recovery Desk. `make run` starts everything; `make test` runs every test (what CI runs).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.10: on PATH, or any pyenv-installed 3.10.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then echo $$p; break; fi; done)

.PHONY: run test test-core test-e2e chromium bench soak train nlu-eval lint clean
# Debian's Chromium drives the browser tests (tests/support/browser.py).
CHROMIUM := /usr/bin/chromium
# `make test` runs its two groups side by side (CI has 2 cores); TEST_JOBS=1 runs them one after the other.
TEST_JOBS ?= 2

$(BIN)/.installed: requirements.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10)." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON310) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

train: $(BIN)/.installed
	$(BIN)/recoverydesk train

run: $(BIN)/.installed
	$(BIN)/recoverydesk up

# Two independent groups: the e2e tests (each pytest process starts its own Redis, SMTP and stack on
# free ports, under its own --basetemp), and everything else then the Rasa stories.
test: train chromium
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

bench: train
	$(BIN)/python -m bench

soak: train
	$(BIN)/python -m bench --soak-only --soak 600

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy --strict recoverydesk/domain

nlu-eval: $(BIN)/.installed
	$(BIN)/rasa test nlu --nlu data/nlu.yml --cross-validation --folds 5 --out var/results/nlu
	$(BIN)/python -m recoverydesk.ops.nlu_report var/results/nlu/intent_report.json

clean:
	rm -rf var/results models/*.tar.gz
