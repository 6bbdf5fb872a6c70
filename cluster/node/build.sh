#!/usr/bin/env bash
# Build the real node's binaries, once per machine (issue 9).
#
#   cluster/node/build.sh [--print-bin-dir] [component...]
#
# Components:
#   node            kubelet and kube-proxy, from the SAME k8s.io/kubernetes module (and so the
#                   same version) as the control plane. The wrapper module cluster/node/modules/
#                   kubernetes has the requires and replaces of cluster/modules/kubernetes (left
#                   untouched: its hash keys the shared cluster's build) and a go.sum that also
#                   covers what only kubelet and kube-proxy import.
#   metrics-server  sigs.k8s.io/metrics-server, from its own module at the pinned version.
#   coredns         CoreDNS with the plugins cluster DNS needs (wrapper module cluster/node/
#                   modules/coredns), at the pinned version: the cluster's DNS, run on the host.
#   crictl          sigs.k8s.io/cri-tools, from its own module at the pinned version (teardown
#                   and debugging through the CRI).
#   pause           the pod sandbox's pause binary: build/pause/linux/pause.c of the same
#                   k8s.io/kubernetes module, compiled with gcc -static (the image is FROM scratch).
# Without arguments every component is built.
#
# Outputs go OUTSIDE the repository, under ${OUI_CACHE_DIR:-~/.cache/oui-platform}/cluster:
#   node-<key>/bin/          the binaries (key = hash of this script + its wrapper module)
#   node-<key>/timings.tsv   binary, seconds, minutes
#   node-<key>/build.log     full output of every build
# The Go build and module caches are the test cluster's (gocache/, gomod/), so kubelet and
# kube-proxy reuse the packages cluster/build.sh already compiled. This script never changes
# cluster/build.sh's key.
# The versions must equal vars/versions.yml (kubernetes, metrics_server, cri_tools, coredns):
# a mismatch stops it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cluster="$(cd "$here/.." && pwd)"
repo="$(cd "$cluster/.." && pwd)"
cache_root="${OUI_CACHE_DIR:-$HOME/.cache/oui-platform}/cluster"

die() { echo "cluster/node/build.sh: ERROR: $*" >&2; exit 1; }
log() { echo "[node-build $(date -u +%H:%M:%S)] $*" >&2; }

