# The test cluster: a real control plane built from upstream Go modules, kwok nodes, and one real
# node (containerd, kubelet, kube-proxy, CoreDNS, metrics-server; OUI_REAL_NODE=0 leaves it out).
# See docs/testing.md. Every component built from source is a row of cluster/components.yml,
# built by the one builder (cluster/build.sh -> cluster/build.py) into $(OUI_CACHE_DIR)/components;
# the cluster's state lives under $(OUI_CACHE_DIR)/cluster, the real node's under /var/lib/oui-node
# and /run/oui-node (cluster/lib/paths.sh names them all: `make cluster-paths`).
.PHONY: cluster cluster-down cluster-build cluster-env cluster-paths components

cluster: venv ## start the test cluster + real node (builds missing binaries first; OUI_REAL_NODE=0: kwok only); prints KUBECONFIG=...
	@bash cluster/up.sh

cluster-down: venv ## stop every test-cluster process (real node too) and remove its state, sandboxes, netns, iptables chains, mounts (keeps the built binaries)
	@bash cluster/down.sh

cluster-build: venv ## build (once per key) the cluster and node groups of cluster/components.yml; prints the timing table
	@bash cluster/build.sh build -g cluster -g node >/dev/null

cluster-env: venv ## print shell exports for the test cluster: eval "$$(make -s cluster-env)"
	@bash cluster/env.sh

cluster-paths: ## print the test bed's paths, names and ports as KEY=value lines (cluster/lib/paths.sh)
	@bash cluster/paths.sh

components: venv ## list the components built from source: groups, version, kind, key, built or not, outputs
	@bash cluster/build.sh list | column -t -s "$$(printf '\t')"
