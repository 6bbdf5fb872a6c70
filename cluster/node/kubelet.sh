# shellcheck shell=bash
# Step "kubelet" of the real node (cluster/node/up.sh runs the steps in order): its configuration
# and process, and the wait until the Node is Ready (the join time is recorded).
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_kubelet_config() {
  local ip="$1" dns="$2" c
  # The pods' cgroup root must exist in every controller (cgroup v1, cgroupfs driver).
  for c in /sys/fs/cgroup/*/; do
    [[ "$c" == */unified/ ]] && continue
    mkdir -p "$c$OUI_NODE_CGROUP"
  done
  cat >"$OUI_NODE_ETC/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 and no systemd: cgroupfs driver, v1 allowed explicitly.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$OUI_NODE_CGROUP
containerRuntimeEndpoint: unix://$OUI_NODE_SOCK
address: $ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $OUI_NODE_ETC/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$dns]
resolvConf: /etc/resolv.conf
failSwapOn: false
registerWithTaints:
  - {key: node.oui.io/real, value: "true", effect: NoSchedule}
serializeImagePulls: false
maxPods: 30
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
nodeStatusUpdateFrequency: 10s
rotateCertificates: false
EOF
}

node_start_kubelet() {
  local ip="$1"
  mkdir -p "$OUI_NODE_ROOT/kubelet"
  # Its own pool (not "general"): the cluster tests count the general pool as 2 nodes per zone,
  # and the taint keeps it out of every placement that does not ask for it.
  node_start_daemon kubelet "$NODE_BIN/kubelet" --config "$OUI_NODE_ETC/kubelet.yaml" \
    --kubeconfig "$OUI_NODE_ETC/kubelet.kubeconfig" --root-dir "$OUI_NODE_ROOT/kubelet" \
    --hostname-override "$OUI_NODE_NAME" --node-ip "$ip" \
    --node-labels "topology.kubernetes.io/zone=$OUI_NODE_ZONE,topology.kubernetes.io/region=$OUI_CLUSTER_NAME,node.oui.io/pool=real,node.oui.io/real=true" \
    --v=1
}

# node_step_kubelet <node ip> (the cluster DNS IP is the dns step's $OUI_NODE_ETC/cluster-dns)
node_step_kubelet() {
  local ip="$1" tk i
  node_kubelet_config "$ip" "$(cat "$OUI_NODE_ETC/cluster-dns")"
  tk=$(date +%s.%N)
  node_start_kubelet "$ip"
  for i in $(seq 1 120); do
    node_ready && break
    node_daemon_alive kubelet || break
    sleep 1
  done
  if ! node_ready; then
    tail -n 30 "$OUI_NODE_LOGS/kubelet.log" >&2
    nlog "the kubelet did not register a Ready node $OUI_NODE_NAME"
    return 1
  fi
  # Join time: kubelet start -> Node Ready (what the tests print).
  awk -v a="$tk" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f\n", b-a}' >"$OUI_NODE_ROOT/join-seconds"
}
