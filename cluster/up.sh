#!/usr/bin/env bash
# Start the test cluster (building what is missing) and print its kubeconfig path as the
# LAST line of output. A healthy cluster started from the same binaries and configuration
# is reused; a stale, half-started or outdated one is removed and replaced.
#
# Real: etcd, kube-apiserver (TLS, Node+RBAC, PodSecurity + NodeRestriction, service-account
# tokens), kube-controller-manager, kube-scheduler, and one real node (oui-real-a: containerd,
# kubelet, kube-proxy, metrics-server; cluster/node/lib.sh) where the machine allows it.
# Simulated: the other nodes (kwok).
# Environment: OUI_CACHE_DIR (cache root), OUI_CLUSTER_API_PORT (default 16443),
# OUI_REAL_NODE (0: no real node; 1: fail when it cannot run; default: start it if possible).
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kubectl_() { "$bin_dir/kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s "$@"; }

pinned() {
  sed -n "s/^  $1: \"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$repo_dir/vars/versions.yml" | head -1
}

render_config() {
  sed -e "s|@BIN@|$bin_dir|g" -e "s|@STATE@|$state_dir|g" -e "s|^  kubeApiserverPort: .*|  kubeApiserverPort: $api_port|" \
    -e "s|@KUBERNETES@|$(pinned kubernetes)|g" -e "s|@ETCD@|$(pinned etcd)|g" \
    -e "s|@KWOK@|$(pinned kwok)|g" "$cluster_dir/kwokctl.yaml"
}

# One Node per line of nodes.tsv, managed by the kwok controller.
render_nodes() {
  local name zone pool
  grep -v '^#' "$cluster_dir/nodes.tsv" | while IFS=$'\t' read -r name zone pool; do
    [[ -n "$name" ]] || continue
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
    topology.kubernetes.io/region: $cluster_name
    topology.kubernetes.io/zone: "$zone"
    node.oui.io/pool: $pool
spec:
EOF
    if [[ "$pool" == "isolated" ]]; then
      cat <<EOF
  taints:
    - key: node.oui.io/pool
      value: isolated
      effect: NoSchedule
EOF
    else
      echo "  taints: []"
    fi
    cat <<EOF
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo:
    architecture: amd64
    kubeletVersion: fake
    kubeProxyVersion: fake
    operatingSystem: linux
EOF
  done
}

identity() {
  cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: platform-identity
  namespace: kube-system
  labels:
    app.kubernetes.io/managed-by: oui.platform
    app.kubernetes.io/name: platform-identity
    app.kubernetes.io/part-of: oui-platform
    platform.oui.io/environment: local
data:
  environment: local
  cluster: $cluster_name
EOF
}

# What the running cluster must have been started from to be reused.
wanted_stamp() {
  { echo "$bin_dir"; render_config; cat "$cluster_dir/nodes.tsv"; identity; } | sha256sum | cut -c1-16
}

# Empty output = healthy; otherwise the reason it is not.
health_problem() {
  local c
  [[ -d "$state_dir" ]] || { echo "no cluster"; return; }
  [[ -f "$stamp_file" ]] || { echo "half-started (no completion stamp)"; return; }
  [[ "$(cat "$stamp_file")" == "$(wanted_stamp)" ]] || { echo "started from other binaries or configuration"; return; }
  for c in "${components[@]}"; do
    if ! component_alive "$c"; then
      echo "$c is not running"
      return
    fi
  done
  # A busy machine may delay one answer: three tries before replacing a shared cluster.
  local try
  for try in 1 2 3; do
    kubectl_ get --raw /readyz >/dev/null 2>&1 && return
    [[ $try == 3 ]] || sleep 3
  done
  echo "kube-apiserver /readyz fails"
}

port_owner() {
  ss -Hltnp "sport = :$api_port" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -1
}

create_cluster() {
  local t0 c
  # A process that was just stopped may hold the port for a moment longer.
  for _ in $(seq 1 10); do
    [[ -n "$(ss -Hltn "sport = :$api_port" 2>/dev/null)" ]] || break
    sleep 1
  done
  if [[ -n "$(ss -Hltn "sport = :$api_port" 2>/dev/null)" ]]; then
    die "port $api_port (the API server's) is already taken by $(port_owner || echo 'another process') — stop it or choose another port: OUI_CLUSTER_API_PORT=<free port> make cluster"
  fi
  mkdir -p "$state_dir"
  render_config >"$cache_root/kwokctl.rendered.yaml"
  log "starting kube-apiserver on https://127.0.0.1:$api_port with kwokctl (binary runtime, binaries from $bin_dir)"
  t0=$(date +%s)
  # Bounded: kwokctl alone retries for minutes before it gives up on a broken component.
  if ! kwokctl_timeout="${OUI_CLUSTER_START_TIMEOUT:-150}" kwokctl_offline create cluster --name "$cluster_name" \
    --config "$cache_root/kwokctl.rendered.yaml" --kubeconfig "" --wait 2m >"$cache_root/kwokctl-create.log" 2>&1; then
    echo "---- last lines of $cache_root/kwokctl-create.log ----" >&2
    tail -n 5 "$cache_root/kwokctl-create.log" >&2
    # The components that died are the ones to read about.
    local dead=()
    for c in "${components[@]}"; do
      if ! component_alive "$c"; then
        dead+=("$c")
        component_log_tail "$c" 12
      fi
    done
    [[ ${#dead[@]} -gt 0 ]] || component_log_tail kube-apiserver 20
    die "kwokctl could not start the cluster; not running: ${dead[*]:-none} (logs above; state in $state_dir)"
  fi
  if ! kubectl_ get --raw /readyz >/dev/null 2>&1; then
    component_log_tail kube-apiserver 40
    die "kube-apiserver did not become ready"
  fi
  log "control plane ready in $(($(date +%s) - t0)) s; adding nodes and the cluster identity"
  render_nodes | kubectl_ apply -f - >/dev/null
  if ! kubectl_ wait --for=condition=Ready node --all --timeout=120s >/dev/null; then
    kubectl_ get nodes -o wide >&2 || true
    component_log_tail kwok-controller 30
    die "the kwok nodes did not become Ready"
  fi
  # Namespaces exist shortly after the API server; the identity waits for kube-system.
  for _ in $(seq 1 30); do kubectl_ get namespace kube-system >/dev/null 2>&1 && break; sleep 1; done
  identity | kubectl_ apply -f - >/dev/null
  wanted_stamp >"$stamp_file"
  # Warm start time (binaries already built), read by the measurement test.
  echo "$(($(date +%s) - t0))" >"$state_dir/oui-start-seconds"
  log "cluster started in $(cat "$state_dir/oui-start-seconds") s"
}

main() {
  local problem rss
  take_lock
  "$cluster_dir/build.sh" >&2
  problem="$(health_problem)"
  if [[ -z "$problem" ]]; then
    log "reusing the running cluster ($state_dir)"
    # A test that removed the identity (environment guard tests) gets it back, not a new cluster.
    if ! kubectl_ -n kube-system get configmap platform-identity >/dev/null 2>&1; then
      log "the identity ConfigMap kube-system/platform-identity was missing; stamping it again"
      identity | kubectl_ apply -f - >/dev/null
    fi
  else
    if [[ "$problem" != "no cluster" ]]; then
      log "found a cluster that cannot be reused: $problem; replacing it"
    fi
    remove_cluster
    create_cluster
  fi
  # The real node (cluster/node/lib.sh): started or reused; skipped with the reason printed
  # where the machine cannot run it or OUI_REAL_NODE=0.
  node_up
  rss="$(ps -o rss= -p "$(cat "$state_dir/pids/kube-apiserver.pid")" 2>/dev/null | tr -d ' ' || true)"
  log "kube-apiserver $("$bin_dir/kubectl" --kubeconfig "$kubeconfig" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | tail -1) on https://127.0.0.1:$api_port, RSS ${rss:-?} KiB; $(kubectl_ get nodes --no-headers | wc -l) nodes"
  echo "$kubeconfig"
}

main "$@"
