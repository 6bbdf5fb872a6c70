#!/usr/bin/env bash
# Start (or reuse) the local backup stack against the cluster of $KUBECONFIG: moto's S3 on loopback
# (path-style), the bucket, Velero's CRDs (from the Velero Go module), the velero namespace, the S3
# credentials (a file for the server, the velero-s3 Secret the BackupStorageLocation names), the
# location itself (rendered by the velero role's template for inventories/local: backup/location.yml)
# and `velero server` as a local process (upstream's development mode) with the AWS plugin from its
# plugin dir. Velero and the plugin are the builder's components (cluster/build.sh, group backup).
# Left running; backup/down.sh stops it. Prints the environment a client needs (KEY=value lines).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${KUBECONFIG:?KUBECONFIG must name the cluster (make cluster prints it)}"
# shellcheck source=cluster/lib/paths.sh
source "$REPO/cluster/lib/paths.sh"
# shellcheck source=cluster/lib/common.sh
source "$REPO/cluster/lib/common.sh"
RUN="$OUI_BACKUP_RUN"
PORT="$OUI_BACKUP_S3_PORT"
METRICS="$OUI_BACKUP_METRICS_PORT"
S3="http://127.0.0.1:$PORT"
BUCKET="$OUI_BACKUP_BUCKET" NS="$OUI_BACKUP_NAMESPACE"
VELERO_INFO="$("$REPO/cluster/build.sh" info velero)"
PLUGIN_INFO="$("$REPO/cluster/build.sh" info velero-plugin-for-aws)"
VELERO="$(kv BIN_DIR <<<"$VELERO_INFO")/velero"
VELERO_MOD="$(kv SOURCE_DIR <<<"$VELERO_INFO")"  # the CRDs of this very module
PLUGINS="$(kv BIN_DIR <<<"$PLUGIN_INFO")"
KUBECTL="$(command -v kubectl)"
# The collection's own field manager (platform_field_manager): the velero role applies the same
# location, so one manager owns it whichever of the two ran last.
FIELD_MANAGER="$(sed -n 's/^platform_field_manager: *\([^ #]*\).*/\1/p' "$REPO/roles/preflight/defaults/main.yml")"
: "${FIELD_MANAGER:?no platform_field_manager in roles/preflight/defaults/main.yml}"
mkdir -p "$RUN"
exec 9>"$RUN/lock"; flock 9   # concurrent pytest sessions share one stack

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
wait_for() {  # seconds, command...
  local n=$1; shift
  for ((i = 0; i < n * 4; i++)); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.25; done
  return 1
}

# S3: moto_server on loopback, credentials as a file.
if ! running moto; then
  setsid "$REPO/.venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$RUN/moto.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/moto.pid"
fi
wait_for 30 curl -sf "$S3/moto-api/" || { tail -20 "$RUN/moto.log" >&2; echo "moto_server did not start on $S3" >&2; exit 1; }
printf '[default]\naws_access_key_id=oui-local\naws_secret_access_key=oui-local\n' >"$RUN/credentials"
chmod 600 "$RUN/credentials"
AWS_SHARED_CREDENTIALS_FILE="$RUN/credentials" "$REPO/.venv/bin/python" - "$S3" "$BUCKET" <<'PY'
import sys, boto3, botocore.config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
if sys.argv[2] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=sys.argv[2])
PY

# The cluster side: CRDs, namespace, credentials Secret, backup location.
for crds in "$VELERO_MOD/config/crd/v1/bases/" "$VELERO_MOD/config/crd/v2alpha1/bases/"; do  # the server checks both
  "$KUBECTL" apply --server-side --field-manager="$FIELD_MANAGER" -f "$crds" >/dev/null
  "$KUBECTL" wait --for=condition=Established --timeout=60s -f "$crds" >/dev/null
done
"$KUBECTL" create namespace "$NS" --dry-run=client -o yaml | "$KUBECTL" apply --server-side --field-manager="$FIELD_MANAGER" -f - >/dev/null
"$KUBECTL" -n "$NS" create secret generic velero-s3 --from-file=cloud="$RUN/credentials" --dry-run=client -o yaml |
  "$KUBECTL" apply --server-side --field-manager="$FIELD_MANAGER" -f - >/dev/null
OUI_LOCAL_S3_URL="$S3" "$REPO/.venv/bin/ansible-playbook" -i "$REPO/inventories/local/hosts.yml" "$REPO/backup/location.yml" \
  -e "render_out=$RUN/location.json" >"$RUN/location.log" 2>&1 || { tail -20 "$RUN/location.log" >&2; echo "backup/location.yml failed" >&2; exit 1; }
