# shellcheck shell=bash disable=SC2034,SC2154 # sourced by cluster/lib.sh (which sets cluster_dir, state_dir, kubeconfig, bin_dir...)
# The real node of the test cluster (issue 9): containerd (its own instance), kubelet,
# kube-proxy (iptables), metrics-server and CoreDNS run as local processes and join the kwok cluster
# as one more Node. Sourced by cluster/lib.sh, after it set cluster_dir, cache_root,
# state_dir, kubeconfig, bin_dir, log and die.
#
# Where things live (nothing in the repository):
#   /var/lib/oui-node/   containerd root, kubelet root, CNI state, certs, configs, logs, pids
#   /run/oui-node/       containerd state and socket
#   /sys/fs/cgroup/<controller>/oui-node   the pods' cgroups (kubelet cgroupRoot)
#   kube-system/kube-dns  the cluster DNS Service -> CoreDNS on the node IP, port 53
#   oui-cni0             the pods' bridge (10.88.0.0/24), iptables chains CNI-* and KUBE-*
# Docker's containerd (/run/containerd) is never touched.
#
# Environment: OUI_REAL_NODE=0 keeps only the kwok nodes; OUI_REAL_NODE=1 fails (instead of
# skipping) when the machine cannot run it.

node_name="oui-real-a"
node_zone="a"
node_root="/var/lib/oui-node"
node_run="/run/oui-node"
node_etc="$node_root/etc"
node_logs="$node_root/logs"
node_pids="$node_root/pids"
node_sock="$node_run/containerd/containerd.sock"
node_bridge="oui-cni0"
node_pod_cidr="10.88.0.0/24"
node_cgroup="oui-node"
node_cni_bin="/usr/lib/cni"
node_cni_net="oui-node"
node_pause_image="localhost/oui-node/pause:$(sed -n 's/^  kubernetes: "\(.*\)"$/\1/p' "$repo_dir/vars/versions.yml" | head -1)"
# metrics-server listens here (the host); the API server reaches it through an ExternalName
# Service (kube-system/metrics-server -> localhost).
node_metrics_port=4443
# CoreDNS listens on the node IP, port 53; pods reach it through the Service kube-system/kube-dns
# (ClusterIP, an EndpointSlice naming the node IP). Health and readiness on loopback.
node_dns_health=18080
node_dns_ready=18181
node_daemons=(containerd kubelet kube-proxy metrics-server coredns)
node_bin_dir="$("$cluster_dir/node/build.sh" --print-bin-dir)"

nlog() { echo "[real-node $(date -u +%H:%M:%S)] $*" >&2; }

node_kubectl() { "$bin_dir/kubectl" --kubeconfig "$kubeconfig" --request-timeout=10s "$@"; }
node_crictl() { "$node_bin_dir/crictl" --runtime-endpoint "unix://$node_sock" --timeout 20s "$@"; }
node_ctr() { ctr --address "$node_sock" --namespace k8s.io "$@"; }

# The node's IP: the host's address on its default route (what the kubelet reports).
node_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1
}

# Empty output = this machine can run the real node; otherwise why not.
node_machine_problem() {
  local c
  [[ "$(id -u)" == 0 ]] || { echo "not root (the kubelet, containerd and kube-proxy need root)"; return; }
  [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == tmpfs ]] \
    || { echo "/sys/fs/cgroup is not a cgroup v1 hierarchy (this node is set up for cgroup v1 + cgroupfs)"; return; }
  for c in cpu cpuacct cpuset memory pids devices freezer; do
    [[ -d "/sys/fs/cgroup/$c" ]] || { echo "cgroup v1 controller '$c' is not mounted at /sys/fs/cgroup/$c"; return; }
  done
  for c in containerd containerd-shim-runc-v2 runc iptables ip ctr openssl; do
    command -v "$c" >/dev/null 2>&1 || { echo "$c is not installed (apt-get install containerd runc iptables iproute2 openssl)"; return; }
  done
  for c in bridge host-local loopback portmap firewall; do
    [[ -x "$node_cni_bin/$c" ]] || { echo "CNI plugin $node_cni_bin/$c is missing (apt-get install containernetworking-plugins)"; return; }
  done
  [[ -n "$(node_ip)" ]] || { echo "no IPv4 default route (the kubelet needs a node IP)"; return; }
  for c in 10250 10248 10249 10256 "$node_metrics_port" "$node_dns_health" "$node_dns_ready" 53; do
    if node_port_taken "$c"; then
      echo "port $c (the kubelet's, kube-proxy's, metrics-server's or CoreDNS's) is taken by another process: $(ss -Hltnp "sport = :$c" | head -1)"
      return
    fi
  done
  return 0
}

