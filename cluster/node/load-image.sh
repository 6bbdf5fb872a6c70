#!/usr/bin/env bash
# Import images into the real node's containerd (namespace k8s.io), where pods with
# imagePullPolicy Never or IfNotPresent find them (there is no registry):
#   cluster/node/load-image.sh <image archive | Docker image reference>...
# An archive (e.g. the builder's IMAGE_ARCHIVE) is imported as it is; a reference is taken from
# the local Docker engine (`docker save`). The node imports the last ones again when it restarts.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/node/lib.sh
source "$here/lib.sh"
[[ $# -gt 0 ]] || { echo "usage: cluster/node/load-image.sh <image archive | image reference>..." >&2; exit 2; }
ctr --address "$OUI_NODE_SOCK" version >/dev/null 2>&1 \
  || { echo "load-image: the real node's containerd does not answer at $OUI_NODE_SOCK (make cluster starts it)" >&2; exit 1; }
for ref in "$@"; do
  if [[ ! -f "$ref" && -z "${DOCKER:-}" ]]; then
    DOCKER="$(bash "$OUI_REPO/image/docker-engine.sh" | tail -n 1)"
    export DOCKER
  fi
  t0=$(date +%s)
  node_load_image "$ref"
  nlog "image $ref loaded into the real node's containerd in $(($(date +%s) - t0)) s"
done
