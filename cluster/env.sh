#!/usr/bin/env bash
# Print shell exports that point kubectl/helm (the cluster's own, first on PATH) at the test
# cluster: eval "$(make -s cluster-env)". Starts the cluster if it is not running.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kubeconfig="$("$here/up.sh" | tail -n 1)"
bin="$("$here/build.sh" --print-bin-dir)"
printf 'export KUBECONFIG=%q\n' "$kubeconfig"
# shellcheck disable=SC2016 # $PATH is expanded by the shell that evals this
printf 'export PATH=%q:"$PATH"\n' "$bin"
printf 'export HELM_PLUGINS=%q\n' "$(dirname "$bin")/helm-plugins"
