# The app (app/): its tests run on the pinned Node.js (vars/versions.yml `node`), the same
# binary the image's base carries, installed once into $(OUI_CACHE_DIR)/node, not the
# machine's own (older) Node.
.PHONY: app-node app-deps app-test

APP_NODE_DIR = $(shell bash image/node-dist.sh)

app-node: venv ## install the pinned Node.js and npm into the cache (once)
	@bash image/node-dist.sh

app-deps: venv ## npm ci in app/ on the pinned Node.js (npm cache outside the repository)
	@dir="$(APP_NODE_DIR)"; cd app && PATH="$$dir/bin:$$PATH" npm ci --no-audit --no-fund \
	  --cache "$(OUI_CACHE_DIR)/npm-cache" --loglevel=error

app-test: app-deps ## the app's tests (node --test) on the pinned Node.js
	@dir="$(APP_NODE_DIR)"; cd app && echo "app-test: node $$(PATH="$$dir/bin:$$PATH" node --version)" \
	  && PATH="$$dir/bin:$$PATH" npm test --silent

TEST_TARGETS += app-test
