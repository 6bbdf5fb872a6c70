#!/usr/bin/env bash
# Generates the execution environment's build context offline:
#   1. builds this collection's tarball (ansible-galaxy collection build, build_ignore applies),
#   2. stages it beside a copy of execution-environment.yml as oui-platform.tar.gz,
#   3. runs `ansible-builder create`, which writes <dir>/context/ (Containerfile + _build/).
# Building the image from the context needs a registry and the internet (CI's `ee` job does it:
# .github/workflows/ci.yml); generating it needs neither.
#
#   tests/ci/ee-context.sh [DIR]     # default .state/ee; prints the context path last
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$repo/.state/ee}
bin=$repo/.venv/bin

rm -rf "$dir"
mkdir -p "$dir"
cp "$repo/execution-environment.yml" "$dir/"
(cd "$repo" && "$bin/ansible-galaxy" collection build --force --output-path "$dir" >/dev/null)
mv "$dir"/oui-platform-*.tar.gz "$dir/oui-platform.tar.gz"
(cd "$dir" && "$bin/ansible-builder" create --file execution-environment.yml --context context \
  --output-filename Containerfile >&2)
echo "$dir/context"
