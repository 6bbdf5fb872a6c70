#!/usr/bin/env bash
# Print shell exports that point kubectl/helm (the cluster's own, first on PATH) at the test
# cluster: eval "$(make -s cluster-env)". Starts the cluster if it is not running.
# (The one place where exports are printed for `eval`, by a user; scripts read the KEY=value
# lines of cluster/up.sh instead.)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(bash "$here/up.sh")"
value() { sed -n "s/^$1=//p" <<<"$out" | head -n 1; }
printf 'export KUBECONFIG=%q\n' "$(value KUBECONFIG)"
# shellcheck disable=SC2016 # $PATH is expanded by the shell that evals this
printf 'export PATH=%q:"$PATH"\n' "$(value OUI_BIN_DIR)"
printf 'export HELM_PLUGINS=%q\n' "$(value HELM_PLUGINS)"
