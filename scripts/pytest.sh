#!/usr/bin/env bash
# Runs the pytest tiers. Exit code 5 (no test collected) is an error here: an empty
# selection would otherwise look like a green run.
#
# Without arguments (make test-py, make test) the tests run in two lanes at once:
# - the cloud lane (-m cloud): playbooks against moto_server on loopback. It keeps about one core
#   busy with Ansible's own work for half an hour and touches nothing the other lane uses (its own
#   moto_server, no test cluster, no Docker), so it runs beside the others under `nice`, its output
#   kept in .state/pytest-cloud.log and printed when both lanes are done;
# - the main lane (-m "not cloud"): every other tier, in the foreground.
# The run fails when either lane fails. With arguments or PYTEST_ADDOPTS, one pytest run with those.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
mkdir -p .state

# lane <name> <niceness> <junit file> <pytest args...>: one pytest session; exit 5 becomes 1
lane() {
  local name=$1 niceness=$2 junit=$3 rc
  shift 3
  OUI_PYTEST_LANE=$name nice -n "$niceness" .venv/bin/python -m pytest --junitxml="$junit" "$@"
  rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest${name:+ ($name lane)}: no test was collected; that is a failure, not a pass" >&2
    rc=1
  fi
  return "$rc"
}

# PYTEST_ADDOPTS may hold its own -m (docs/testing.md), which a lane's -m would override
if [ "$#" -gt 0 ] || [ -n "${PYTEST_ADDOPTS:-}" ]; then
  lane "" 0 .state/junit-pytest.xml "$@"
  exit
fi

cloud_log=.state/pytest-cloud.log
echo "pytest: the cloud lane (-m cloud) runs beside the others; its output: $cloud_log (printed at the end)"
lane cloud 10 .state/junit-pytest-cloud.xml -m cloud >"$cloud_log" 2>&1 &
cloud_pid=$!
trap 'pkill -TERM -P "$cloud_pid" 2>/dev/null; kill "$cloud_pid" 2>/dev/null' EXIT INT TERM

lane main 0 .state/junit-pytest.xml -m "not cloud"
main_rc=$?
wait "$cloud_pid"
cloud_rc=$?
trap - EXIT INT TERM

echo
echo "=============================== the cloud lane ($cloud_log) ==============================="
cat "$cloud_log"
echo "pytest lanes: main exit $main_rc, cloud exit $cloud_rc"
[ "$main_rc" -eq 0 ] && [ "$cloud_rc" -eq 0 ]
