# CI/CD: the GitHub Actions workflows are linted with actionlint (built from its Go module by the
# builder, group tools of cluster/components.yml); every shell script of the repository is checked
# by shellcheck (Debian's package, installed when missing). The AWX execution environment's build
# context is generated offline by ansible-builder. The AWX templates and the EE are tested by
# pytest (tests/ci/).
EE_DIR ?= $(REPO)/.state/ee

.PHONY: actionlint shellcheck shellcheck-tool ee-context

shellcheck-tool:
	@bash image/apt-install.sh shellcheck shellcheck

actionlint: venv shellcheck-tool ## lint .github/workflows/ with actionlint (shellcheck on the run: blocks)
	@bin=$$(bash cluster/build.sh info actionlint | sed -n 's/^BIN_DIR=//p'); \
	  "$$bin/actionlint" -no-color && echo "actionlint: clean ($$("$$bin/actionlint" -version | head -n 1), run: blocks checked with shellcheck $$(shellcheck --version | sed -n 's/^version: //p'))"

shellcheck: shellcheck-tool ## shellcheck every shell script of the repository (following what they source)
	@files=$$( { git ls-files '*.sh'; git grep -lIE '^#!.*\b(ba)?sh\b' -- ':!*.py' ':!*.md' ':!*.j2' ':!*.yml'; } | sort -u); \
	  shellcheck -x $$files && echo "shellcheck: clean ($$(wc -w <<<"$$files") scripts)"

ee-context: venv ## stage the collection and run `ansible-builder create` into .state/ee/context (EE_DIR=...)
	@bash tests/ci/ee-context.sh "$(EE_DIR)"

LINT_TARGETS += actionlint shellcheck