# Is this TCP port listened on by a process that is not one of the node's own daemons?
node_port_taken() {
  local pid d ours
  for pid in $(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    ours=""
    for d in "${node_daemons[@]}"; do
      [[ "$(node_daemon_pid "$d" 2>/dev/null)" == "$pid" ]] && ours=1
    done
    [[ -n "$ours" ]] || return 0
  done
  return 1
}

# pid of a node daemon, only while its command line still names the node's directories.
node_daemon_pid() {
  local f="$node_pids/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$node_root" || return 1
  echo "$pid"
}
node_daemon_alive() { node_daemon_pid "$1" >/dev/null; }

# start_daemon <name> <command...>: a background process that outlives this script (setsid),
# without the lock's fd 9, its output in $node_logs/<name>.log.
node_start_daemon() {
  local name="$1"
  shift
  mkdir -p "$node_logs" "$node_pids"
  setsid nohup "$@" >>"$node_logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$node_pids/$name.pid"
}

node_stop_daemon() {
  local pid i
  pid="$(node_daemon_pid "$1")" || return 0
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 30); do
    alive "$pid" || break
    ((i == 20)) && kill -9 "$pid" 2>/dev/null
    sleep 0.5
  done
  rm -f "$node_pids/$1.pid"
}

# Empty output = the node runs and can be reused; otherwise why not.
node_health_problem() {
  local d
  for d in "${node_daemons[@]}"; do
    node_daemon_alive "$d" || { echo "$d is not running"; return; }
  done
  # Its certificates must come from this cluster's CA (a replaced cluster has a new one).
  cmp -s "$node_etc/ca.crt" "$state_dir/pki/ca.crt" || { echo "its certificates are from another cluster's CA"; return; }
  # It must run the binaries of this checkout's build (a version or build change has a new key).
  [[ "$(cat "$node_etc/bin-dir" 2>/dev/null)" == "$node_bin_dir" ]] || { echo "it runs binaries of another build"; return; }
  # A busy machine may delay one answer: three tries before restarting a node others use.
  local try
  for try in 1 2 3; do
    [[ "$(node_kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] \
      && return 0
    [[ $try == 3 ]] || sleep 2
  done
  echo "node $node_name is not Ready"
}

# --- certificates -------------------------------------------------------------------------

# node_cert <name> <subject> [extensions]: key + certificate signed by the cluster's CA.
node_cert() {
  local name="$1" subj="$2" ext="${3:-}"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$node_etc/$name.key" -subj "$subj" \
    -out "$node_etc/$name.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n%s\n' \
    "${ext:-extendedKeyUsage=clientAuth}" >"$node_etc/$name.ext"
  openssl x509 -req -in "$node_etc/$name.csr" -CA "$state_dir/pki/ca.crt" -CAkey "$state_dir/pki/ca.key" \
    -CAcreateserial -CAserial "$node_etc/ca.srl" -days 30 -sha256 -extfile "$node_etc/$name.ext" \
    -out "$node_etc/$name.crt" 2>/dev/null
  chmod 600 "$node_etc/$name.key"
}

# node_kubeconfig <name>: a kubeconfig for the client certificate <name>.
node_kubeconfig() {
  local server
  server="$(sed -n 's/^ *server: *//p' "$kubeconfig" | head -1)"
  cat >"$node_etc/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $cluster_name
    cluster: {server: "$server", certificate-authority: "$node_etc/ca.crt"}
users:
  - name: $1
    user: {client-certificate: "$node_etc/$1.crt", client-key: "$node_etc/$1.key"}
contexts:
  - name: $1
    context: {cluster: $cluster_name, user: $1}
current-context: $1
EOF
}

node_certs() {
  mkdir -p "$node_etc"
  cp "$state_dir/pki/ca.crt" "$node_etc/ca.crt"
  # NodeRestriction: the kubelet is system:node:<name> in group system:nodes.
  node_cert kubelet "/O=system:nodes/CN=system:node:$node_name"
  # The default ClusterRoleBinding system:node-proxier binds the user system:kube-proxy.
  node_cert kube-proxy "/CN=system:kube-proxy"
  node_cert metrics-server "/CN=oui-node:metrics-server"
  node_cert coredns "/CN=oui-node:coredns"
  node_cert metrics-server-serving "/CN=metrics-server.kube-system.svc" \
    "extendedKeyUsage=serverAuth
subjectAltName=DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
  node_kubeconfig kubelet
  node_kubeconfig kube-proxy
  node_kubeconfig metrics-server
  node_kubeconfig coredns
}

# --- containerd ---------------------------------------------------------------------------

node_containerd_config() {
  cat >"$node_etc/containerd.toml" <<EOF
# containerd for the real test node: its own root, state and socket, never Docker's.
version = 2
root = "$node_root/containerd"
state = "$node_run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$node_sock"
[ttrpc]
  address = "$node_run/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$node_root/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$node_pause_image"
  disable_hugetlb_controller = true
  # This machine withholds CAP_SYS_RESOURCE even from root (CapEff 000001fffeffffff), so no
  # process may lower its oom_score_adj: runc fails the pause container (-998) with
  # "failed to update /proc/self/oom_score_adj: Permission denied". Clamp to containerd's own.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$node_run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$node_cni_bin"
    conf_dir = "$node_etc/cni"
    max_conf_num = 1
EOF
  mkdir -p "$node_etc/cni"
  # bridge + host-local + portmap, and firewall so that pod traffic is accepted even where
  # Docker set the FORWARD policy to DROP; loopback is set up by the CRI itself.
  cat >"$node_etc/cni/10-oui-node.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$node_cni_net",
  "plugins": [
    {"type": "bridge", "bridge": "$node_bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$node_pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$node_root/cni/networks"}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
}

# The pause image, FROM scratch: one layer with the static pause binary, written as an OCI
# image layout and imported (no registry, no Docker needed). Its digests are computed here.
node_import_pause() {
  local work layer_sha layer_size config config_sha manifest manifest_sha
  if node_ctr images ls -q 2>/dev/null | grep -qxF "$node_pause_image"; then
    return 0
  fi
  work="$(mktemp -d)"
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  cp "$node_bin_dir/pause" "$work/rootfs/pause"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
  layer_sha="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  layer_size="$(stat -c %s "$work/layer.tar")"
  mv "$work/layer.tar" "$work/oci/blobs/sha256/$layer_sha"
  config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/pause\"],\"User\":\"65535:65535\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_sha\"]}}"
  printf '%s' "$config" >"$work/config.json"
  config_sha="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  manifest="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_sha\",\"size\":$(stat -c %s "$work/config.json")},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer_sha\",\"size\":$layer_size}]}"
  mv "$work/config.json" "$work/oci/blobs/sha256/$config_sha"
  printf '%s' "$manifest" >"$work/manifest.json"
  manifest_sha="$(sha256sum "$work/manifest.json" | cut -d' ' -f1)"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_sha" "$(stat -c %s "$work/manifest.json")" "$node_pause_image" "${node_pause_image##*:}" >"$work/oci/index.json"
  mv "$work/manifest.json" "$work/oci/blobs/sha256/$manifest_sha"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  tar -C "$work/oci" -cf "$work/pause.tar" .
  node_ctr images import --no-unpack=false "$work/pause.tar" >/dev/null
  rm -rf "$work"
}

# node_load_image <ref>: copy an image from the local Docker engine into the node's containerd,
# and remember it (the last 3), so that a restarted node gets it again (its store is removed).
node_images_file="$cache_root/real-node-images"
node_load_image() {
  local docker="${DOCKER:-docker}"
  "$docker" save "$1" | node_ctr images import --all-platforms - >/dev/null || return 1
  { { grep -vxF "$1" "$node_images_file" 2>/dev/null || true; } | tail -n 2; echo "$1"; } >"$node_images_file.tmp"
  mv "$node_images_file.tmp" "$node_images_file"
}

# Import again the images loaded before a restart, where Docker (already running) still has them.
node_reload_images() {
  local ref docker
  [[ -s "$node_images_file" ]] || return 0
  docker="$(command -v docker || true)"
  if [[ -z "$docker" ]] || ! timeout 5 "$docker" info >/dev/null 2>&1; then
    nlog "not re-imported (no Docker engine answers): $(tr '\n' ' ' <"$node_images_file")"
    return 0
  fi
  while read -r ref; do
    if timeout 5 "$docker" image inspect "$ref" >/dev/null 2>&1; then
      DOCKER="$docker" node_load_image "$ref" && nlog "re-imported $ref"
    fi
  done < <(cat "$node_images_file")
}

node_start_containerd() {
  mkdir -p "$node_root/containerd" "$node_run/containerd" "$node_root/cni/networks"
  node_start_daemon containerd containerd --config "$node_etc/containerd.toml"
  local i
  for i in $(seq 1 60); do
    ctr --address "$node_sock" version >/dev/null 2>&1 && return 0
    node_daemon_alive containerd || break
    sleep 0.5
  done
  tail -n 20 "$node_logs/containerd.log" >&2
  return 1
}

# --- kubelet, kube-proxy -------------------------------------------------------------------

node_kubelet_config() {
  local ip="$1" dns="$2" c
  # The pods' cgroup root must exist in every controller (cgroup v1, cgroupfs driver).
  for c in /sys/fs/cgroup/*/; do
    [[ "$c" == */unified/ ]] && continue
    mkdir -p "$c$node_cgroup"
  done
  cat >"$node_etc/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 and no systemd: cgroupfs driver, v1 allowed explicitly.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$node_cgroup
containerRuntimeEndpoint: unix://$node_sock
address: $ip
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $node_etc/ca.crt}
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
  mkdir -p "$node_root/kubelet"
  # Its own pool (not "general"): the cluster tests count the general pool as 2 nodes per zone,
  # and the taint keeps it out of every placement that does not ask for it.
  node_start_daemon kubelet "$node_bin_dir/kubelet" --config "$node_etc/kubelet.yaml" \
    --kubeconfig "$node_etc/kubelet.kubeconfig" --root-dir "$node_root/kubelet" \
    --hostname-override "$node_name" --node-ip "$ip" \
    --node-labels "topology.kubernetes.io/zone=$node_zone,topology.kubernetes.io/region=$cluster_name,node.oui.io/pool=real,node.oui.io/real=true" \
    --v=1
}

node_start_kube_proxy() {
  local ip="$1"
  cat >"$node_etc/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: $node_name
bindAddress: $ip
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: $node_pod_cidr
clientConnection: {kubeconfig: $node_etc/kube-proxy.kubeconfig}
# Leave the machine's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
nodePortAddresses: ["$ip/32"]
EOF
  node_start_daemon kube-proxy "$node_bin_dir/kube-proxy" --config "$node_etc/kube-proxy.yaml" --v=1
}

# --- metrics-server ------------------------------------------------------------------------

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
  ports: [{name: https, port: $node_metrics_port, protocol: TCP}]
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
  service: {name: metrics-server, namespace: kube-system, port: $node_metrics_port}
  caBundle: $(base64 -w0 "$node_etc/ca.crt")
EOF
}

