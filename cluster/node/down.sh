#!/usr/bin/env bash
# Stop the real node and remove what it created: pod sandboxes (CNI DEL removes their netns,
# addresses and CNI-* chains), the KUBE-* chains, mounts, the bridge, the cgroups, the Node
# object and the node's directories. Safe on a half-started node; best effort to the end (one
# step that fails must not leave the rest behind).
#   cluster/node/down.sh [--quiet] [--force]
# --force also stops a node that serves another cache directory's (still existing) cluster.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/node/lib.sh
source "$here/lib.sh"

quiet="" force=""
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --force) force=1 ;;
    *) echo "usage: cluster/node/down.sh [--quiet] [--force]" >&2; exit 2 ;;
  esac
done

if [[ ! -d "$OUI_NODE_ROOT" && ! -d "$OUI_NODE_RUN" ]]; then
  [[ -n "$quiet" ]] || nlog "no real node to stop"
  exit 0
fi
# One real node per machine: another cache directory's cluster that still exists keeps it.
owner="$(cat "$OUI_NODE_ETC/cluster" 2>/dev/null)"
if [[ -z "$force" && -n "$owner" && "$owner" != "$OUI_CLUSTER_STATE" && -d "$owner" ]]; then
  nlog "left running: the real node belongs to the test cluster at $owner"
  exit 0
fi
node_stop_daemon coredns
# A node started by an older checkout ran metrics-server on the host (now the platform's pod).
node_stop_daemon metrics-server
node_stop_daemon kube-proxy
node_stop_daemon kubelet
if node_daemon_alive containerd && [[ -x "$NODE_BIN/crictl" ]]; then
  node_crictl rmp --all --force >/dev/null 2>&1 || true
fi
node_stop_daemon containerd
# Shims whose containerd is gone (they name our socket's directory on their command line).
for d in $(pgrep -f "containerd-shim-runc-v2 .*-address $OUI_NODE_SOCK" || true); do
  kill -9 "$d" 2>/dev/null || true
done
# kube-proxy's own cleanup removes every KUBE-* chain it created.
if [[ -x "$NODE_BIN/kube-proxy" ]] && iptables -t nat -S 2>/dev/null | grep -q '^-N KUBE-'; then
  "$NODE_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
fi
# What CNI DEL could not remove (containerd was already dead): the rules that name this
# network; then the CNI-* chains left empty or only jumping to each other (the firewall
# plugin's CNI-FORWARD -> CNI-ADMIN), and the kubelet's own KUBE-* chains (canaries,
# KUBE-FIREWALL, KUBE-IPTABLES-HINT), which kube-proxy --cleanup does not remove.
for ipt in iptables ip6tables; do
  for table in mangle nat filter; do
    # (iptables -S prints the bridge plugin's comment as "name: \"oui-node\" id: \"<sandbox>\"")
    "$ipt" -t "$table" -S 2>/dev/null | grep -F "name: \\\"$OUI_NODE_CNI_NET\\\"" | grep '^-A' | while read -r -a rule; do
      rule[0]=-D
      eval "$ipt -t $table ${rule[*]}" 2>/dev/null
    done
    for pass in 1 2; do
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | sed -n 's/^-N \(CNI-[^ ]*\|KUBE-[^ ]*\)$/\1/p'); do
        if [[ "$chain" == CNI-* ]] && "$ipt" -t "$table" -S "$chain" 2>/dev/null | grep '^-A' | grep -qvE -- '-j CNI-[^ ]*$'; then
          continue
        fi
        "$ipt" -t "$table" -S 2>/dev/null | grep '^-A' | grep -E -- "-j $chain( |\$)" | while read -r -a rule; do
          rule[0]=-D
          eval "$ipt -t $table ${rule[*]}" 2>/dev/null
        done
        "$ipt" -t "$table" -F "$chain" 2>/dev/null
        "$ipt" -t "$table" -X "$chain" 2>/dev/null
      done
      : "$pass"
    done
  done
done
# Network namespaces of pods whose sandbox was not removed through the CRI: containerd 1.6
# pins them as /run/netns/cni-<uuid>; ours are the ones holding an address of the pod range.
for ns in /run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  if ip netns exec "${ns##*/}" ip -4 -o addr 2>/dev/null | grep -qF " ${OUI_NODE_POD_CIDR%.*}."; then
    ip netns delete "${ns##*/}" 2>/dev/null || true
  fi
done
# Mounts under the node's directories (overlay rootfs, shm, secrets, netns), deepest first.
awk '{print $5}' /proc/self/mountinfo | grep -E "^($OUI_NODE_ROOT|$OUI_NODE_RUN)(/|\$)" | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null
done
ip link del "$OUI_NODE_BRIDGE" 2>/dev/null || true
# The pods' cgroups, deepest first.
for c in /sys/fs/cgroup/*/"$OUI_NODE_CGROUP"; do
  [[ -d "$c" ]] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
done
if [[ -f "$OUI_KUBECONFIG" ]]; then
  node_kubectl delete node "$OUI_NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  node_retire_host_metrics_server
  node_kubectl -n kube-system delete endpointslice kube-dns-oui-node --ignore-not-found >/dev/null 2>&1 || true
fi
rm -rf "$OUI_NODE_RUN" "$OUI_NODE_ROOT"
[[ -n "$quiet" ]] || nlog "real node $OUI_NODE_NAME stopped; its sandboxes, netns, iptables chains, mounts, bridge and cgroups removed"
exit 0
