# The documentation site: mkdocs --strict, offline, into site/ (gitignored).
# The docs tests (tests/docs/, marker unit) check cited paths and render every diagram.
# Never --quiet: mkdocs 1.6 then stops counting warnings and --strict passes broken links.
DOCS_SITE ?= $(REPO)/site

.PHONY: docs docs-serve

docs: venv ## build the docs site offline with strict link checking into site/ (DOCS_SITE=...)
	@tools=$$(bash tests/docs/tools.sh --no-browser | tail -n 1); \
	log=$$(mktemp); \
	if ! NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --site-dir "$(DOCS_SITE)" >"$$log" 2>&1; then \
	  grep -vE '^INFO' "$$log" >&2; rm -f "$$log"; echo "docs: the strict build failed" >&2; exit 1; fi; \
	rm -f "$$log"; \
	install -D -m 0644 "$$tools/node_modules/mermaid/dist/mermaid.min.js" "$(DOCS_SITE)/js/mermaid.min.js"; \
	echo "docs: built $(DOCS_SITE) ($$(find "$(DOCS_SITE)" -name '*.html' | wc -l) pages)"

docs-serve: docs ## serve the built site on http://127.0.0.1:8001
	@cd "$(DOCS_SITE)" && python3 -m http.server 8001 --bind 127.0.0.1

TEST_TARGETS += docs
