#!/usr/bin/env bash
# Stop the local velero server and moto's S3 started by backup/up.sh (the bucket's content goes with moto).
set -euo pipefail
# shellcheck source=cluster/lib/paths.sh
source "$(dirname "$0")/../cluster/lib/paths.sh"
RUN="$OUI_BACKUP_RUN"
for name in velero moto; do
  if [[ -f "$RUN/$name.pid" ]] && kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
    kill "$(cat "$RUN/$name.pid")" && echo "stopped $name ($(cat "$RUN/$name.pid"))"
  fi
  rm -f "$RUN/$name.pid"
done
