#!/usr/bin/env bash
# Builds (once per machine) promtool from the Prometheus Go module at the version vars/versions.yml
# pins (platform_versions.promtool), into a cache outside the repository, and prints its path.
#
#   tests/alerts/promtool.sh                   # build if missing, print the binary's path
#   tests/alerts/promtool.sh test rules x.yml  # build if missing, run promtool with these arguments
#
# Prometheus 3.x is published as the module github.com/prometheus/prometheus v0.3NN.0; the script
# checks that the module's VERSION file is the matching 3.NN.0 and stamps that version into the
# binary the way upstream's .promu.yml does (github.com/prometheus/common/version).
# Build tags: netgo as upstream; remove_all_sd leaves out the service-discovery plugins (AWS, Azure,
# GCE, ...), which rule checks and rule unit tests never use, to keep a cold build short on a
# shared machine. The rule engine and PromQL are the same packages upstream ships.
# The cache key includes this script's hash and the Go version, so a change of either rebuilds.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
module=github.com/prometheus/prometheus

version=$(sed -n 's/^  promtool: "\(v[0-9.]*\)"$/\1/p' "$repo/vars/versions.yml")
[[ "$version" =~ ^v0\.([0-9])([0-9]{2})\.([0-9]+)$ ]] || {
  echo "promtool: vars/versions.yml must pin platform_versions.promtool as \"v0.3NN.P\" (found '${version}')" >&2; exit 1; }
prometheus="${BASH_REMATCH[1]}.$((10#${BASH_REMATCH[2]})).${BASH_REMATCH[3]}"

command -v go >/dev/null || {
  echo "promtool: no Go toolchain on PATH; install Go (Debian: golang) to build promtool $prometheus" >&2; exit 1; }
key=$(printf '%s\n' "$(sha256sum "$0")" "$(go env GOVERSION)" | sha256sum | cut -c1-12)
bin_dir="$cache/bin/promtool-$prometheus-$key"
bin="$bin_dir/promtool"

if [ ! -x "$bin" ]; then
  echo "promtool: building Prometheus $prometheus (module $module@$version) once per machine into $bin_dir" >&2
  start=$(date +%s)
  dir=$(go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  if [ -z "$dir" ] || [ ! -f "$dir/VERSION" ]; then
    echo "promtool: go mod download $module@$version gave no module directory" >&2; exit 1
  fi
  found=$(tr -d '[:space:]' <"$dir/VERSION")
  [ "$found" = "$prometheus" ] || {
    echo "promtool: $module@$version has VERSION $found, not $prometheus; fix platform_versions.promtool" >&2; exit 1; }
  rm -rf "$bin_dir.tmp" && mkdir -p "$bin_dir.tmp"
  # Built inside the module so that its own go.mod and go.sum pin every dependency (GOWORK=off: the
  # module ships a go.work naming directories the module zip leaves out).
  (cd "$dir" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly nice -n 10 go build -trimpath -tags netgo,remove_all_sd \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$prometheus
              -X github.com/prometheus/common/version.Branch=module-$version
              -X github.com/prometheus/common/version.BuildUser=oui-platform" \
    -o "$bin_dir.tmp/promtool" ./cmd/promtool)
  rm -rf "$bin_dir" && mv "$bin_dir.tmp" "$bin_dir"
  echo "promtool: built in $(( $(date +%s) - start ))s" >&2
fi

if [ $# -eq 0 ]; then
  echo "$bin"
  exit 0
fi
exec "$bin" "$@"
