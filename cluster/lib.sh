# shellcheck shell=bash disable=SC2034 # variables used by the scripts that source this file
# Shared by cluster/up.sh and cluster/down.sh (sourced, not run).
# Everything the cluster writes lives under ${OUI_CACHE_DIR:-~/.cache/oui-platform}/cluster,
# never in the repository.
set -euo pipefail

cluster_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$cluster_dir/.." && pwd)"
cache_root="${OUI_CACHE_DIR:-$HOME/.cache/oui-platform}/cluster"
cluster_name="oui-local"
# kwokctl keeps each cluster under $KWOK_WORKDIR/clusters/<name>.
export KWOK_WORKDIR="$cache_root/kwok"
state_dir="$KWOK_WORKDIR/clusters/$cluster_name"
kubeconfig="$state_dir/kubeconfig.yaml"
stamp_file="$state_dir/oui-stamp"
lock_file="$cache_root/cluster.lock"
api_port="${OUI_CLUSTER_API_PORT:-16443}"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)

log() { echo "[cluster $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "cluster: ERROR: $*" >&2; exit 1; }

# Serialise every start and stop on this machine: several developers (and pytest
# sessions) share one cluster per cache directory.
take_lock() {
  mkdir -p "$cache_root"
  exec 9>"$lock_file"
  if ! flock -n 9; then
    log "waiting for another start/stop of the test cluster (lock $lock_file) ..."
    flock -w "${OUI_CLUSTER_LOCK_TIMEOUT:-3600}" 9 || die "timed out waiting for $lock_file"
  fi
}

# kwokctl, with downloads made impossible: any http(s) fetch goes to a closed port and
# fails loudly. (Go never proxies loopback addresses, so the cluster itself is reachable.)
# Its own health checks call `kubectl` from PATH: ours comes first. The lock's fd 9 is closed for it: the components it starts outlive this script and must
# not inherit (and so hold) the lock.
kwokctl_offline() {
  local direct
  # The components inherit this environment: the API server reaches the real node's kubelet
  # (logs, exec, port-forward; cluster/node/) at the node IP, directly.
  direct="$(node_ip)"
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 \
    https_proxy=http://127.0.0.1:9 NO_PROXY="$direct" no_proxy="$direct" PATH="$bin_dir:$PATH" \
    timeout "${kwokctl_timeout:-300}" "$bin_dir/kwokctl" "$@" 9>&-
}

# The last lines of one component's log, for error messages.
component_log_tail() {
  local f="$state_dir/logs/$1.log"
  if [[ -f "$f" ]]; then
    echo "---- last lines of $f ----" >&2
    tail -n "${2:-25}" "$f" >&2
  else
    echo "---- no log for $1 at $f ----" >&2
  fi
}

# Is this process running? (A zombie whose parent has not reaped it yet is not.)
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "$(awk '{print $1}' <<<"${stat##*)}")" != "Z" ]]
}

# Is this component of the cluster running (per its kwokctl pid file)?
component_alive() {
  [[ -f "$state_dir/pids/$1.pid" ]] && alive "$(tr -dc '0-9' <"$state_dir/pids/$1.pid")"
}

# PIDs of the live processes kwokctl started for this cluster (from its pid files). A pid
# is only trusted while its command line still names this cluster's state directory, so a
# stale pid file (after a reboot) never leads to killing an unrelated process.
cluster_pids() {
  local f pid
  for f in "$state_dir"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    pid="$(tr -dc '0-9' <"$f")"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$state_dir"; then
      echo "$pid"
    fi
  done
  return 0
}

# Stop every process of the cluster and remove its state. Safe on a half-started cluster.
remove_cluster() {
  local pids i
  # The real node first: it belongs to this cluster (its certificates come from its CA).
  node_down quiet
  [[ -d "$state_dir" ]] || return 0
  # Read the pids first: kwokctl deletes its pid files.
  pids="$(cluster_pids)"
  if [[ -x "$bin_dir/kwokctl" ]]; then
    kwokctl_offline delete cluster --name "$cluster_name" --kubeconfig "" >/dev/null 2>&1 || true
  fi
  # Whatever kwokctl did not stop (it was interrupted, or its state is damaged); then wait
  # until they are gone, so that their ports are free for the next start.
  for i in $(seq 1 20); do
    pids="$(for pid in $pids; do if alive "$pid"; then echo "$pid"; fi; done)"
    [[ -n "$pids" ]] || break
    # shellcheck disable=SC2086 # one pid per word
    if ((i < 15)); then kill $pids 2>/dev/null || true; else kill -9 $pids 2>/dev/null || true; fi
    sleep 1
  done
  rm -rf "$state_dir"
}

bin_dir="$("$cluster_dir/build.sh" --print-bin-dir)"
# The real node (issue 9): node_up, node_down, node_load_image.
# shellcheck source=cluster/node/lib.sh
source "$cluster_dir/node/lib.sh"
