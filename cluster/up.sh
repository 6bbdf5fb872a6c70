#!/usr/bin/env bash
# Start the test cluster (building what is missing) and print, as KEY=value lines, what a
# client needs: KUBECONFIG, OUI_BIN_DIR (kubectl, helm, ... of the cluster's version),
# HELM_PLUGINS, and the platform's outside world (cluster/platform/up.sh: OUI_CHART_MIRROR,
# OUI_INGRESS_ADDRESS, OUI_CA_BUNDLE, OUI_DENIED_SOURCE_ADDRESS, ...). A healthy cluster started
# from the same binaries and configuration is reused; a stale, half-started or outdated one is
# removed and replaced.
#
# The steps: take the lock; build the cluster group (cluster/build.sh); reuse or create the
# control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, by
# kwokctl's binary runtime); add the kwok nodes and the cluster identity; start or reuse the
# real node (cluster/node/up.sh) where the machine allows it; start or reuse the platform's
# outside world (cluster/platform/up.sh: chart mirror, add-on images, Pebble, denied source).
# Real: etcd, kube-apiserver (TLS, Node+RBAC, PodSecurity + NodeRestriction, service-account
# tokens), kube-controller-manager, kube-scheduler, and the real node oui-real-a (containerd,
# kubelet, kube-proxy, CoreDNS). Simulated: the other nodes (kwok). No metrics-server: the
# platform's chart installs it, as on a fresh EKS cluster.
# Environment: OUI_CACHE_DIR, OUI_CLUSTER_API_PORT (cluster/lib/paths.sh), OUI_REAL_NODE
# (0: no real node; 1: fail when it cannot run; default: start it if possible).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUI_LOG_TAG=cluster
# shellcheck source=cluster/lib/control-plane.sh
source "$here/lib/control-plane.sh"
bin=""  # the cluster group's binaries, set by main

kubectl_() { "$bin/kubectl" --kubeconfig "$OUI_KUBECONFIG" --request-timeout=10s "$@"; }
pinned() { "$OUI_REPO/scripts/versions.sh" get "$1"; }

render_config() {
  sed -e "s|@BIN@|$bin|g" -e "s|@STATE@|$OUI_CLUSTER_STATE|g" -e "s|^  kubeApiserverPort: .*|  kubeApiserverPort: $OUI_CLUSTER_API_PORT|" \
    -e "s|@KUBERNETES@|$(pinned kubernetes)|g" -e "s|@ETCD@|$(pinned etcd)|g" \
    -e "s|@KWOK@|$(pinned kwok)|g" "$here/kwokctl.yaml"
}

# One Node per line of nodes.tsv, managed by the kwok controller.
render_nodes() {
  local name zone pool
  grep -v '^#' "$here/nodes.tsv" | while IFS=$'\t' read -r name zone pool; do
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
    topology.kubernetes.io/region: $OUI_CLUSTER_NAME
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
  cluster: $OUI_CLUSTER_NAME
EOF
}

# What the running cluster must have been started from to be reused: the binaries it runs (not
# the directory of links, which also changes with helm's or kubectl's build), its configuration,
# nodes, identity and what its components reach without the proxy.
wanted_stamp() {
  local b
  {
    for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl; do readlink -f "$bin/$b"; done
    render_config | sed "s|$bin|@BIN@|g"
    no_proxy_list
    cat "$here/nodes.tsv"
    identity
  } | sha256sum | cut -c1-16
}

# Empty output = healthy; otherwise the reason it is not.
health_problem() {
  local c
  [[ -d "$OUI_CLUSTER_STATE" ]] || { echo "no cluster"; return; }
  [[ -f "$OUI_CLUSTER_STATE/oui-stamp" ]] || { echo "half-started (no completion stamp)"; return; }
  [[ "$(cat "$OUI_CLUSTER_STATE/oui-stamp")" == "$(wanted_stamp)" ]] || { echo "started from other binaries or configuration"; return; }
  for c in "${CONTROL_PLANE[@]}"; do
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
  ss -Hltnp "sport = :$OUI_CLUSTER_API_PORT" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\).*/\1/p' | head -1
}

