# CI/CD: the GitHub Actions workflows are linted with actionlint (built from its Go
# module by tests/ci/actionlint.sh into the cache, once per machine); the AWX execution
# environment's build context is generated offline by ansible-builder.
# The AWX templates and the EE are tested by pytest (tests/ci/).
EE_DIR ?= $(REPO)/.state/ee

.PHONY: actionlint ee-context

actionlint: ## lint .github/workflows/ with actionlint (+ shellcheck when installed)
	@bash tests/ci/actionlint.sh
	@echo "actionlint: clean"

ee-context: venv ## stage the collection and run `ansible-builder create` into .state/ee/context (EE_DIR=...)
	@bash tests/ci/ee-context.sh "$(EE_DIR)"

LINT_TARGETS += actionlint