"$KUBECTL" apply --server-side --field-manager="$FIELD_MANAGER" -f "$RUN/location.json" >/dev/null

# Restore item actions (pod volume restore) read the server's own Deployment for the restore-helper
# image. The server runs outside the cluster, so its Deployment is there with 0 replicas, unless
# the velero role's chart (site.yml on local) made one already. It carries Helm's ownership
# metadata and is applied under Helm's own field manager (helm), so that the chart adopts it when
# site.yml runs after this: under any other manager, Helm's server-side apply meets conflicts.
"$KUBECTL" -n "$NS" get deployment velero >/dev/null 2>&1 || "$KUBECTL" apply --server-side --field-manager=helm -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: velero
  namespace: $NS
  labels: {app.kubernetes.io/managed-by: Helm, app.kubernetes.io/name: velero, app.kubernetes.io/instance: velero}
  annotations: {meta.helm.sh/release-name: velero, meta.helm.sh/release-namespace: $NS}
spec:
  replicas: 0
  strategy: {type: Recreate}  # the chart's; a defaulted rollingUpdate would make its apply invalid
  # The chart's own selector (immutable), so that the chart can adopt this Deployment.
  selector: {matchLabels: {app.kubernetes.io/name: velero, app.kubernetes.io/instance: velero}}
  template:
    metadata: {labels: {app.kubernetes.io/name: velero, app.kubernetes.io/instance: velero}}
    spec:
      containers: [{name: velero, image: "velero/velero:$("$VELERO" version --client-only | sed -n 's/^\s*Version: //p')", args: [server]}]
YAML

# The server, outside the cluster (kwok runs no containers). Restarted when it serves another
# cluster: another kubeconfig, or the same one for a cluster that was replaced since (a new
# kube-system namespace UID), whose watches would otherwise point at resources that vanished.
# Also when it has run for more than a minute: Velero refreshes its API discovery only every 5
# minutes (a fixed period in pkg/cmd/server/server.go), and a backup taken after a CRD was deleted
# but before the next refresh lists the deleted resources and ends PartiallyFailed (seen after the
# Helm tests' CRDs went away). Each test session (and `make backup-up`) so starts from fresh
# discovery; sessions starting within the same minute share the server.
serving="$KUBECONFIG $("$KUBECTL" get namespace kube-system -o jsonpath='{.metadata.uid}')"
if running velero && (( $(ps -o etimes= -p "$(cat "$RUN/velero.pid")" | tr -d ' ') > 60 )); then
  echo "backup/up.sh: restarting the velero server (running for over a minute) for fresh API discovery" >&2
  rm -f "$RUN/serving"
fi
if running velero && [[ "$(cat "$RUN/serving" 2>/dev/null)" != "$serving" ]]; then
  kill "$(cat "$RUN/velero.pid")"
  wait_for 30 bash -c "! kill -0 $(cat "$RUN/velero.pid")" || kill -9 "$(cat "$RUN/velero.pid")" 2>/dev/null || true
fi
if ! running velero; then
  echo "$serving" >"$RUN/serving"
  AWS_SHARED_CREDENTIALS_FILE="$RUN/credentials" setsid "$VELERO" server --kubeconfig "$KUBECONFIG" --namespace "$NS" \
    --plugin-dir "$PLUGINS" --metrics-address "127.0.0.1:$METRICS" --profiler-address 127.0.0.1:0 \
    --uploader-type kopia --log-level info \
    --store-validation-frequency 10s --backup-sync-period 10s >"$RUN/velero.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/velero.pid"
fi
phase() { "$KUBECTL" -n "$NS" get backupstoragelocation default -o jsonpath='{.status.phase}'; }
if ! wait_for 90 bash -c "kill -0 \$(cat '$RUN/velero.pid') && [[ \"\$('$KUBECTL' -n $NS get backupstoragelocation default -o jsonpath='{.status.phase}')\" == Available ]]"; then
  echo "backup location not Available (phase '$(phase)'); velero log:" >&2; tail -30 "$RUN/velero.log" >&2; exit 1
fi
echo "VELERO=$VELERO"
echo "VELERO_NAMESPACE=$NS"
echo "OUI_LOCAL_S3_URL=$S3"
echo "AWS_SHARED_CREDENTIALS_FILE=$RUN/credentials"
echo "OUI_BACKUP_BUCKET=$BUCKET"
echo "OUI_BACKUP_PREFIX=$OUI_CLUSTER_NAME"
echo "OUI_BACKUP_METRICS=http://127.0.0.1:$METRICS/metrics"
echo "OUI_BACKUP_LOG=$RUN/velero.log"
