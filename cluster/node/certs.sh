# shellcheck shell=bash
# Step "certs" of the real node (cluster/node/up.sh runs the steps in order): client certificates
# and kubeconfigs for the kubelet (system:node:<name>, NodeRestriction applies), kube-proxy and
# CoreDNS, all signed by the cluster's CA.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# node_cert <name> <subject> [extensions]: key + certificate signed by the cluster's CA.
node_cert() {
  local name="$1" subj="$2" ext="${3:-}"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$OUI_NODE_ETC/$name.key" -subj "$subj" \
    -out "$OUI_NODE_ETC/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n%s\n' \
    "${ext:-extendedKeyUsage=clientAuth}" >"$OUI_NODE_ETC/$name.ext"
  openssl x509 -req -in "$OUI_NODE_ETC/$name.csr" -CA "$OUI_CLUSTER_STATE/pki/ca.crt" -CAkey "$OUI_CLUSTER_STATE/pki/ca.key" \
    -CAcreateserial -CAserial "$OUI_NODE_ETC/ca.srl" -days 30 -sha256 -extfile "$OUI_NODE_ETC/$name.ext" \
    -out "$OUI_NODE_ETC/$name.crt" 2>/dev/null
  chmod 600 "$OUI_NODE_ETC/$name.key"
}

# node_kubeconfig <name>: a kubeconfig for the client certificate <name>.
node_kubeconfig() {
  local server
  server="$(sed -n 's/^ *server: *//p' "$OUI_KUBECONFIG" | head -1)"
  cat >"$OUI_NODE_ETC/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $OUI_CLUSTER_NAME
    cluster: {server: "$server", certificate-authority: "$OUI_NODE_ETC/ca.crt"}
users:
  - name: $1
    user: {client-certificate: "$OUI_NODE_ETC/$1.crt", client-key: "$OUI_NODE_ETC/$1.key"}
contexts:
  - name: $1
    context: {cluster: $OUI_CLUSTER_NAME, user: $1}
current-context: $1
EOF
}

node_step_certs() {
  mkdir -p "$OUI_NODE_ETC"
  cp "$OUI_CLUSTER_STATE/pki/ca.crt" "$OUI_NODE_ETC/ca.crt"
  # NodeRestriction: the kubelet is system:node:<name> in group system:nodes.
  node_cert kubelet "/O=system:nodes/CN=system:node:$OUI_NODE_NAME"
  # The default ClusterRoleBinding system:node-proxier binds the user system:kube-proxy.
  node_cert kube-proxy "/CN=system:kube-proxy"
  node_cert coredns "/CN=oui-node:coredns"
  node_kubeconfig kubelet
  node_kubeconfig kube-proxy
  node_kubeconfig coredns
}

