#!/usr/bin/env bash
# Print shell exports that point kubectl/helm (the cluster's own, first on PATH) at the test
# cluster, and that name the platform's outside world on it: eval "$(make -s cluster-env)".
# Starts the cluster if it is not running, and the local backup stack (S3 for Velero).
# (The one place where exports are printed for `eval`, by a user; scripts read the KEY=value
# lines of cluster/up.sh instead.)
#   KUBECONFIG PATH HELM_PLUGINS   the cluster and its clients
#   OUI_CHART_MIRROR               the chart mirror the local inventory installs every chart from
#   OUI_INGRESS_ADDRESS            where the ingress controller listens (also in each Ingress's status)
#   OUI_CA_BUNDLE                  the trust anchors of certificates issued on local (curl --cacert)
#   OUI_ACME_SERVER, OUI_ACME_CA_BUNDLE   the ACME test server and the CA of its endpoint
#   OUI_DENIED_SOURCE_ADDRESS      a source outside the allow-list: ip netns exec $OUI_DENIED_SOURCE_NETNS curl ...
#   OUI_LOCAL_S3_URL               the local S3 endpoint of Velero's backup location
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(bash "$here/up.sh")"
value() { sed -n "s/^$1=//p" <<<"$out" | head -n 1; }
printf 'export KUBECONFIG=%q\n' "$(value KUBECONFIG)"
# shellcheck disable=SC2016 # $PATH is expanded by the shell that evals this
printf 'export PATH=%q:"$PATH"\n' "$(value OUI_BIN_DIR)"
printf 'export HELM_PLUGINS=%q\n' "$(value HELM_PLUGINS)"
for key in OUI_CHART_MIRROR OUI_INGRESS_ADDRESS OUI_INGRESS_DOMAIN OUI_CA_BUNDLE OUI_ACME_SERVER OUI_ACME_CA_BUNDLE \
  OUI_DENIED_SOURCE_ADDRESS OUI_DENIED_SOURCE_NETNS; do
  [[ -z "$(value "$key")" ]] || printf 'export %s=%q\n' "$key" "$(value "$key")"
done
backup="$(KUBECONFIG="$(value KUBECONFIG)" PATH="$(value OUI_BIN_DIR):$PATH" bash "$here/../backup/up.sh")"
printf 'export OUI_LOCAL_S3_URL=%q\n' "$(sed -n 's/^OUI_LOCAL_S3_URL=//p' <<<"$backup")"