build_key() {
  (cd "$here" && cat build.sh && find modules -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-12
}
key="$(build_key)"
out="$cache_root/node-$key"
bin="$out/bin"

if [[ "${1:-}" == "--print-bin-dir" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.26 to build the real node"

pinned() {
  sed -n "s/^  $1: \"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$repo/vars/versions.yml" | head -1
}
required() {
  awk -v m="$2" '$1 == "require" && $2 == m {print $3} $1 == m {print $2}' "$here/modules/$1/go.mod" | head -1
}

export GOCACHE="$cache_root/gocache" GOMODCACHE="$cache_root/gomod" GOFLAGS="-mod=readonly" CGO_ENABLED=0
export GOMAXPROCS="${OUI_BUILD_PROCS:-$(nproc)}"
mkdir -p "$bin" "$GOCACHE" "$GOMODCACHE"
touch "$out/timings.tsv"
started=$(date +%s)

# timed <name> <command...>: run a build step unless $bin/<name> exists; record its time.
timed() {
  local name="$1" t0 secs
  shift
  if [[ -x "$bin/$name" ]]; then
    log "$name: cached ($bin/$name)"
    return 0
  fi
  log "$name: building ..."
  t0=$(date +%s)
  (while sleep 60; do log "$name: still building, $((($(date +%s) - t0) / 60)) min"; done) &
  local ticker=$!
  if ! "$@" >>"$out/build.log" 2>&1; then
    kill "$ticker" 2>/dev/null || true
    echo "---- last lines of $out/build.log ----" >&2
    tail -n 30 "$out/build.log" >&2
    die "$name: build failed (full log: $out/build.log)"
  fi
  kill "$ticker" 2>/dev/null || true
  mv "$bin/.$name.tmp" "$bin/$name"
  secs=$(($(date +%s) - t0))
  printf '%s\t%s\t%s\n' "$name" "$secs" "$(awk -v s="$secs" 'BEGIN{printf "%.1f", s/60}')" >>"$out/timings.tsv"
  log "$name: built in $(awk -v s="$secs" 'BEGIN{printf "%.1f", s/60}') min"
}

k8s_version() {
  local v
  v="$(required kubernetes k8s.io/kubernetes)"
  [[ "$v" == "v$(pinned kubernetes)" ]] \
    || die "vars/versions.yml pins kubernetes=$(pinned kubernetes) but cluster/node/modules/kubernetes/go.mod requires k8s.io/kubernetes $v"
  echo "$v"
}

go_build_k8s() { # name package ldflags
  (cd "$here/modules/kubernetes" && nice -n 10 go build -trimpath -ldflags "-s -w $3" -o "$bin/.$1.tmp" "$2")
}

build_node() {
  local v major minor flags p c
  v="$(k8s_version)"
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  # The same version stamp as cluster/build.sh gives the control plane (no invented commit).
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  flags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=archive -X $p.buildDate=$build_date"
  done
  for c in kubelet kube-proxy; do
    timed "$c" go_build_k8s "$c" "k8s.io/kubernetes/cmd/$c" "$flags"
  done
}

# A program built from its own module at a version (its go.mod and go.sum decide its dependencies):
#   go_install_tool <binary> <package> <version> <ldflags variable that gets v<version>>
go_install_tool() {
  local name="$1" pkg="$2" v="$3" var="$4" tmp
  tmp="$(mktemp -d)"
  GOBIN="$tmp" nice -n 10 go install -trimpath -ldflags "-s -w -X $var=v$v" "$pkg@v$v"
  mv "$tmp/$name" "$bin/.$name.tmp"
  rmdir "$tmp"
}

build_metrics_server() {
  local v
  v="$(pinned metrics_server)"
  [[ -n "$v" ]] || die "vars/versions.yml has no metrics_server pin"
  timed metrics-server go_install_tool metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server "$v" \
    k8s.io/client-go/pkg/version.gitVersion
}

build_coredns() {
  local v
  v="$(required coredns github.com/coredns/coredns)"
  [[ "$v" == "v$(pinned coredns)" ]] \
    || die "vars/versions.yml pins coredns=$(pinned coredns) but cluster/node/modules/coredns/go.mod requires $v"
  go_build_coredns() {
    (cd "$here/modules/coredns" && nice -n 10 go build -trimpath \
      -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=" -o "$bin/.coredns.tmp" .)
  }
  timed coredns go_build_coredns
}

build_crictl() {
  local v
  v="$(pinned cri_tools)"
  [[ -n "$v" ]] || die "vars/versions.yml has no cri_tools pin"
  timed crictl go_install_tool crictl sigs.k8s.io/cri-tools/cmd/crictl "$v" sigs.k8s.io/cri-tools/pkg/version.Version
}

build_pause() {
  local v src
  v="$(k8s_version)"
  command -v gcc >/dev/null 2>&1 || die "pause: no gcc (apt-get install gcc libc6-dev)"
  src="$(cd "$here/modules/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  [[ -f "$src" ]] || die "pause: $src not found in the k8s.io/kubernetes $v module"
  # As upstream's build/pause/Makefile: static, with the version compiled in.
  timed pause gcc -Os -Wall -Werror -static -DVERSION="$v-oui" -o "$bin/.pause.tmp" "$src"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(node metrics-server coredns crictl pause)
log "building ${components[*]} into $bin (cache $cache_root, GOMAXPROCS=$GOMAXPROCS)"
for c in "${components[@]}"; do
  case "$c" in
    node) build_node ;;
    metrics-server) build_metrics_server ;;
    coredns) build_coredns ;;
    crictl) build_crictl ;;
    pause) build_pause ;;
    *) die "unknown component '$c' (node, metrics-server, coredns, crictl, pause)" ;;
  esac
done
log "done in $(awk -v s="$(($(date +%s) - started))" 'BEGIN{printf "%.1f", s/60}') min; binaries in $bin"
echo "$bin"