node_start_metrics_server() {
  node_metrics_objects | node_kubectl apply --server-side --force-conflicts --field-manager oui-node -f - >/dev/null
  # Scrapes only the real node (kwok nodes have no kubelet to scrape).
  node_start_daemon metrics-server "$node_bin_dir/metrics-server" \
    --kubeconfig "$node_etc/metrics-server.kubeconfig" \
    --authentication-kubeconfig "$node_etc/metrics-server.kubeconfig" \
    --authorization-kubeconfig "$node_etc/metrics-server.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$node_metrics_port" \
    --tls-cert-file "$node_etc/metrics-server-serving.crt" --tls-private-key-file "$node_etc/metrics-server-serving.key" \
    --cert-dir "$node_root/metrics-server" \
    --node-selector node.oui.io/real=true \
    --kubelet-preferred-address-types InternalIP --kubelet-insecure-tls \
    --metric-resolution 15s
}

# --- cluster DNS (CoreDNS on the host) ------------------------------------------------------

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
    nodeName: $node_name
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
  cat >"$node_etc/Corefile" <<EOF
.:53 {
    bind $ip
    errors
    health 127.0.0.1:$node_dns_health
    ready 127.0.0.1:$node_dns_ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $node_etc/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loadbalance
    reload
}
EOF
  node_start_daemon coredns "$node_bin_dir/coredns" -conf "$node_etc/Corefile"
}

