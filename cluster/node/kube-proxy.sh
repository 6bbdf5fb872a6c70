# shellcheck shell=bash
# Step "kube-proxy" of the real node (cluster/node/up.sh runs the steps in order): kube-proxy in
# iptables mode, so that Services answer from the host and from pods.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_step_kube_proxy() { # <node ip>
  local ip="$1"
  cat >"$OUI_NODE_ETC/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $OUI_NODE_NAME
bindAddress: $ip
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: $OUI_NODE_POD_CIDR
clientConnection: {kubeconfig: $OUI_NODE_ETC/kube-proxy.kubeconfig}
# Leave the machine's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
nodePortAddresses: ["$ip/32"]
EOF
  node_start_daemon kube-proxy "$NODE_BIN/kube-proxy" --config "$OUI_NODE_ETC/kube-proxy.yaml" --v=1
}

