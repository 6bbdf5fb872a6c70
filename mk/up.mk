# The app role's helpers (`make up` itself is scripts/up.sh, run by the Makefile's `up`).
.PHONY: app-render bench-app-deploy

APP_ENV ?= local

app-render: venv ## render the app's manifests for APP_ENV (local|beta|prod) into .state/manifests/APP_ENV, no cluster
	@rm -rf .state/manifests/$(APP_ENV) && $(BIN)/ansible-playbook -i inventories/$(APP_ENV)/hosts.yml playbooks/app.yml \
	  -e app_render_dir=$(REPO)/.state/manifests/$(APP_ENV) $(APP_RENDER_ARGS) >/dev/null \
	  && ls .state/manifests/$(APP_ENV)

bench-app-deploy: venv ## time playbooks/app.yml (first converge, no-change re-run) against kubectl apply, on the test cluster
	@$(BIN)/python bench/app_deploy.py
