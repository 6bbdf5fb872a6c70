#!/usr/bin/env bash
# Stop every process of the test cluster (the real node's too) and remove its state
# (kubeconfig, etcd data, logs; the real node's sandboxes, netns, iptables chains, mounts).
# The built binaries and the Go caches stay: the next `make cluster` starts in seconds.
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

take_lock
# The real node (if any): its processes, pod sandboxes, netns, iptables chains, mounts.
node_down
if [[ -d "$state_dir" ]]; then
  remove_cluster
  log "test cluster $cluster_name stopped and its state removed"
else
  log "no test cluster to stop ($state_dir does not exist)"
fi
