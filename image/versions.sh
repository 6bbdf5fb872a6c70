#!/usr/bin/env bash
# Print one pinned version from vars/versions.yml (top-level scalar keys of platform_versions):
#   image/versions.sh node   ->  24.21.0
set -euo pipefail
key=${1:?usage: versions.sh KEY}
file="$(cd "$(dirname "$0")/.." && pwd)/vars/versions.yml"
value=$(awk -v k="$key" '$1 == k":" { v = $2; gsub(/"/, "", v); print v; exit }' "$file")
[ -n "$value" ] || { echo "versions.sh: no key '$key' in $file" >&2; exit 1; }
echo "$value"
