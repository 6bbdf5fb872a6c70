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

-include mk/*.mk

.PHONY: help venv lock lint test test-py up yamllint ansible-lint

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

test: lint $(TEST_TARGETS) test-py ## everything that can be checked offline
	@echo "test: all tiers passed"

up: venv $(UP_TARGETS) ## build the local environment and deploy the app
	@bash scripts/up.sh
