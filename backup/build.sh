#!/usr/bin/env bash
# Build (once, cached) the Velero CLI/server and its AWS object-store plugin from their Go modules, at the
# versions vars/versions.yml pins (crds.velero, images.velero_plugin_for_aws). Prints the build directory.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OUI_CACHE_DIR:-$HOME/.cache/oui-platform}/backup"
read -r VELERO PLUGIN < <("$REPO/.venv/bin/python" - "$REPO/vars/versions.yml" <<'PY'
import sys, yaml
v = yaml.safe_load(open(sys.argv[1]))["platform_versions"]
print(v["crds"]["velero"], v["images"]["velero_plugin_for_aws"].rsplit(":", 1)[1])
PY
)
HASH="$(printf '%s\n' "$VELERO" "$PLUGIN" "$(go env GOVERSION)" "$(sha256sum "$0" | cut -c1-64)" | sha256sum | cut -c1-12)"
OUT="$CACHE/build-$HASH"
if [[ -x "$OUT/velero" && -x "$OUT/plugins/velero-plugin-for-aws" && -d "$(cat "$OUT/velero.module" 2>/dev/null)" ]]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT/plugins"
export GOFLAGS="-modcacherw" CGO_ENABLED=0 GOMODCACHE="${GOMODCACHE:-$CACHE/gomod}"
# `go install mod@version` refuses modules whose go.mod has replace directives (velero has some):
# build inside the downloaded module instead, so its go.mod (and replaces) apply. Extra `-replace`
# edits (args 5...) go into a copy of go.mod used through -modfile, never into the module cache.
build() {  # module version package output ldflags [go mod edit -replace=...]
  local dir mod
  dir="$(go mod download -json "$1@$2" | "$REPO/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  mod="$OUT/modfile-${1##*/}"; mkdir -p "$mod"; cp "$dir/go.mod" "$dir/go.sum" "$mod/"; chmod u+w "$mod"/go.*
  if (($# > 5)); then go mod edit "${@:6}" "$mod/go.mod"; fi
  (cd "$dir" && nice -n 10 go build -mod=mod -modfile="$mod/go.mod" -trimpath -ldflags "-s -w $5" -o "$4.tmp" "$3" && mv "$4.tmp" "$4") >&2
  echo "$dir" >"$OUT/${1##*/}.module"   # backup/up.sh applies the CRDs of this very module
}
# The Go proxy we reach answers 403 for k8s.io/cli-runtime v0.33.12 (velero v1.18.3's pin) and serves the
# next patch release, v0.33.13; sum.golang.org is unreachable, so that one module is checked against the
# go.sum line the build writes, not the checksum database.
export GONOSUMDB="k8s.io/cli-runtime"
build github.com/vmware-tanzu/velero "$VELERO" ./cmd/velero "$OUT/velero" \
  "-X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$VELERO" -replace=k8s.io/cli-runtime=k8s.io/cli-runtime@v0.33.13
build github.com/vmware-tanzu/velero-plugin-for-aws "$PLUGIN" ./velero-plugin-for-aws "$OUT/plugins/velero-plugin-for-aws" ""
echo "$OUT"
