# The two commands a newcomer runs are `make up` and `make test` (see README.md).
# Areas add their own targets in mk/*.mk; `make help` lists everything.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

REPO        := $(CURDIR)
VENV        := $(REPO)/.venv
BIN         := $(VENV)/bin
export OUI_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/oui-platform
export ANSIBLE_CONFIG := $(REPO)/ansible.cfg
export PATH := $(BIN):$(PATH)

# Targets that `make test` runs, in order; mk/*.mk files append to these.
LINT_TARGETS :=
TEST_TARGETS :=
UP_TARGETS   :=

# `make test` and `make up` time each step (scripts/timed.sh appends a row to the run file) and
# end with one summary (scripts/timings.py; kept in .state/timings/). OUI_BUILD_TIMINGS, when set,
# names the per-component build times to print with it. Steps run as sub-makes, in order; after
# the first step they take the venv as built (-o venv) instead of checking it again each time.
TIMED  := bash scripts/timed.sh
SUBMAKE = $(MAKE) -s --no-print-directory -o venv
STAMP  := $(shell date +%Y%m%d-%H%M%S)

-include mk/*.mk

.PHONY: help venv lock lint test test-py up timings yamllint ansible-lint

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

venv: ## build (once) the pinned Python environment and link it at .venv
	@bash scripts/venv.sh >/dev/null

lock: venv ## regenerate constraints.txt from the current environment
	@$(BIN)/pip freeze --exclude-editable | LC_ALL=C sort > constraints.txt
	@echo "constraints.txt: $$(wc -l < constraints.txt) pins"

yamllint: venv
	@$(BIN)/yamllint --strict .

ansible-lint: venv
	@$(BIN)/ansible-lint --offline

lint: venv yamllint ansible-lint $(LINT_TARGETS) ## static checks: yamllint, ansible-lint (production), hadolint, ...
	@echo "lint: clean"

test-py: venv ## pytest: unit tests, then tests that need Docker, the AWS endpoint or the test cluster
	@bash scripts/pytest.sh

# A machine skip (tests/skips.py) fails `make test`; a declared design limit does not.
test: export OUI_MACHINE_SKIPS := fail
test: export OUI_TIMINGS_RUN := $(REPO)/.state/timings/test-$(STAMP).tsv
test: ## everything that can be checked offline (a machine skip fails it), then the time of each phase
	@$(TIMED) venv $(MAKE) -s --no-print-directory venv
	@for t in yamllint ansible-lint $(LINT_TARGETS); do $(TIMED) "lint: $$t" $(SUBMAKE) $$t; done
	@echo "lint: clean"
	@for t in $(TEST_TARGETS); do $(TIMED) "$$t" $(SUBMAKE) $$t; done
	@$(TIMED) "pytest (scripts/pytest.sh)" $(SUBMAKE) test-py
	@python3 scripts/timings.py "$$OUI_TIMINGS_RUN"
	@echo "test: all tiers passed"

up: export OUI_TIMINGS_RUN := $(REPO)/.state/timings/up-$(STAMP).tsv
up: ## build the local environment and deploy the app, then the time of each phase
	@$(TIMED) venv $(MAKE) -s --no-print-directory venv
	@for t in $(UP_TARGETS); do $(TIMED) "$$t" $(SUBMAKE) $$t; done
	@$(TIMED) "deploy (scripts/up.sh)" bash scripts/up.sh
	@python3 scripts/timings.py "$$OUI_TIMINGS_RUN"

timings: ## print the newest recorded `make test` or `make up` summary (.state/timings/)
	@python3 scripts/timings.py
