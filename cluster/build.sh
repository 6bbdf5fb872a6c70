#!/usr/bin/env bash
# Build the test cluster's binaries from their upstream Go modules, once per machine.
#
#   cluster/build.sh [--print-bin-dir] [component...]
#
# Components: kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl), etcd, kwok (kwok, kwokctl), helm (helm + the helm-diff plugin).
# Without arguments every component is built.
#
# Outputs go OUTSIDE the repository, under ${OUI_CACHE_DIR:-~/.cache/oui-platform}/cluster:
#   build-<key>/bin/          the binaries (key = hash of this script + cluster/modules/**)
#   build-<key>/timings.tsv   binary, seconds, minutes, cold|warm (was the Go cache empty?)
#   build-<key>/build.log     full go output of every build
#   build-<key>/helm-plugins/ the helm-diff plugin (HELM_PLUGINS points here)
#   gocache/ gomod/           the Go build and module caches (shared between keys)
# A binary already present is not rebuilt, so only the first run on a machine pays.
# --print-bin-dir prints the bin directory and builds nothing.
# The versions are pinned in cluster/modules/*/go.mod and must equal vars/versions.yml:
# a mismatch stops the build (one diff upgrades everything).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
modules="$here/modules"
cache_root="${OUI_CACHE_DIR:-$HOME/.cache/oui-platform}/cluster"

