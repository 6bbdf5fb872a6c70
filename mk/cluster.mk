# The test cluster (issue 3): a real control plane built from upstream Go modules, kwok nodes.
# See docs/testing.md. Build outputs and state live under $(OUI_CACHE_DIR)/cluster.
.PHONY: cluster cluster-down cluster-build cluster-env

cluster: ## start the test cluster (builds missing binaries first); last line = kubeconfig path
	@bash cluster/up.sh

cluster-down: ## stop every test-cluster process and remove its state (keeps the built binaries)
	@bash cluster/down.sh

cluster-build: ## build (once) kube-apiserver & co, etcd, kwok, kubectl, helm + helm-diff into the cache
	@bash cluster/build.sh >/dev/null

cluster-env: ## print shell exports for the test cluster: eval "$$(make -s cluster-env)"
	@bash cluster/env.sh
