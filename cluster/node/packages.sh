# shellcheck shell=bash
# Step "packages" of the real node: what the machine must have. The Debian packages it lacks are
# installed (image/apt-install.sh, as `make docker-engine` installs docker.io) and named; what
# no package gives (root, a cgroup v1 hierarchy) is reported with the evidence.
# shellcheck source=cluster/node/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# What the node runs, as "file-or-command package" pairs (Debian bookworm's packages).
NODE_PACKAGES=(
  "containerd containerd" "containerd-shim-runc-v2 containerd" "ctr containerd" "runc runc"
  "iptables iptables" "ip iproute2" "ss iproute2" "openssl openssl"
  "$OUI_NODE_CNI_BIN/bridge containernetworking-plugins" "$OUI_NODE_CNI_BIN/host-local containernetworking-plugins"
  "$OUI_NODE_CNI_BIN/loopback containernetworking-plugins" "$OUI_NODE_CNI_BIN/portmap containernetworking-plugins"
  "$OUI_NODE_CNI_BIN/firewall containernetworking-plugins"
)

node_has() { if [[ "$1" == /* ]]; then [[ -x "$1" ]]; else command -v "$1" >/dev/null 2>&1; fi; }

# Empty output = nothing is missing that a package could not give; otherwise why, with evidence.
node_machine_problem() {
  local c
  [[ "$(id -u)" == 0 ]] || { echo "not root (id -u = $(id -u)): containerd, the kubelet and kube-proxy need root"; return; }
  [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == tmpfs ]] \
    || { echo "/sys/fs/cgroup is not a cgroup v1 hierarchy (stat -fc %T /sys/fs/cgroup: $(stat -fc %T /sys/fs/cgroup 2>&1)); this node is set up for cgroup v1 + cgroupfs"; return; }
  for c in cpu cpuacct cpuset memory pids devices freezer; do
    [[ -d "/sys/fs/cgroup/$c" ]] || { echo "cgroup v1 controller '$c' is not mounted at /sys/fs/cgroup/$c (mounted: $(echo /sys/fs/cgroup/*))"; return; }
  done
  [[ -n "$(host_ip)" ]] || { echo "no IPv4 default route (ip -4 route: $(ip -4 route 2>&1 | head -3 | tr '\n' ';')): the kubelet needs a node IP"; return; }
  return 0
}

# Install the missing packages; say which, with their versions. Fails (with apt's output) when
# they cannot be installed.
node_step_packages() {
  local pair file pkg first="" missing=() installed=()
  for pair in "${NODE_PACKAGES[@]}"; do
    read -r file pkg <<<"$pair"
    node_has "$file" && continue
    first="${first:-$file}"
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [[ -n "$first" ]] || return 0
  nlog "installing from Debian what the real node needs and this machine lacks: ${missing[*]}"
  # Without the cluster lock's fd 9: a package's maintainer script may start a daemon.
  bash "$OUI_REPO/image/apt-install.sh" "$first" "${missing[@]}" 9>&- || return 1
  for pair in "${NODE_PACKAGES[@]}"; do
    read -r file pkg <<<"$pair"
    node_has "$file" || { nlog "$file is still missing after installing $pkg"; return 1; }
  done
  for pkg in "${missing[@]}"; do installed+=("$pkg $(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null)"); done
  nlog "installed: $(printf '%s, ' "${installed[@]}" | sed 's/, $//')"
}