die() { echo "cluster/build.sh: ERROR: $*" >&2; exit 1; }
log() { echo "[cluster-build $(date -u +%H:%M:%S)] $*" >&2; }

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.26 (https://go.dev/dl) to build the test cluster"

# The key covers everything that decides what gets built: this script and the wrapper modules.
build_key() {
  (cd "$here" && cat build.sh && find modules -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | LC_ALL=C sort | xargs cat) \
    | sha256sum | cut -c1-12
}
key="$(build_key)"
out="$cache_root/build-$key"
bin="$out/bin"

if [[ "${1:-}" == "--print-bin-dir" ]]; then
  echo "$bin"
  exit 0
fi

# Read one pinned version from vars/versions.yml (flat `  name: "x.y.z"` lines).
pinned() {
  sed -n "s/^  $1: \"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$repo/vars/versions.yml" | head -1
}
# The version a wrapper module requires for a module path.
required() {
  awk -v m="$2" '$1 == "require" && $2 == m {print $3} $1 == m {print $2}' "$modules/$1/go.mod" | head -1
}
check_pin() { # component module-dir module-path versions-key
  local want got
  want="v$(pinned "$4")"
  got="$(required "$2" "$3")"
  [[ "$want" == "$got" ]] || die "$1: vars/versions.yml pins $4=${want#v} but cluster/modules/$2/go.mod requires $3 $got; update both together"
}

export GOCACHE="$cache_root/gocache" GOMODCACHE="$cache_root/gomod" GOFLAGS="-mod=readonly" CGO_ENABLED=0
# Parallelism of the compiler (defaults to every core; OUI_BUILD_PROCS lowers it).
export GOMAXPROCS="${OUI_BUILD_PROCS:-$(nproc)}"
# A build into an empty Go build cache is "cold": it compiles every package from scratch.
cache_mode=warm
[[ -n "$(ls -A "$GOCACHE" 2>/dev/null)" ]] || cache_mode=cold
mkdir -p "$bin" "$GOCACHE" "$GOMODCACHE"
touch "$out/timings.tsv"
build_started=$(date +%s)

# build <module-dir> <output-name> <package> [ldflags...]
build() {
  local dir="$1" name="$2" pkg="$3"
  shift 3
  if [[ -x "$bin/$name" ]]; then
    log "$name: cached ($bin/$name)"
    return 0
  fi
  log "$name: building $pkg ..."
  local t0 t1 secs
  t0=$(date +%s)
  # A heartbeat, so that a long compile is visibly alive.
  (while sleep 60; do log "$name: still building, $((($(date +%s) - t0) / 60)) min"; done) &
  local ticker=$!
  if ! (cd "$modules/$dir" && go build -trimpath -ldflags "-s -w $*" -o "$bin/.$name.tmp" "$pkg") >>"$out/build.log" 2>&1; then
    kill "$ticker" 2>/dev/null || true
    echo "---- last lines of $out/build.log ----" >&2
    tail -n 30 "$out/build.log" >&2
    die "$name: go build failed (full log: $out/build.log)"
  fi
  kill "$ticker" 2>/dev/null || true
  mv "$bin/.$name.tmp" "$bin/$name"
  t1=$(date +%s)
  secs=$((t1 - t0))
  printf '%s\t%s\t%s\t%s\n' "$name" "$secs" "$(awk -v s="$secs" 'BEGIN{printf "%.1f", s/60}')" "$cache_mode" \
    >>"$out/timings.tsv"
  log "$name: built in $(awk -v s="$secs" 'BEGIN{printf "%.1f", s/60}') min"
}

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

build_kubernetes() {
  local v major minor flags p
  v="$(required kubernetes k8s.io/kubernetes)"
  check_pin kubernetes kubernetes k8s.io/kubernetes kubernetes
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  # Stamp what `kubectl version` and the API server's /version report. gitCommit is left
  # empty: the module zip carries no commit, and we do not invent one. gitTreeState
  # "archive" is what upstream's hack/lib/version.sh uses for builds from a source archive.
  flags=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=archive -X $p.buildDate=$build_date"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    build kubernetes "$c" "k8s.io/kubernetes/cmd/$c" "$flags"
  done
}

build_etcd() {
  local v
  v="$(required etcd go.etcd.io/etcd/server/v3)"
  check_pin etcd etcd go.etcd.io/etcd/server/v3 etcd
  build etcd etcd oui.io/platform/cluster/etcd
}

build_kwok() {
  local v flags
  v="$(required kwok sigs.k8s.io/kwok)"
  check_pin kwok kwok sigs.k8s.io/kwok kwok
  flags="-X sigs.k8s.io/kwok/pkg/consts.Version=$v"
  build kwok kwok sigs.k8s.io/kwok/cmd/kwok "$flags"
  build kwok kwokctl sigs.k8s.io/kwok/cmd/kwokctl "$flags"
}

# helm-diff is built from its own source tree (its go.mod and go.sum), pinned by version and
# by the commit of its release tag. The source comes from, in order: OUI_HELM_DIFF_SRC (a
# directory), the copy kept in the cache, or the Go module proxy. (The proxy this project's
# machines use refuses github.com/databus23/helm-diff/v3, see docs/testing.md.)
helm_diff_commit="d01cb21d1bd4c102e8eeaa69d456af9934739d84" # tag v3.15.11

helm_diff_source() {
  local v="$1" src dl
  for src in "${OUI_HELM_DIFF_SRC:-}" "$cache_root/src/helm-diff-v$v"; do
    [[ -n "$src" && -f "$src/go.mod" ]] || continue
    grep -q '^module github.com/databus23/helm-diff/v3$' "$src/go.mod" \
      || die "$src is not the helm-diff source (go.mod names another module)"
    grep -q "^version: \"$v\"" "$src/plugin.yaml" \
      || die "$src is not helm-diff $v (plugin.yaml: $(grep '^version' "$src/plugin.yaml"))"
    echo "$src"
    return 0
  done
  if dl="$(GOFLAGS=-mod=mod go mod download -json "github.com/databus23/helm-diff/v3@v$v" 2>/dev/null)"; then
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$dl"
    return 0
  fi
  echo "build: WARNING helm-diff $v: no source. The Go module proxy refused github.com/databus23/helm-diff/v3@v$v;
  the cluster is built without it, and the tests that need it (Helm releases) are skipped with this reason.
  To build it, put a checkout of tag v$v (commit $helm_diff_commit) in $cache_root/src/helm-diff-v$v
  or point OUI_HELM_DIFF_SRC at one, e.g.: git -C <helm-diff clone> archive --prefix=helm-diff-v$v/ $helm_diff_commit | tar -x -C $cache_root/src" >&2
  return 1
}

build_helm() {
  local hv dv src pd
  hv="$(required helm helm.sh/helm/v4)"
  check_pin helm helm helm.sh/helm/v4 helm
  build helm helm helm.sh/helm/v4/cmd/helm \
    "-X helm.sh/helm/v4/internal/version.version=$hv -X helm.sh/helm/v4/internal/version.gitTreeState=archive"
  dv="$(pinned helm_diff)"
  pd="$out/helm-plugins/diff"
  if [[ ! -x "$pd/bin/diff" ]]; then
    src="$(helm_diff_source "$dv")" || return 0
    modules="$(dirname "$src")" build "$(basename "$src")" helm-diff . \
      "-X github.com/databus23/helm-diff/v3/cmd.Version=$dv"
    # The plugin directory helm loads (HELM_PLUGINS=$out/helm-plugins); the install hooks
    # of plugin.yaml (which download a release) never run: the binary is already in place.
    mkdir -p "$pd/bin"
    cp "$src/plugin.yaml" "$pd/plugin.yaml"
    cp "$bin/helm-diff" "$pd/bin/diff"
  fi
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(kubernetes etcd kwok helm)
log "building ${components[*]} into $bin (cache $cache_root, GOMAXPROCS=$GOMAXPROCS)"
for c in "${components[@]}"; do
  case "$c" in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    helm) build_helm ;;
    *) die "unknown component '$c' (kubernetes, etcd, kwok, helm)" ;;
  esac
done
log "done in $(awk -v s="$(($(date +%s) - build_started))" 'BEGIN{printf "%.1f", s/60}') min; binaries in $bin"
echo "$bin"
