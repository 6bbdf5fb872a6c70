#!/usr/bin/env bash
# Runs the pytest tiers. Exit code 5 (no test collected) is an error here: an empty
# selection would otherwise look like a green run.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
mkdir -p .state
.venv/bin/python -m pytest --junitxml=.state/junit-pytest.xml "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest: no test was collected; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
