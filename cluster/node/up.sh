#!/usr/bin/env bash
# Start the real node oui-real-a of the test cluster, or reuse a healthy one: a list of steps,
# one file each (cluster/node/<step>.sh), run in this order after the checks below.
#   packages    install the Debian packages it lacks (containerd, runc, CNI plugins, iptables, ...)
#   certs       client certificates and kubeconfigs signed by the cluster's CA
#   containerd  its own containerd, the CNI configuration, the pause image, reloaded images
#   dns         the kube-dns Service and CoreDNS on the node IP
#   kubelet     the kubelet, until the Node is Ready
#   kube-proxy  Services in iptables
# Like a fresh EKS node group it has no metrics-server: the platform's metrics_server role installs
# it (a pod on this node). A node started by an older checkout ran one on the host: retired below.
# Never fails the cluster's start: a node that cannot run is reported ("[real-node] SKIPPED:
# <reason>") and left out, unless OUI_REAL_NODE=1 asks for it (then it exits 1); OUI_REAL_NODE=0
# stops it and leaves it out. Run under the cluster lock (cluster/up.sh holds it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STEPS=(certs containerd dns kubelet kube-proxy)
# shellcheck source=cluster/node/packages.sh
source "$here/packages.sh"
# shellcheck source=cluster/node/certs.sh
source "$here/certs.sh"
# shellcheck source=cluster/node/containerd.sh
source "$here/containerd.sh"
# shellcheck source=cluster/node/dns.sh
source "$here/dns.sh"
# shellcheck source=cluster/node/kubelet.sh
source "$here/kubelet.sh"
# shellcheck source=cluster/node/kube-proxy.sh
source "$here/kube-proxy.sh"

required() { [[ "${OUI_REAL_NODE:-auto}" == 1 ]]; }

# skip <reason>: the node is left out (an error with OUI_REAL_NODE=1).
skip() {
  nlog "SKIPPED: $1"
  if required; then echo "cluster/node/up.sh: ERROR: OUI_REAL_NODE=1 but $1" >&2; exit 1; fi
  exit 0
}

# failed <step>: stop what started, keep its logs, and leave the node out.
failed() {
  nlog "FAILED: step $1; the real node is stopped; the kwok nodes are unaffected"
  rm -rf "$OUI_NODE_FAILED_LOGS"
  cp -r "$OUI_NODE_LOGS" "$OUI_NODE_FAILED_LOGS" 2>/dev/null || true
  nlog "its logs: $OUI_NODE_FAILED_LOGS"
  bash "$here/down.sh" --quiet --force
  if required; then echo "cluster/node/up.sh: ERROR: OUI_REAL_NODE=1 but step $1 failed" >&2; exit 1; fi
  exit 0
}

# Is this TCP port listened on by a process that is not one of the node's own daemons?
port_taken() {
  local pid d ours
  for pid in $(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    ours=""
    for d in "${NODE_DAEMONS[@]}"; do
      [[ "$(node_daemon_pid "$d" 2>/dev/null)" == "$pid" ]] && ours=1
    done
    [[ -n "$ours" ]] || return 0
  done
  return 1
}

# Empty output = the node runs and can be reused; otherwise why not.
health_problem() {
  local d try
  for d in "${NODE_DAEMONS[@]}"; do
    node_daemon_alive "$d" || { echo "$d is not running"; return; }
  done
  # Its certificates must come from this cluster's CA (a replaced cluster has a new one).
  cmp -s "$OUI_NODE_ETC/ca.crt" "$OUI_CLUSTER_STATE/pki/ca.crt" || { echo "its certificates are from another cluster's CA"; return; }
  # It must run the binaries of this checkout's build (a version or build change has a new key).
  [[ "$(cat "$OUI_NODE_ETC/bin-dir" 2>/dev/null)" == "$NODE_BIN" ]] || { echo "it runs binaries of another build"; return; }
  # A busy machine may delay one answer: three tries before restarting a node others use.
  for try in 1 2 3; do
    node_ready && return 0
    [[ $try == 3 ]] || sleep 2
  done
  echo "node $OUI_NODE_NAME is not Ready"
}

main() {
  local problem owner ip t0 step port pause
  if [[ "${OUI_REAL_NODE:-auto}" == 0 ]]; then
    nlog "skipped: OUI_REAL_NODE=0 (only the simulated kwok nodes)"
    bash "$here/down.sh" --quiet
    exit 0
  fi
  problem="$(node_machine_problem)"
  [[ -z "$problem" ]] || skip "this machine cannot run the real node: $problem"
  owner="$(cat "$OUI_NODE_ETC/cluster" 2>/dev/null || true)"
  if [[ -n "$owner" && "$owner" != "$OUI_CLUSTER_STATE" && -d "$owner" ]] && node_daemon_alive kubelet; then
    skip "the real node (one per machine) serves the test cluster at $owner"
  fi
  node_retire_host_metrics_server
  problem="$(health_problem)"
  if [[ -z "$problem" ]]; then
    nlog "reusing the running real node $OUI_NODE_NAME"
    exit 0
  fi
  nlog "starting the real node $OUI_NODE_NAME ($problem before)"
  t0=$(date +%s.%N)
  node_step_packages || skip "the Debian packages it needs could not be installed (above)"
  "$OUI_REPO/cluster/build.sh" build -g node >/dev/null || skip "its binaries could not be built (above)"
  pause="$("$OUI_REPO/cluster/build.sh" info pause)"
  bash "$here/down.sh" --quiet --force
  for port in $OUI_NODE_PORTS; do
    if port_taken "$port"; then
      skip "port $port (the kubelet's, kube-proxy's or CoreDNS's) is taken by another process: $(ss -Hltnp "sport = :$port" | head -1)"
    fi
  done
  ip="$(host_ip)"
  mkdir -p "$OUI_NODE_ETC" "$OUI_NODE_LOGS" "$OUI_NODE_PIDS"
  echo "$OUI_CLUSTER_STATE" >"$OUI_NODE_ETC/cluster"
  echo "$NODE_BIN" >"$OUI_NODE_ETC/bin-dir"
  for step in "${STEPS[@]}"; do
    case "$step" in
      certs) node_step_certs ;;
      containerd) node_step_containerd "$(kv IMAGE_REF <<<"$pause")" "$(kv IMAGE_ARCHIVE <<<"$pause")" ;;
      dns) node_step_dns "$ip" ;;
      kubelet) node_step_kubelet "$ip" ;;
      kube-proxy) node_step_kube_proxy "$ip" ;;
    esac || failed "$step"
  done
  for step in "${NODE_DAEMONS[@]}"; do
    node_daemon_alive "$step" || { tail -n 20 "$OUI_NODE_LOGS/$step.log" >&2; failed "$step (the process exited)"; }
  done
  nlog "real node $OUI_NODE_NAME joined in $(cat "$OUI_NODE_ROOT/join-seconds") s (kubelet start -> Ready), whole start $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (containerd $(containerd --version | awk '{print $3}'), kubelet and kube-proxy $("$NODE_BIN/kubelet" --version | awk '{print $2}'), pods in $OUI_NODE_POD_CIDR on $OUI_NODE_BRIDGE, cluster DNS $(cat "$OUI_NODE_ETC/cluster-dns"); logs in $OUI_NODE_LOGS)"
}

main "$@"
