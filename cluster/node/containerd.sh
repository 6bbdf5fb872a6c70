# shellcheck shell=bash
# Step "containerd" of the real node (cluster/node/up.sh runs the steps in order): containerd's
# own instance (config, root, state and socket under the node's directories; Docker's containerd
# is never touched), the CNI configuration, the pause image (the builder's image of the component
# pause: containerd's sandbox_image) and the images loaded before a restart.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_containerd_config() { # <sandbox image>
  cat >"$OUI_NODE_ETC/containerd.toml" <<EOF
# containerd for the real test node: its own root, state and socket, never Docker's.
version = 2
root = "$OUI_NODE_ROOT/containerd"
state = "$OUI_NODE_RUN/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$OUI_NODE_SOCK"
[ttrpc]
  address = "$OUI_NODE_RUN/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$OUI_NODE_ROOT/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$1"
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
        Root = "$OUI_NODE_RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$OUI_NODE_CNI_BIN"
    conf_dir = "$OUI_NODE_ETC/cni"
    max_conf_num = 1
EOF
  mkdir -p "$OUI_NODE_ETC/cni"
  # bridge + host-local + portmap, and firewall so that pod traffic is accepted even where
  # Docker set the FORWARD policy to DROP; loopback is set up by the CRI itself.
  cat >"$OUI_NODE_ETC/cni/10-oui-node.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$OUI_NODE_CNI_NET",
  "plugins": [
    {"type": "bridge", "bridge": "$OUI_NODE_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$OUI_NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$OUI_NODE_ROOT/cni/networks"}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "firewall"}
  ]
}
EOF
}

# Import again the images loaded before a restart: image archives from the cache, and Docker
# images where an engine (already running) still has them.
node_reload_images() {
  local ref docker=""
  [[ -s "$OUI_NODE_IMAGES" ]] || return 0
  if command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then docker="$(command -v docker)"; fi
  while read -r ref; do
    if [[ -f "$ref" ]]; then
      node_load_image "$ref" && nlog "re-imported $ref"
    elif [[ -n "$docker" ]] && timeout 5 "$docker" image inspect "$ref" >/dev/null 2>&1; then
      DOCKER="$docker" node_load_image "$ref" && nlog "re-imported $ref"
    else
      nlog "not re-imported (neither an archive nor an image of a Docker engine that answers): $ref"
    fi
  done < <(cat "$OUI_NODE_IMAGES")
}

node_start_containerd() {
  mkdir -p "$OUI_NODE_ROOT/containerd" "$OUI_NODE_RUN/containerd" "$OUI_NODE_ROOT/cni/networks"
  node_start_daemon containerd containerd --config "$OUI_NODE_ETC/containerd.toml"
  local i
  for i in $(seq 1 60); do
    ctr --address "$OUI_NODE_SOCK" version >/dev/null 2>&1 && return 0
    node_daemon_alive containerd || break
    sleep 0.5
  done
  tail -n 20 "$OUI_NODE_LOGS/containerd.log" >&2
  return 1
}

# node_step_containerd <pause image ref> <pause image archive>
node_step_containerd() {
  node_containerd_config "$1"
  node_start_containerd || { nlog "containerd did not start"; return 1; }
  node_ctr images import --all-platforms "$2" >/dev/null || { nlog "could not import the pause image $2"; return 1; }
  node_reload_images
}
