#!/usr/bin/env bash
# Builds (once per machine) the Python environment pinned by requirements.txt and
# constraints.txt, and links it at ./.venv.
#
# The environment lives in a cache outside the repository, keyed by the hash of the
# pin files and the interpreter version: a fresh clone re-uses it, a change to a pin
# builds a new one. Nothing is hidden: a missing or half-built environment is rebuilt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}

# ansible-core 2.21 needs Python >= 3.12: take the newest interpreter that qualifies.
pick_python() {
  local best="" best_ver=0 cand ver
  for cand in python3.14 python3.13 python3.12 python3 \
              "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 \
              /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    command -v "$cand" >/dev/null 2>&1 || [ -x "$cand" ] || continue
    # a virtualenv's interpreter is never a base for another one: take its base instead
    cand=$("$cand" -c 'import os, sys; print(os.path.join(sys.base_prefix, "bin", "python3"))' 2>/dev/null) || continue
    ver=$("$cand" -c 'import sys; print(sys.version_info[0]*1000+sys.version_info[1])' 2>/dev/null) || continue
    if [ "$ver" -ge 3012 ] && [ "$ver" -gt "$best_ver" ]; then best=$cand; best_ver=$ver; fi
  done
  if [ -z "$best" ]; then
    echo "venv: no Python >= 3.12 found (ansible-core 2.21 needs it); install one or put it on PATH" >&2
    exit 1
  fi
  echo "$best"
}

python=${OUI_PYTHON:-$(pick_python)}
pyver=$("$python" -c 'import platform; print(platform.python_version())')
key=$( { cat "$repo/requirements.txt"; [ ! -f "$repo/constraints.txt" ] || cat "$repo/constraints.txt"; echo "$pyver"; } | sha256sum | cut -c1-16)
venv="$cache/venv/py$pyver-$key"

mkdir -p "$cache/venv"
exec 9>"$cache/venv/.lock"
flock 9  # one build at a time per machine

if [ ! -f "$venv/.complete" ]; then
  echo "venv: building $venv with $python (Python $pyver)" >&2
  rm -rf "$venv"
  mkdir -p "$cache/venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade "pip==26.3"
  constraints=()
  [ -f "$repo/constraints.txt" ] && constraints=(-c "$repo/constraints.txt")
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off \
    -r "$repo/requirements.txt" "${constraints[@]}"
  touch "$venv/.complete"
else
  echo "venv: re-using $venv (Python $pyver, pins unchanged)" >&2
fi
ln -sfn "$venv" "$repo/.venv"
echo "$venv"
