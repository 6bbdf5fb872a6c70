#!/usr/bin/env bash
# A component's image, built from source by the builder (outputs.image of its row in
# cluster/components.yml: one static binary in a minimal non-root OCI image), then loaded where
# pods and containers can use it: the real node's containerd when it runs, and Docker when an
# engine answers. Prints KEY=value lines for each component, in order:
#   IMAGE_REF=localhost/oui/<component>:<version>   IMAGE_ID=...   IMAGE_ARCHIVE=<cache>/.../image.tar
#   LOADED=containerd,docker (where it went; empty when nowhere runs)
# Charts use it as a site with a private registry mirror would: image.repository=${ref%:*},
# image.tag=${ref##*:}, pullPolicy IfNotPresent (or Never).
#   cluster/image.sh <component>...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUI_LOG_TAG=image
# shellcheck source=cluster/lib/paths.sh
source "$here/lib/paths.sh"
# shellcheck source=cluster/lib/common.sh
source "$here/lib/common.sh"
(($# > 0)) || oui_die "usage: cluster/image.sh <component>... (the rows of cluster/components.yml with outputs.image)"

for component in "$@"; do
  info="$("$here/build.sh" info "$component")"
  archive="$(kv IMAGE_ARCHIVE <<<"$info")"
  ref="$(kv IMAGE_REF <<<"$info")"
  [[ -n "$archive" ]] || oui_die "$component has no image (outputs.image in cluster/components.yml)"
  loaded=()
  if ctr --address "$OUI_NODE_SOCK" version >/dev/null 2>&1; then
    bash "$here/node/load-image.sh" "$archive"
    loaded+=(containerd)
  fi
  # Debian's client first (the one that matches Debian's engine, as image/docker-engine.sh does).
  docker="$(if [[ -x /usr/bin/docker ]]; then echo /usr/bin/docker; else command -v docker || true; fi)"
  if [[ -n "$docker" ]] && timeout 5 "$docker" info >/dev/null 2>&1; then
    "$docker" load -i "$archive" >/dev/null
    oui_log "image $ref loaded into Docker"
    loaded+=(docker)
  fi
  grep -E '^IMAGE_' <<<"$info"
  echo "LOADED=$(IFS=,; echo "${loaded[*]}")"
done
