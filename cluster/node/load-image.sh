#!/usr/bin/env bash
# Copy images from the local Docker engine into the real node's containerd (namespace k8s.io),
# where pods with imagePullPolicy IfNotPresent or Never find them: there is no registry.
#   cluster/node/load-image.sh <image-ref>...
# shellcheck source=cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
[[ $# -gt 0 ]] || die "usage: cluster/node/load-image.sh <image-ref>..."
ctr --address "$node_sock" version >/dev/null 2>&1 || die "the real node's containerd does not answer at $node_sock (make cluster starts it)"
DOCKER="$(bash "$repo_dir/image/docker-engine.sh" | tail -n 1)"
export DOCKER
for ref in "$@"; do
  t0=$(date +%s)
  node_load_image "$ref"
  nlog "image $ref loaded into the real node's containerd in $(($(date +%s) - t0)) s"
done
