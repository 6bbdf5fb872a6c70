#!/usr/bin/env bash
# The one reader of vars/versions.yml for shell scripts (scripts/versions.py, PyYAML):
#   scripts/versions.sh get kubernetes           -> 1.37.2
#   scripts/versions.sh get charts.velero.version
#   scripts/versions.sh get images.pause --tag   -> 3.10.2
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$repo/.venv/bin/python"
[[ -x "$python" ]] || { echo "versions.sh: no Python environment at $repo/.venv (run: make venv)" >&2; exit 1; }
exec "$python" "$repo/scripts/versions.py" "$@"
