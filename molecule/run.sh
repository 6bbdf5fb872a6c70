#!/usr/bin/env bash
# Run a molecule scenario against the test cluster, offline:
#   molecule/run.sh [scenario] [molecule command, default: test]
# Starts (or reuses) the test cluster, puts its kubectl/helm first on PATH and passes the
# shared base config. With OUI_TEST_KUBECONFIG set, runs against that cluster instead.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scenario="${1:-default}"
command="${2:-test}"
cd "$repo"
if [[ -n "${OUI_TEST_KUBECONFIG:-}" ]]; then
  export KUBECONFIG="$OUI_TEST_KUBECONFIG"
else
  # shellcheck source=cluster/lib/common.sh
  source cluster/lib/common.sh
  cluster="$(bash cluster/up.sh)"
  KUBECONFIG="$(kv KUBECONFIG <<<"$cluster")" HELM_PLUGINS="$(kv HELM_PLUGINS <<<"$cluster")"
  PATH="$(kv OUI_BIN_DIR <<<"$cluster"):$PATH"
  export KUBECONFIG HELM_PLUGINS PATH
fi
export PATH="$repo/.venv/bin:$PATH"
exec molecule -c molecule/base.yml "$command" -s "$scenario"
