# The documentation site (issue 8): mkdocs --strict, offline, into site/ (gitignored).
# The docs tests (tests/docs/, marker unit) check cited paths and render every diagram.
DOCS_SITE ?= $(REPO)/site

.PHONY: docs docs-serve

docs: venv ## build the docs site offline with strict link checking into site/ (DOCS_SITE=...)
	@tools=$$(bash tests/docs/tools.sh --no-browser | tail -n 1); \
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --quiet --site-dir "$(DOCS_SITE)"; \
	install -D -m 0644 "$$tools/node_modules/mermaid/dist/mermaid.min.js" "$(DOCS_SITE)/js/mermaid.min.js"; \
	echo "docs: built $(DOCS_SITE) ($$(find "$(DOCS_SITE)" -name '*.html' | wc -l) pages)"

docs-serve: docs ## serve the built site on http://127.0.0.1:8001
	@cd "$(DOCS_SITE)" && python3 -m http.server 8001 --bind 127.0.0.1

TEST_TARGETS += docs
