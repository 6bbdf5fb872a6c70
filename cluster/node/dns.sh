# shellcheck shell=bash
# Step "dns" of the real node (cluster/node/up.sh runs the steps in order): CoreDNS on the node
# IP, port 53, behind the Service kube-system/kube-dns (an EndpointSlice naming the node IP); its
# health and readiness on loopback. It also plays the public DNS of the local inventory's host
# names: every name under $OUI_INGRESS_DOMAIN answers the ingress address (the node IP, where the
# ingress controller's Service listens), so that cert-manager's HTTP-01 self-check and the ACME
# test server's validation both reach the ingress controller for real.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_dns_objects() {
  local ip="$1"
  cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: oui-node:coredns
  labels: {app.kubernetes.io/name: coredns, app.kubernetes.io/part-of: oui-test-cluster}
rules:
  - apiGroups: [""]
    resources: [services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: oui-node:coredns
  labels: {app.kubernetes.io/name: coredns, app.kubernetes.io/part-of: oui-test-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "oui-node:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "oui-node:coredns"}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS, app.kubernetes.io/part-of: oui-test-cluster}
spec:
  type: ClusterIP
  ports:
    - {name: dns, port: 53, protocol: UDP, targetPort: 53}
    - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
# No selector: CoreDNS is a host process; this slice names the node IP.
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-oui-node
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: oui-node
    app.kubernetes.io/part-of: oui-test-cluster
addressType: IPv4
endpoints:
  - addresses: ["$ip"]
    conditions: {ready: true}
    nodeName: $OUI_NODE_NAME
ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

# Create the DNS Service (the API server picks its ClusterIP) and print the ClusterIP.
node_dns_service() {
  node_dns_objects "$1" | node_kubectl apply --server-side --force-conflicts --field-manager oui-node -f - >/dev/null
  node_kubectl -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}'
}

node_start_coredns() {
  local ip="$1"
  cat >"$OUI_NODE_ETC/Corefile" <<EOF
.:53 {
    bind $ip
    errors
    health 127.0.0.1:$OUI_NODE_DNS_HEALTH_PORT
    ready 127.0.0.1:$OUI_NODE_DNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $OUI_NODE_ETC/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loadbalance
    reload
}
$OUI_INGRESS_DOMAIN:53 {
    bind $ip
    errors
    template IN A $OUI_INGRESS_DOMAIN {
        answer "{{ .Name }} 30 IN A $ip"
    }
    template ANY ANY $OUI_INGRESS_DOMAIN
}
EOF
  node_start_daemon coredns "$NODE_BIN/coredns" -conf "$OUI_NODE_ETC/Corefile"
}

# node_step_dns <node ip>: the kube-dns Service, whose ClusterIP (the kubelet's clusterDNS) goes to
# $OUI_NODE_ETC/cluster-dns, and CoreDNS.
node_step_dns() {
  if ! node_dns_service "$1" >"$OUI_NODE_ETC/cluster-dns" || [[ ! -s "$OUI_NODE_ETC/cluster-dns" ]]; then
    nlog "could not create the kube-dns Service"
    return 1
  fi
  node_start_coredns "$1"
}
