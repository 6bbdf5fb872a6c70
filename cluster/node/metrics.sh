# shellcheck shell=bash
# Step "metrics" of the real node (cluster/node/up.sh runs the steps in order): metrics-server on
# the host, serving metrics.k8s.io (kubectl top, the HPA) through an APIService and an
# ExternalName Service (-> localhost); it scrapes only the real node.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_metrics_objects() {
  cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: oui-node:metrics-server
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
rules:
  - apiGroups: [""]
    resources: [nodes/metrics]
    verbs: [get]
  - apiGroups: [""]
    resources: [pods, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: oui-node:metrics-server
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "oui-node:metrics-server"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "oui-node:metrics-server"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: oui-node:metrics-server:auth-delegator
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "oui-node:metrics-server"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: oui-node:metrics-server:auth-reader
  namespace: kube-system
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "oui-node:metrics-server"}]
---
# metrics-server runs on the host; the aggregator resolves this Service to localhost.
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{name: https, port: $OUI_NODE_METRICS_PORT, protocol: TCP}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
  labels: {app.kubernetes.io/name: metrics-server, app.kubernetes.io/part-of: oui-test-cluster}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: {name: metrics-server, namespace: kube-system, port: $OUI_NODE_METRICS_PORT}
  caBundle: $(base64 -w0 "$OUI_NODE_ETC/ca.crt")
EOF
}

node_start_metrics_server() {
  node_metrics_objects | node_kubectl apply --server-side --force-conflicts --field-manager oui-node -f - >/dev/null
  # Scrapes only the real node (kwok nodes have no kubelet to scrape).
  node_start_daemon metrics-server "$NODE_BIN/metrics-server" \
    --kubeconfig "$OUI_NODE_ETC/metrics-server.kubeconfig" \
    --authentication-kubeconfig "$OUI_NODE_ETC/metrics-server.kubeconfig" \
    --authorization-kubeconfig "$OUI_NODE_ETC/metrics-server.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$OUI_NODE_METRICS_PORT" \
    --tls-cert-file "$OUI_NODE_ETC/metrics-server-serving.crt" --tls-private-key-file "$OUI_NODE_ETC/metrics-server-serving.key" \
    --cert-dir "$OUI_NODE_ROOT/metrics-server" \
    --node-selector node.oui.io/real=true \
    --kubelet-preferred-address-types InternalIP --kubelet-insecure-tls \
    --metric-resolution 15s
}

# Waits (up to 60 s) for the APIService to be Available; fails only when metrics-server died.
node_step_metrics() {
  local i
  node_start_metrics_server
  for i in $(seq 1 60); do
    [[ "$(node_kubectl get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" == True ]] && break
    node_daemon_alive metrics-server || break
    sleep 1
  done
  node_daemon_alive metrics-server && return 0
  tail -n 20 "$OUI_NODE_LOGS/metrics-server.log" >&2
  nlog "metrics-server did not start"
  return 1
}
