# shellcheck shell=bash disable=SC2034 # a table of names: the scripts that source it use them
# Every path, name and port of the test bed, in one place. Sourced by the scripts of cluster/,
# cluster/node/ and backup/; `bash cluster/paths.sh` prints them as KEY=value lines for the
# tests (tests/testbed.py) and for anyone curious. Depends on nothing.
#
# Tunables (environment): OUI_CACHE_DIR (else $XDG_CACHE_HOME/oui-platform, else
# ~/.cache/oui-platform), OUI_CLUSTER_API_PORT, OUI_BACKUP_S3_PORT, OUI_BACKUP_METRICS_PORT,
# OUI_CHART_MIRROR_PORT, OUI_SHARED_DIR (see cluster/build.py). Everything else here is fixed.

OUI_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUI_CACHE_DIR="${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}"

# The builder (cluster/build.py, cluster/components.yml): Go caches shared by every component,
# one output directory per component and key, the sources extracted from archives.
OUI_GOCACHE="$OUI_CACHE_DIR/cluster/gocache"
OUI_GOMODCACHE="$OUI_CACHE_DIR/cluster/gomod"
OUI_COMPONENTS_DIR="$OUI_CACHE_DIR/components"
OUI_SRC_DIR="$OUI_CACHE_DIR/src"

# The control plane (kwokctl keeps each cluster under $KWOK_WORKDIR/clusters/<name>).
OUI_CLUSTER_NAME="oui-local"
OUI_CLUSTER_CACHE="$OUI_CACHE_DIR/cluster"
OUI_KWOK_WORKDIR="$OUI_CLUSTER_CACHE/kwok"
OUI_CLUSTER_STATE="$OUI_KWOK_WORKDIR/clusters/$OUI_CLUSTER_NAME"
OUI_KUBECONFIG="$OUI_CLUSTER_STATE/kubeconfig.yaml"
OUI_CLUSTER_LOCK="$OUI_CLUSTER_CACHE/cluster.lock"
OUI_CLUSTER_API_PORT="${OUI_CLUSTER_API_PORT:-16443}"

# The real node: one per machine, outside the cache (root's directories).
OUI_NODE_NAME="oui-real-a"
OUI_NODE_ZONE="a"
OUI_NODE_ROOT="/var/lib/oui-node"
OUI_NODE_RUN="/run/oui-node"
OUI_NODE_ETC="$OUI_NODE_ROOT/etc"
OUI_NODE_LOGS="$OUI_NODE_ROOT/logs"
OUI_NODE_PIDS="$OUI_NODE_ROOT/pids"
OUI_NODE_SOCK="$OUI_NODE_RUN/containerd/containerd.sock"
OUI_NODE_BRIDGE="oui-cni0"
OUI_NODE_POD_CIDR="10.88.0.0/24"
OUI_NODE_CGROUP="oui-node"
OUI_NODE_CNI_BIN="/usr/lib/cni"
OUI_NODE_CNI_NET="oui-node"
OUI_NODE_IMAGES="$OUI_CLUSTER_CACHE/real-node-images"
OUI_NODE_FAILED_LOGS="$OUI_CLUSTER_CACHE/real-node-failed-logs"
# CoreDNS on the node IP, port 53, its health and readiness on loopback.
OUI_NODE_DNS_HEALTH_PORT=18080
OUI_NODE_DNS_READY_PORT=18181
# The kubelet's, kube-proxy's ports (checked free before the node starts).
OUI_NODE_PORTS="10250 10248 10249 10256 $OUI_NODE_DNS_HEALTH_PORT $OUI_NODE_DNS_READY_PORT 53"

# The outside world the platform meets on the test cluster (cluster/platform/): the chart mirror
# on loopback, the ingress address and the DNS zone the node's CoreDNS answers with it, the ACME
# test server (Pebble, a pod on the real node), the images of the platform's add-ons in the
# node's containerd, and a source address outside every allow-list (a network namespace).
OUI_PLATFORM_RUN="$OUI_CACHE_DIR/platform"
OUI_CHART_MIRROR_PORT="${OUI_CHART_MIRROR_PORT:-8879}"
OUI_INGRESS_DOMAIN="oui.localtest.me"
OUI_PEBBLE_NAMESPACE="pebble"
OUI_DENIED_NETNS="oui-denied"
OUI_DENIED_VETH="oui-deny"
OUI_DENIED_SOURCE_ADDRESS="198.51.100.2"
OUI_DENIED_GATEWAY="198.51.100.1"

# The local backup stack (backup/): moto's S3 and a velero server on loopback.
OUI_BACKUP_RUN="$OUI_CACHE_DIR/backup/run"
OUI_BACKUP_S3_PORT="${OUI_BACKUP_S3_PORT:-5311}"
OUI_BACKUP_METRICS_PORT="${OUI_BACKUP_METRICS_PORT:-8385}"
OUI_BACKUP_BUCKET="oui-local-backups"
OUI_BACKUP_NAMESPACE="velero"

# Names printed by cluster/paths.sh, in this order.
OUI_PATH_NAMES=(OUI_REPO OUI_CACHE_DIR OUI_GOCACHE OUI_GOMODCACHE OUI_COMPONENTS_DIR OUI_SRC_DIR
  OUI_CLUSTER_NAME OUI_CLUSTER_CACHE OUI_KWOK_WORKDIR OUI_CLUSTER_STATE OUI_KUBECONFIG OUI_CLUSTER_LOCK
  OUI_CLUSTER_API_PORT OUI_NODE_NAME OUI_NODE_ZONE OUI_NODE_ROOT OUI_NODE_RUN OUI_NODE_ETC OUI_NODE_LOGS
  OUI_NODE_PIDS OUI_NODE_SOCK OUI_NODE_BRIDGE OUI_NODE_POD_CIDR OUI_NODE_CGROUP OUI_NODE_CNI_BIN
  OUI_NODE_CNI_NET OUI_NODE_IMAGES OUI_NODE_FAILED_LOGS OUI_NODE_DNS_HEALTH_PORT
  OUI_NODE_DNS_READY_PORT OUI_NODE_PORTS OUI_PLATFORM_RUN OUI_CHART_MIRROR_PORT OUI_INGRESS_DOMAIN
  OUI_PEBBLE_NAMESPACE OUI_DENIED_NETNS OUI_DENIED_VETH OUI_DENIED_SOURCE_ADDRESS OUI_DENIED_GATEWAY OUI_BACKUP_RUN OUI_BACKUP_S3_PORT OUI_BACKUP_METRICS_PORT
  OUI_BACKUP_BUCKET OUI_BACKUP_NAMESPACE)
