#!/usr/bin/env bash
# Installs, when missing, the tools the docs tests need, and prints the directory that holds them:
#   - Debian's chromium (image/apt-install.sh), the browser mermaid-cli drives; puppeteer never downloads one;
#   - the npm packages pinned in tests/docs/mermaid/package-lock.json (mermaid-cli, puppeteer,
#     mermaid), installed with `npm ci` into a cache outside the repository keyed by their versions.
# Usage: tests/docs/tools.sh [--no-browser]   (--no-browser: only the npm packages, as `make docs` needs)
# The last line of stdout is the tools directory (node_modules/.bin/mmdc inside).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lock=$here/mermaid/package-lock.json
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}

browser=yes
[ "${1:-}" = --no-browser ] && browser=no

if [ "$browser" = yes ] && [ ! -x /usr/bin/chromium ]; then
  # Waits for the dpkg lock (another install on the machine) instead of giving up at once.
  bash "$here/../../image/apt-install.sh" chromium chromium >&2
fi
command -v npm >/dev/null || { echo "docs tools: npm is missing (apt-get install -y npm)" >&2; exit 1; }

cli_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/@mermaid-js/mermaid-cli"]["version"])' "$lock")
key=$(sha256sum "$lock" | cut -c1-12)
dir=$cache/docs-tools/mermaid-cli-$cli_version-$key
if [ ! -x "$dir/node_modules/.bin/mmdc" ]; then
  echo "docs tools: npm ci mermaid-cli $cli_version into $dir" >&2
  rm -rf "$dir"   # a broken earlier install (no mmdc)
  tmp=$(mktemp -d "$cache/docs-tools.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/docs-tools.XXXXXX"; })
  cp "$here/mermaid/package.json" "$lock" "$tmp/"
  (cd "$tmp" && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 \
    npm ci --no-audit --no-fund --loglevel=error >&2)
  mkdir -p "$(dirname "$dir")"
  # Atomic rename; if a concurrent run got there first, keep its copy and drop ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
fi
echo "$dir"
