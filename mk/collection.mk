# The collection as Ansible users meet it: ansible-test sanity and units on the built artifact
# (scripts/ansible-test.sh), the changelog fragments (antsibull-changelog lint), the role READMEs'
# variable tables generated from the argument specs (scripts/role-docs.py), and the artifact
# itself built, installed into an empty collections path and used from there (tests/collection).
.PHONY: ansible-test ansible-test-floor units-floor sanity units changelog-lint role-docs role-docs-check artifact-test

sanity: venv ## ansible-test sanity on the built collection, offline (PYTHON=X.Y; default the venv's)
	@bash scripts/ansible-test.sh sanity $(if $(PYTHON),--python $(PYTHON))

units: venv ## ansible-test units (tests/unit/plugins) on the built collection
	@bash scripts/ansible-test.sh units $(if $(PYTHON),--python $(PYTHON))

ansible-test: venv ## ansible-test sanity, then units
	@bash scripts/ansible-test.sh all $(if $(PYTHON),--python $(PYTHON))

ansible-test-floor: venv ## ansible-test sanity and units with the lowest ansible-core claimed (a second, small venv)
	@bash scripts/ansible-test.sh all --core-floor

units-floor: venv ## ansible-test units with the lowest ansible-core claimed (part of make test)
	@bash scripts/ansible-test.sh units --core-floor

changelog-lint: venv ## antsibull-changelog lint of changelogs/ (fragments and changelog.yaml)
	@start=$$(date +%s); $(BIN)/antsibull-changelog lint && $(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml \
	  && echo "changelog-lint: clean in $$(( $$(date +%s) - start )) s"

role-docs: venv ## regenerate the variables table of every roles/*/README.md from meta/argument_specs.yml
	@$(BIN)/python scripts/role-docs.py

role-docs-check: venv ## fail when a role README's variables table is not its argument spec's
	@$(BIN)/python scripts/role-docs.py --check

artifact-test: venv ## build the collection, install it into an empty collections path, use it from there
	@bash scripts/pytest.sh tests/collection -p no:cacheprovider

LINT_TARGETS += role-docs-check changelog-lint ansible-test
# The floor's sanity run costs about 10 minutes on a cold machine (its own sanity environments):
# make ansible-test-floor runs it; make test runs the floor's units, which import and run the
# modules on that ansible-core.
TEST_TARGETS += units-floor
