#!/usr/bin/env bash
# Usage: scripts/timed.sh <phase> <command> [args...]
# Runs the command and, when OUI_TIMINGS_RUN names a run file (`make test` and `make up` set it),
# appends its wall time there as a TSV row (columns: see scripts/timings.py). Without the variable it
# only runs the command. Steps started inside it are indented one level below it in the summary.
# A failure at the top level prints the summary so far before passing the exit code on.
set -uo pipefail
phase=${1:?usage: timed.sh <phase> <command> [args...]}
shift
run=${OUI_TIMINGS_RUN:-}
[ -n "$run" ] || exec "$@"

depth=${OUI_TIMINGS_DEPTH:-0}
id="sh$$.$(date +%s%N)"
start=$(date +%s.%N)
mkdir -p "$(dirname "$run")"
[ -s "$run" ] || printf 'id\tphase\tstart\tseconds\tresult\tdepth\n' >>"$run"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "${phase//$'\t'/ }" "$start" "$1" "$2" "$depth" >>"$run"; }

row "" running
OUI_TIMINGS_DEPTH=$((depth + 1)) "$@"
rc=$?
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ "$rc" -eq 0 ]; then row "$seconds" ok; else row "$seconds" "FAILED (exit $rc)"; fi
if [ "$rc" -ne 0 ] && [ "$depth" -eq 0 ]; then
  python3 "$(dirname "$0")/timings.py" "$run" >&2 || true
fi
exit "$rc"
