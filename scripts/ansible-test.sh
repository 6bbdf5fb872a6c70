#!/usr/bin/env bash
# ansible-test on the collection as it ships: the artifact that `ansible-galaxy collection build`
# makes (build_ignore applied), unpacked into ansible_collections/oui/platform next to the
# collections it depends on, plus tests/sanity and tests/unit/plugins. Offline, no Docker:
# the origin host with the project venv's Python.
#
#   scripts/ansible-test.sh [sanity|units|all] [--python X.Y] [--core-floor]
#
# --core-floor runs the same tests with the lowest ansible-core the collection claims
# (meta/runtime.yml requires_ansible, vars/versions.yml ansible_core_min), from a second, small
# environment built once per machine: that ansible-core, and the test packages of requirements.txt
# at their pinned versions (constraints.txt for the rest).
#
# The stage lives outside the checkout (ansible-test lists a collection's files with git when it
# sits in a git work tree, and the checkout's .state/ is ignored by git). Sanity tests run in the
# virtual environments ansible-test manages, with its own pinned requirements from the package
# index, kept under $OUI_CACHE_DIR/ansible-test (its HOME) and re-used across runs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
venv_bin=$repo/.venv/bin
what=${1:-all}
shift || true
python=$("$venv_bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
floor=0
while [ $# -gt 0 ]; do
  case $1 in
    --python) python=$2; shift 2 ;;
    --core-floor) floor=1; shift ;;
    *) break ;;
  esac
done

case $what in sanity|units|all) ;; *) echo "ansible-test.sh: unknown step '$what' (sanity|units|all)" >&2; exit 2 ;; esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/oui-ansible-test.XXXXXX")
trap 'rm -rf "$stage"' EXIT
content=$stage/ansible_collections/oui/platform
mkdir -p "$content"

"$venv_bin/ansible-galaxy" collection build --force --output-path "$stage" "$repo" >/dev/null
tar -xzf "$stage"/oui-platform-*.tar.gz -C "$content"
rm "$stage"/oui-platform-*.tar.gz
mkdir -p "$content/tests/unit"
[ ! -d "$repo/tests/sanity" ] || cp -r "$repo/tests/sanity" "$content/tests/sanity"
cp -r "$repo/tests/unit/plugins" "$content/tests/unit/plugins"

# The collections the modules import come with the pinned `ansible` package in the venv.
site=$("$venv_bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections
dep=amazon
[ -d "$site/$dep" ] || { echo "ansible-test.sh: $site/$dep is missing (the pinned ansible package); run make venv" >&2; exit 1; }
ln -s "$site/$dep" "$stage/ansible_collections/$dep"

test_bin=$venv_bin
if [ "$floor" = 1 ]; then
  core=$("$repo/scripts/versions.sh" get ansible_core_min)
  mapfile -t reqs < <(grep -iE '^(pytest|pytest-xdist|pytest-mock|mock|boto3|botocore)==' "$repo/requirements.txt")
  key=$( { echo "ansible-core==$core"; printf '%s\n' "${reqs[@]}"; cat "$repo/constraints.txt"; readlink -f "$venv_bin/python"; } | sha256sum | cut -c1-16)
  floor_venv=$cache/venv/core-floor-$core-$key
  if [ ! -f "$floor_venv/.complete" ]; then
    echo "ansible-test.sh: building the ansible-core $core environment in $floor_venv" >&2
    rm -rf "$floor_venv"
    "$(readlink -f "$venv_bin/python")" -m venv "$floor_venv"
    # the main lock pins ansible-core (and the ansible package that needs it) at the tested top
    grep -viE '^(ansible|ansible-core)==' "$repo/constraints.txt" > "$stage/constraints-floor.txt"
    "$floor_venv/bin/pip" install --quiet --disable-pip-version-check --progress-bar off \
      -c "$stage/constraints-floor.txt" "ansible-core==$core" "${reqs[@]}" >&2
    touch "$floor_venv/.complete"
  fi
  test_bin=$floor_venv/bin
fi

home=$cache/ansible-test/home
install -D -m 0644 "$repo/scripts/ansible-test-get-pip.py" \
  "$home/.ansible/test/cache/get_pip_$("$test_bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version="")).get("pip").replace(".", "_"))
PY
).py"

run() {  # run <label> <ansible-test args...>: prints its time
  local label=$1 start rc=0
  shift
  start=$(date +%s)
  (cd "$content" && HOME=$home PATH="$test_bin:$PATH" nice -n 10 "$test_bin/ansible-test" "$@" --python "$python" --color no) || rc=$?
  echo "ansible-test $label (ansible-core $("$test_bin/python" -c 'from ansible.release import __version__; print(__version__)'), Python $python):" \
    "$([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
  return $rc
}

# The other controller Pythons of the claimed ansible-core range, for the tests that run per
# Python version (compile, import): each one found on this machine (PATH or pyenv) is offered to
# ansible-test under its pythonX.Y name; one missing is said, not hidden.
others=()
other_versions=""
mkdir -p "$stage/bin"
for version in 3.11 3.12 3.13; do
  [ "$version" = "$python" ] && continue
  found=$(command -v "python$version" 2>/dev/null || true)
  if [ -z "$found" ] || ! "$found" -c '' 2>/dev/null; then
    pyenv_pythons=("$HOME"/.pyenv/versions/"$version".*/bin/python"$version")
    found=""
    [ -x "${pyenv_pythons[-1]}" ] && found=${pyenv_pythons[-1]}
  fi
  if [ -n "$found" ] && "$found" -c '' 2>/dev/null; then
    ln -s "$found" "$stage/bin/python$version"
    others+=(--target-python "$version")
    other_versions+=" $version"
  else
    echo "ansible-test.sh: no Python $version on this machine: compile and import are not run on it" >&2
  fi
done

rc=0
if [ "$what" != units ]; then
  run sanity sanity "$@" || rc=1
  if [ ${#others[@]} -gt 0 ]; then
    start=$(date +%s); sub=0
    (cd "$content" && HOME=$home PATH="$stage/bin:$test_bin:$PATH" nice -n 10 "$test_bin/ansible-test" sanity --test compile \
      --test import --controller "origin:python=$python" "${others[@]}" --color no) || sub=$?
    echo "ansible-test sanity compile+import (Python$other_versions): $([ $sub -eq 0 ] && echo passed || echo FAILED)" \
      "in $(( $(date +%s) - start )) s"
    [ $sub -eq 0 ] || rc=1
  fi
fi
if [ "$what" != sanity ]; then run units units "$@" || rc=1; fi
exit $rc
