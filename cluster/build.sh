#!/usr/bin/env bash
# The one builder of the components built from source (cluster/build.py reads the table
# cluster/components.yml), run with the project's Python environment. Usage:
#   cluster/build.sh build -g cluster -g node     # build two groups; prints OUI_BIN_DIR=...
#   cluster/build.sh info coredns                 # one component's outputs (IMAGE_REF=..., ...)
#   cluster/build.sh list                         # the table, with keys and what is built
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || { echo "cluster/build.sh: no Python environment at $repo/.venv (run: make venv)" >&2; exit 1; }
exec "$python" "$repo/cluster/build.py" "$@"
