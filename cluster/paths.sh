#!/usr/bin/env bash
# Print every path, name and port of the test bed as KEY=value lines (cluster/lib/paths.sh):
#   bash cluster/paths.sh             # all of them
#   bash cluster/paths.sh OUI_NODE_ROOT OUI_KUBECONFIG   # only these, values only
set -euo pipefail
# shellcheck source=cluster/lib/paths.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/paths.sh"
if (($# > 0)); then
  for name in "$@"; do
    [[ " ${OUI_PATH_NAMES[*]} " == *" $name "* ]] || { echo "paths.sh: unknown name '$name' (one of: ${OUI_PATH_NAMES[*]})" >&2; exit 1; }
    echo "${!name}"
  done
  exit 0
fi
for name in "${OUI_PATH_NAMES[@]}"; do
  echo "$name=${!name}"
done
