# Access control (roles/access). Its tests run with the rest under `make test-py`; this target
# runs the access tests alone and prints the access matrix table.
.PHONY: access-test

access-test: venv ## access role: static policy checks, then the access matrix against the test cluster (prints the table)
	@bash scripts/pytest.sh tests/access -s -p no:cacheprovider
