#!/usr/bin/env bash
# Install Debian packages that a tool here needs, when a command (or a file) is missing:
#   image/apt-install.sh COMMAND PACKAGE...      e.g. apt-install.sh shellcheck shellcheck
#   image/apt-install.sh /ABSOLUTE/PATH PACKAGE... e.g. apt-install.sh /usr/lib/cni/bridge containernetworking-plugins
# Tries without `apt-get update` first (the lists may be fresh), then updates once and retries.
set -euo pipefail
cmd=${1:?usage: apt-install.sh COMMAND PACKAGE...}; shift
has() { if [[ "$cmd" == /* ]]; then [ -e "$cmd" ]; else command -v "$cmd" >/dev/null 2>&1; fi; }
has && exit 0
[ "$(id -u)" -eq 0 ] || { echo "apt-install: $cmd is missing and we are not root (apt-get install $*)" >&2; exit 1; }
echo "apt-install: installing $* for $cmd" >&2
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600)
"${apt[@]}" install -y -qq --no-install-recommends "$@" >&2 \
  || { "${apt[@]}" update -qq >&2 && "${apt[@]}" install -y -qq --no-install-recommends "$@" >&2; }
has || { echo "apt-install: $cmd still missing after installing $*" >&2; exit 1; }
