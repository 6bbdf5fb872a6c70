#!/usr/bin/env bash
# Stop every process of the test cluster and remove its state: first the platform's outside world
# (cluster/platform/down.sh: the chart mirror, the denied source's netns), the real node
# (cluster/node/down.sh: its sandboxes, netns, iptables chains, mounts), then the control plane
# (kubeconfig, etcd data, logs). The built binaries and the Go caches stay: the next
# `make cluster` starts in seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUI_LOG_TAG=cluster
# shellcheck source=cluster/lib/control-plane.sh
source "$here/lib/control-plane.sh"

take_lock
bash "$here/platform/down.sh"
bash "$here/node/down.sh"
if [[ -d "$OUI_CLUSTER_STATE" ]]; then
  remove_control_plane "$(cluster_bin_dir)"
  oui_log "test cluster $OUI_CLUSTER_NAME stopped and its state removed"
else
  oui_log "no test cluster to stop ($OUI_CLUSTER_STATE does not exist)"
fi
