# The test cluster: a real control plane built from upstream Go modules, kwok nodes,
# and one real node (containerd, kubelet, kube-proxy, metrics-server; OUI_REAL_NODE=0
# leaves it out). See docs/testing.md. Build outputs and state live under $(OUI_CACHE_DIR)/cluster;
# the real node's under /var/lib/oui-node and /run/oui-node.
.PHONY: cluster cluster-down cluster-build cluster-env

cluster: ## start the test cluster + real node (builds missing binaries first; OUI_REAL_NODE=0: kwok only); last line = kubeconfig path
	@bash cluster/up.sh

cluster-down: ## stop every test-cluster process (real node too) and remove its state, sandboxes, netns, iptables chains, mounts (keeps the built binaries)
	@bash cluster/down.sh

cluster-build: ## build (once) kube-apiserver & co, etcd, kwok, kubectl, helm + helm-diff, and the real node's kubelet, kube-proxy, metrics-server, crictl, pause
	@bash cluster/build.sh >/dev/null
	@bash cluster/node/build.sh >/dev/null

cluster-env: ## print shell exports for the test cluster: eval "$$(make -s cluster-env)"
	@bash cluster/env.sh