# --- up / down -----------------------------------------------------------------------------

# Start the node (or reuse a healthy one). Never fails the cluster start: a node that cannot
# run is reported and skipped, unless OUI_REAL_NODE=1 asks for it explicitly.
node_up() {
  local problem ip dns t0 tk i
  if [[ "${OUI_REAL_NODE:-auto}" == 0 ]]; then
    nlog "skipped: OUI_REAL_NODE=0 (only the simulated kwok nodes)"
    node_down quiet
    return 0
  fi
  problem="$(node_machine_problem)"
  if [[ -n "$problem" ]]; then
    nlog "SKIPPED: this machine cannot run the real node: $problem"
    [[ "${OUI_REAL_NODE:-auto}" != 1 ]] || die "OUI_REAL_NODE=1 but $problem"
    return 0
  fi
  if [[ -f "$node_etc/cluster" && "$(cat "$node_etc/cluster")" != "$state_dir" && -d "$(cat "$node_etc/cluster")" ]] \
    && node_daemon_alive kubelet; then
    nlog "SKIPPED: the real node (one per machine) serves the test cluster at $(cat "$node_etc/cluster")"
    return 0
  fi
  problem="$(node_health_problem)"
  if [[ -z "$problem" ]]; then
    nlog "reusing the running real node $node_name"
    return 0
  fi
  nlog "starting the real node $node_name ($problem before)"
  t0=$(date +%s.%N)
  if ! "$cluster_dir/node/build.sh" >&2; then
    nlog "SKIPPED: the real node's binaries could not be built (above)"
    [[ "${OUI_REAL_NODE:-auto}" != 1 ]] || die "OUI_REAL_NODE=1 but the build failed"
    return 0
  fi
  node_down quiet force
  ip="$(node_ip)"
  mkdir -p "$node_etc" "$node_logs" "$node_pids"
  node_certs
  echo "$state_dir" >"$node_etc/cluster"
  echo "$node_bin_dir" >"$node_etc/bin-dir"
  node_containerd_config
  node_start_containerd || { node_failed "containerd did not start"; return 0; }
  node_import_pause || { node_failed "could not import the pause image"; return 0; }
  node_reload_images
  dns="$(node_dns_service "$ip")" || { node_failed "could not create the kube-dns Service"; return 0; }
  node_start_coredns "$ip"
  node_kubelet_config "$ip" "$dns"
  tk=$(date +%s.%N)
  node_start_kubelet "$ip"
  for i in $(seq 1 120); do
    [[ "$(node_kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]] && break
    node_daemon_alive kubelet || break
    sleep 1
  done
  if [[ "$(node_kubectl get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" != True ]]; then
    tail -n 30 "$node_logs/kubelet.log" >&2
    node_failed "the kubelet did not register a Ready node $node_name"
    return 0
  fi
  # Join time: kubelet start -> Node Ready (what the tests print).
  awk -v a="$tk" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f\n", b-a}' >"$node_root/join-seconds"
  node_start_kube_proxy "$ip"
  node_start_metrics_server
  for i in $(seq 1 60); do
    [[ "$(node_kubectl get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null)" == True ]] && break
    sleep 1
  done
  node_daemon_alive kube-proxy || { tail -n 20 "$node_logs/kube-proxy.log" >&2; node_failed "kube-proxy did not start"; return 0; }
  node_daemon_alive metrics-server || { tail -n 20 "$node_logs/metrics-server.log" >&2; node_failed "metrics-server did not start"; return 0; }
  node_daemon_alive coredns || { tail -n 20 "$node_logs/coredns.log" >&2; node_failed "CoreDNS did not start"; return 0; }
  nlog "real node $node_name joined in $(cat "$node_root/join-seconds") s (kubelet start -> Ready), whole start $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (containerd $(containerd --version | awk '{print $3}'), kubelet and kube-proxy $("$node_bin_dir/kubelet" --version | awk '{print $2}'), pods in $node_pod_cidr on $node_bridge, cluster DNS $dns; logs in $node_logs)"
}

node_failed() {
  nlog "FAILED: $1; the real node is stopped; the kwok nodes are unaffected"
  rm -rf "$cache_root/real-node-failed-logs"
  cp -r "$node_logs" "$cache_root/real-node-failed-logs" 2>/dev/null
  nlog "its logs: $cache_root/real-node-failed-logs"
  node_down quiet force
  [[ "${OUI_REAL_NODE:-auto}" != 1 ]] || die "OUI_REAL_NODE=1 but $1"
}

# Stop every process of the node and remove what it created: pod sandboxes (CNI DEL removes
# their netns, addresses and CNI-* chains), the KUBE-* chains, mounts, the bridge, the
# cgroups, the Node object and the node's directories. Safe on a half-started node.
node_down() {
  # Best effort to the end: one step that fails must not leave the rest behind.
  local -
  set +e +o pipefail
  local quiet="${1:-}" force="${2:-}" d c ns chain table m ipt pass owner
  if [[ ! -d "$node_root" && ! -d "$node_run" ]]; then
    [[ -n "$quiet" ]] || nlog "no real node to stop"
    return 0
  fi
  # One real node per machine: another cache directory's cluster that still exists keeps it.
  owner="$(cat "$node_etc/cluster" 2>/dev/null)"
  if [[ -z "$force" && -n "$owner" && "$owner" != "$state_dir" && -d "$owner" ]]; then
    nlog "left running: the real node belongs to the test cluster at $owner"
    return 0
  fi
  node_stop_daemon coredns
  node_stop_daemon metrics-server
  node_stop_daemon kube-proxy
  node_stop_daemon kubelet
  if node_daemon_alive containerd && [[ -x "$node_bin_dir/crictl" ]]; then
    node_crictl rmp --all --force >/dev/null 2>&1 || true
  fi
  node_stop_daemon containerd
  # Shims whose containerd is gone (they name our socket's directory on their command line).
  for d in $(pgrep -f "containerd-shim-runc-v2 .*-address $node_sock" || true); do
    kill -9 "$d" 2>/dev/null || true
  done
  # kube-proxy's own cleanup removes every KUBE-* chain it created.
  if [[ -x "$node_bin_dir/kube-proxy" ]] && iptables -t nat -S 2>/dev/null | grep -q '^-N KUBE-'; then
    "$node_bin_dir/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  # What CNI DEL could not remove (containerd was already dead): the rules that name this
  # network; then the CNI-* chains left empty or only jumping to each other (the firewall
  # plugin's CNI-FORWARD -> CNI-ADMIN), and the kubelet's own KUBE-* chains (canaries,
  # KUBE-FIREWALL, KUBE-IPTABLES-HINT), which kube-proxy --cleanup does not remove.
  for ipt in iptables ip6tables; do
    for table in mangle nat filter; do
      # (iptables -S prints the bridge plugin's comment as "name: \"oui-node\" id: \"<sandbox>\"")
      "$ipt" -t "$table" -S 2>/dev/null | grep -F "name: \\\"$node_cni_net\\\"" | grep '^-A' | while read -r -a rule; do
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
    if ip netns exec "${ns##*/}" ip -4 -o addr 2>/dev/null | grep -qF " ${node_pod_cidr%.*}."; then
      ip netns delete "${ns##*/}" 2>/dev/null || true
    fi
  done
  # Mounts under the node's directories (overlay rootfs, shm, secrets, netns), deepest first.
  awk '{print $5}' /proc/self/mountinfo | grep -E "^($node_root|$node_run)(/|\$)" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  ip link del "$node_bridge" 2>/dev/null || true
  # The pods' cgroups, deepest first.
  for c in /sys/fs/cgroup/*/"$node_cgroup"; do
    [[ -d "$c" ]] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  if [[ -f "$kubeconfig" ]]; then
    node_kubectl delete node "$node_name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    node_kubectl delete apiservice v1beta1.metrics.k8s.io --ignore-not-found >/dev/null 2>&1 || true
    node_kubectl -n kube-system delete endpointslice kube-dns-oui-node --ignore-not-found >/dev/null 2>&1 || true
  fi
  rm -rf "$node_run" "$node_root"
  [[ -n "$quiet" ]] || nlog "real node $node_name stopped; its sandboxes, netns, iptables chains, mounts, bridge and cgroups removed"
}
