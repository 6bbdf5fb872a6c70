# shellcheck shell=bash
# The control plane's processes (kwokctl's binary runtime): the lock every start and stop takes,
# kwokctl run offline, the components' pids and logs, and their removal. Sourced by cluster/up.sh
# and cluster/down.sh; depends only on cluster/lib/paths.sh and common.sh (sourced here) and on
# the cluster group's binaries (cluster/build.sh bin-dir -g cluster).
# shellcheck source=cluster/lib/paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/paths.sh"
# shellcheck source=cluster/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

export KWOK_WORKDIR="$OUI_KWOK_WORKDIR"
# The processes kwokctl starts for the cluster (pid files under $OUI_CLUSTER_STATE/pids).
# shellcheck disable=SC2034 # used by cluster/up.sh
CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)

# The directory of the cluster group's binaries (printed by the builder; nothing is built here).
cluster_bin_dir() { "$OUI_REPO/cluster/build.sh" bin-dir -g cluster | kv OUI_BIN_DIR; }

# Serialise every start and stop on this machine: several developers (and pytest sessions)
# share one cluster per cache directory. The lock is fd 9; processes that outlive the script
# are started with 9>&- so that they do not hold it.
take_lock() {
  mkdir -p "$OUI_CLUSTER_CACHE"
  exec 9>"$OUI_CLUSTER_LOCK"
  if ! flock -n 9; then
    oui_log "waiting for another start/stop of the test cluster (lock $OUI_CLUSTER_LOCK) ..."
    flock -w "${OUI_CLUSTER_LOCK_TIMEOUT:-3600}" 9 || oui_die "timed out waiting for $OUI_CLUSTER_LOCK"
  fi
}

# What the components reach directly, never through the unreachable proxy below: the real node's
# kubelet at the host's IP, and the in-cluster endpoints the API server calls (admission webhooks
# and aggregated APIs by their Service names, *.svc, and the Service and pod ranges, 10.0.0.0/8).
no_proxy_list() { echo "$(host_ip),.svc,.svc.cluster.local,10.0.0.0/8"; }

# kwokctl <bin-dir> <args...>, with downloads made impossible: any http(s) fetch goes to a closed
# port and fails loudly (Go never proxies loopback addresses, so the cluster itself is
# reachable). The components inherit this environment (no_proxy_list). Its own health checks
# call `kubectl` from PATH: ours first.
kwokctl_offline() {
  local bin="$1" direct
  shift
  direct="$(no_proxy_list)"
  (
    close_inherited_fds  # the components it starts keep no lock of the caller's
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
      https_proxy=http://127.0.0.1:9 NO_PROXY="$direct" no_proxy="$direct" PATH="$bin:$PATH" \
      exec timeout "${KWOKCTL_TIMEOUT:-300}" "$bin/kwokctl" "$@"
  )
}

# The last lines of one component's log, for error messages.
component_log_tail() {
  local f="$OUI_CLUSTER_STATE/logs/$1.log"
  if [[ -f "$f" ]]; then
    echo "---- last lines of $f ----" >&2
    tail -n "${2:-25}" "$f" >&2
  else
    echo "---- no log for $1 at $f ----" >&2
  fi
}

# Is this component of the cluster running (per its kwokctl pid file)?
component_alive() {
  [[ -f "$OUI_CLUSTER_STATE/pids/$1.pid" ]] && alive "$(tr -dc '0-9' <"$OUI_CLUSTER_STATE/pids/$1.pid")"
}

# PIDs of the live processes kwokctl started for this cluster, only while their command line
# still names the cluster's state directory.
cluster_pids() {
  local f pid
  for f in "$OUI_CLUSTER_STATE"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(tr -dc '0-9' <"$f")"
    if pid_names "$pid" "$OUI_CLUSTER_STATE"; then echo "$pid"; fi
  done
  return 0
}

# Stop every process of the control plane and remove its state. Safe on a half-started cluster.
# (The real node goes first, by cluster/node/down.sh: the callers run it before this.)
remove_control_plane() {
  local bin="$1" pids i
  [[ -d "$OUI_CLUSTER_STATE" ]] || return 0
  # Read the pids first: kwokctl deletes its pid files.
  pids="$(cluster_pids)"
  if [[ -x "$bin/kwokctl" ]]; then
    kwokctl_offline "$bin" delete cluster --name "$OUI_CLUSTER_NAME" --kubeconfig "" >/dev/null 2>&1 || true
  fi
  # Whatever kwokctl did not stop; then wait until they are gone, so that their ports are free.
  for i in $(seq 1 20); do
    pids="$(for pid in $pids; do if alive "$pid"; then echo "$pid"; fi; done)"
    [[ -n "$pids" ]] || break
    # shellcheck disable=SC2086 # one pid per word
    if ((i < 15)); then kill $pids 2>/dev/null || true; else kill -9 $pids 2>/dev/null || true; fi
    sleep 1
  done
  rm -rf "$OUI_CLUSTER_STATE"
}
