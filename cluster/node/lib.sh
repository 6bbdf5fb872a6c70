# shellcheck shell=bash
# What the real node's steps share (sourced by cluster/node/up.sh, down.sh, load-image.sh): the
# names of cluster/lib/paths.sh, the binaries, and the daemons' pid files. The node's containerd,
# kubelet, kube-proxy and CoreDNS run as local processes and join the kwok
# cluster as one more Node. Depends only on cluster/lib/.
#
# Where things live (nothing in the repository):
#   /var/lib/oui-node/   containerd root, kubelet root, CNI state, certs, configs, logs, pids
#   /run/oui-node/       containerd state and socket
#   /sys/fs/cgroup/<controller>/oui-node   the pods' cgroups (kubelet cgroupRoot)
#   oui-cni0             the pods' bridge (10.88.0.0/24), iptables chains CNI-* and KUBE-*
# Docker's containerd (/run/containerd) is never touched.
[[ -z "${NODE_LIB_LOADED:-}" ]] || return 0  # every step sources it; once is enough
NODE_LIB_LOADED=1
# shellcheck source=cluster/lib/paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/paths.sh"
# shellcheck source=cluster/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# shellcheck disable=SC2034 # used by up.sh
NODE_DAEMONS=(containerd kubelet kube-proxy coredns)
# The binaries: kubectl from the cluster group, the node's own from the node group (the builder
# prints where; nothing is built here).
NODE_CLUSTER_BIN="$("$OUI_REPO/cluster/build.sh" bin-dir -g cluster | kv OUI_BIN_DIR)"
NODE_BIN="$("$OUI_REPO/cluster/build.sh" bin-dir -g node | kv OUI_BIN_DIR)"

nlog() { echo "[real-node $(date -u +%H:%M:%S)] $*" >&2; }

node_kubectl() { "$NODE_CLUSTER_BIN/kubectl" --kubeconfig "$OUI_KUBECONFIG" --request-timeout=10s "$@"; }
node_crictl() { "$NODE_BIN/crictl" --runtime-endpoint "unix://$OUI_NODE_SOCK" --timeout 20s "$@"; }
node_ctr() { ctr --address "$OUI_NODE_SOCK" --namespace k8s.io "$@"; }
node_ready() {
  [[ "$(node_kubectl get node "$OUI_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# pid of a node daemon, only while its command line still names the node's directories.
node_daemon_pid() {
  local f="$OUI_NODE_PIDS/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  alive "$pid" && pid_names "$pid" "$OUI_NODE_ROOT" || return 1
  echo "$pid"
}
node_daemon_alive() { node_daemon_pid "$1" >/dev/null; }

# node_start_daemon <name> <command...>: a background process that outlives this script
# (setsid), without the cluster lock's fd 9, its output in $OUI_NODE_LOGS/<name>.log.
node_start_daemon() {
  local name="$1"
  shift
  mkdir -p "$OUI_NODE_LOGS" "$OUI_NODE_PIDS"
  (close_inherited_fds; exec setsid nohup "$@" >>"$OUI_NODE_LOGS/$name.log" 2>&1 </dev/null) &
  echo $! >"$OUI_NODE_PIDS/$name.pid"
}

node_stop_daemon() {
  local pid i
  pid="$(node_daemon_pid "$1")" || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do
    alive "$pid" || break
    ((i == 20)) && kill -9 "$pid" 2>/dev/null
    sleep 0.5
  done
  rm -f "$OUI_NODE_PIDS/$1.pid"
}

# node_load_image <archive file | Docker image reference>: import an image into the node's
# containerd (namespace k8s.io) and remember it (the last 40: the platform's add-ons, the app and
# what the tests load), so that a restarted node gets it again (its store goes with it).
node_load_image() {
  if [[ -f "$1" ]]; then
    node_ctr images import --all-platforms "$1" >/dev/null || return 1
  else
    "${DOCKER:-docker}" save "$1" | node_ctr images import --all-platforms - >/dev/null || return 1
  fi
  { { grep -vxF "$1" "$OUI_NODE_IMAGES" 2>/dev/null || true; } | tail -n 39; echo "$1"; } >"$OUI_NODE_IMAGES.tmp"
  mv "$OUI_NODE_IMAGES.tmp" "$OUI_NODE_IMAGES"
}

# A node started by an older checkout served metrics.k8s.io from a host metrics-server: its
# objects (labelled part-of=oui-test-cluster, never the platform's chart's) go, so that the
# platform's metrics-server chart meets no foreign Service or APIService in kube-system.
node_retire_host_metrics_server() {
  local sel="app.kubernetes.io/name=metrics-server,app.kubernetes.io/part-of=oui-test-cluster"
  node_kubectl delete apiservice,clusterrole,clusterrolebinding -l "$sel" --ignore-not-found >/dev/null 2>&1 || true
  node_kubectl -n kube-system delete service,rolebinding -l "$sel" --ignore-not-found >/dev/null 2>&1 || true
}