create_cluster() {
  local t0 c
  # A process that was just stopped may hold the port for a moment longer.
  for _ in $(seq 1 10); do
    [[ -n "$(ss -Hltn "sport = :$OUI_CLUSTER_API_PORT" 2>/dev/null)" ]] || break
    sleep 1
  done
  if [[ -n "$(ss -Hltn "sport = :$OUI_CLUSTER_API_PORT" 2>/dev/null)" ]]; then
    oui_die "port $OUI_CLUSTER_API_PORT (the API server's) is already taken by $(port_owner || echo 'another process') — stop it or choose another port: OUI_CLUSTER_API_PORT=<free port> make cluster"
  fi
  mkdir -p "$OUI_CLUSTER_STATE"
  render_config >"$OUI_CLUSTER_CACHE/kwokctl.rendered.yaml"
  oui_log "starting kube-apiserver on https://127.0.0.1:$OUI_CLUSTER_API_PORT with kwokctl (binary runtime, binaries from $bin)"
  t0=$(date +%s)
  # Bounded: kwokctl alone retries for minutes before it gives up on a broken component.
  if ! KWOKCTL_TIMEOUT="${OUI_CLUSTER_START_TIMEOUT:-150}" kwokctl_offline "$bin" create cluster --name "$OUI_CLUSTER_NAME" \
    --config "$OUI_CLUSTER_CACHE/kwokctl.rendered.yaml" --kubeconfig "" --wait 2m >"$OUI_CLUSTER_CACHE/kwokctl-create.log" 2>&1; then
    echo "---- last lines of $OUI_CLUSTER_CACHE/kwokctl-create.log ----" >&2
    tail -n 5 "$OUI_CLUSTER_CACHE/kwokctl-create.log" >&2
    # The components that died are the ones to read about.
    local dead=()
    for c in "${CONTROL_PLANE[@]}"; do
      if ! component_alive "$c"; then
        dead+=("$c")
        component_log_tail "$c" 12
      fi
    done
    [[ ${#dead[@]} -gt 0 ]] || component_log_tail kube-apiserver 20
    oui_die "kwokctl could not start the cluster; not running: ${dead[*]:-none} (logs above; state in $OUI_CLUSTER_STATE)"
  fi
  if ! kubectl_ get --raw /readyz >/dev/null 2>&1; then
    component_log_tail kube-apiserver 40
    oui_die "kube-apiserver did not become ready"
  fi
  oui_log "control plane ready in $(($(date +%s) - t0)) s; adding nodes and the cluster identity"
  render_nodes | kubectl_ apply -f - >/dev/null
  if ! kubectl_ wait --for=condition=Ready node --all --timeout=120s >/dev/null; then
    kubectl_ get nodes -o wide >&2 || true
    component_log_tail kwok-controller 30
    oui_die "the kwok nodes did not become Ready"
  fi
  # Namespaces exist shortly after the API server; the identity waits for kube-system.
  for _ in $(seq 1 30); do kubectl_ get namespace kube-system >/dev/null 2>&1 && break; sleep 1; done
  identity | kubectl_ apply -f - >/dev/null
  wanted_stamp >"$OUI_CLUSTER_STATE/oui-stamp"
  # Warm start time (binaries already built), read by the measurement test.
  echo "$(($(date +%s) - t0))" >"$OUI_CLUSTER_STATE/oui-start-seconds"
  oui_log "cluster started in $(cat "$OUI_CLUSTER_STATE/oui-start-seconds") s"
}

main() {
  local problem rss out platform
  take_lock
  out="$("$OUI_REPO/cluster/build.sh" build -g cluster)" || oui_die "the cluster's binaries could not be built (above)"
  bin="$(kv OUI_BIN_DIR <<<"$out")"
  problem="$(health_problem)"
  if [[ -z "$problem" ]]; then
    oui_log "reusing the running cluster ($OUI_CLUSTER_STATE)"
    # A test that removed the identity (environment guard tests) gets it back, not a new cluster.
    if ! kubectl_ -n kube-system get configmap platform-identity >/dev/null 2>&1; then
      oui_log "the identity ConfigMap kube-system/platform-identity was missing; stamping it again"
      identity | kubectl_ apply -f - >/dev/null
    fi
  else
    if [[ "$problem" != "no cluster" ]]; then
      oui_log "found a cluster that cannot be reused: $problem; replacing it"
    fi
    bash "$here/node/down.sh" --quiet
    remove_control_plane "$bin"
    create_cluster
  fi
  # The real node: started or reused; skipped with the reason printed where the machine cannot
  # run it or OUI_REAL_NODE=0 (an error with OUI_REAL_NODE=1).
  bash "$here/node/up.sh" || oui_die "the real node did not start (OUI_REAL_NODE=1; above)"
  platform="$(bash "$here/platform/up.sh")" || oui_die "the platform's outside world did not start (above)"
  rss="$(ps -o rss= -p "$(cat "$OUI_CLUSTER_STATE/pids/kube-apiserver.pid")" 2>/dev/null | tr -d ' ' || true)"
  oui_log "kube-apiserver $("$bin/kubectl" --kubeconfig "$OUI_KUBECONFIG" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | tail -1) on https://127.0.0.1:$OUI_CLUSTER_API_PORT, RSS ${rss:-?} KiB; $(kubectl_ get nodes --no-headers | wc -l) nodes"
  echo "KUBECONFIG=$OUI_KUBECONFIG"
  echo "$out"
  echo "$platform"
}

main "$@"
