#!/usr/bin/env bash
# Build the app image from the root Dockerfile, offline: engine up (docker-engine.sh),
# stand-in bases assembled (standin-base.sh) and passed through the NODE_IMAGE and
# RUNTIME_IMAGE build arguments. Reuses the image when its inputs (Dockerfile, .dockerignore,
# the files it copies, the bases) are unchanged. Prints the image reference on its last line.
#   IMAGE_NAME     name to tag (default oui-app)
#   NODE_IMAGE     a Node.js base to build against instead of the stand-in (e.g. the upstream one)
#   RUNTIME_IMAGE  a runtime base to build against instead of the stand-in (likewise)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
docker=$(bash "$here/docker-engine.sh" | tail -n 1)
base=${NODE_IMAGE:-$(DOCKER="$docker" bash "$here/standin-base.sh" node | tail -n 1)}
runtime=${RUNTIME_IMAGE:-$(DOCKER="$docker" bash "$here/standin-base.sh" runtime | tail -n 1)}
name=${IMAGE_NAME:-oui-app}
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$repo/app/package.json" | head -n 1)

cd "$repo"
inputs=$( { sha256sum Dockerfile .dockerignore app/package.json app/package-lock.json app/index.js;
            find app/src -type f -print0 | sort -z | xargs -0 sha256sum; echo "$base $runtime";
            "$docker" image inspect --format '{{.Id}}' "$base" "$runtime" 2>/dev/null || true; } | sha256sum | cut -c1-12)
ref="$name:$version-$inputs"
if "$docker" image inspect "$ref" >/dev/null 2>&1; then
  echo "image: $ref already built (same inputs)" >&2
else
  echo "image: building $ref on $base and $runtime" >&2
  revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
  # BuildKit where the client has it built in (Debian's docker.io); the classic builder
  # otherwise. The Dockerfile needs neither's extras.
  buildkit=0
  "$docker" version --format '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.' && buildkit=1
  DOCKER_BUILDKIT=$buildkit nice -n 10 "$docker" build --quiet \
    --build-arg "NODE_IMAGE=$base" --build-arg "RUNTIME_IMAGE=$runtime" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    --label "io.oui.inputs=$inputs" -t "$ref" -t "$name:latest" . >&2
fi
size=$("$docker" image inspect --format '{{.Size}}' "$ref")
echo "image: $ref size $((size / 1000000)) MB ($size bytes)" >&2
echo "$ref"
