#!/usr/bin/env bash
# Bench the app: requests per second and p99 latency on GET / of
#   - the original app (Express 4.17.1 on the machine's own Node, from a copy made here), and
#   - the modern app (app/: Express 5 on the pinned Node 24, as deployed: JSON request logs on),
# in the same run, with the same load (wrk, from Debian), against 127.0.0.1 only, bounded in
# time; then the image size against its floor (Node binary + production node_modules).
# Prints figures; asserts nothing about timings.
#   BENCH_DURATION   seconds of load per app (default 10), after a 2s warm-up
#   BENCH_CONNECTIONS concurrent connections (default 50)
#   BENCH_ROUNDS      rounds, each loading both apps in turn (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-50}
rounds=${BENCH_ROUNDS:-2}
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
express_original=$("$repo/scripts/versions.sh" get express_original)

bash "$repo/image/apt-install.sh" wrk wrk
system_node=$(command -v node) || { echo "bench: the machine has no node for the original app" >&2; exit 1; }
node24=$(bash "$repo/image/node-dist.sh" | tail -n 1)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The original app, as the brief describes it (written for Node 12, express ^4.17.1).
mkdir -p "$work/original"
cat >"$work/original/index.js" <<'JS'
const express = require('express');
const app = express();
const port = process.env.PORT || 8000;
app.get('/', (req, res) => res.send('Hello OUI!'));
app.get('/healthz', (req, res) => res.send('OK'));
app.listen(port, () => console.log(`listening on ${port}`));
JS
printf '{"name":"original","private":true,"scripts":{"start":"node index.js"}}\n' >"$work/original/package.json"
(cd "$work/original" && npm install --silent --no-audit --no-fund --cache "$cache/npm-cache" \
  "express@$express_original" >/dev/null)
(cd "$repo/app" && PATH="$node24/bin:$PATH" npm ci --silent --omit=dev --no-audit --no-fund \
  --cache "$cache/npm-cache" >/dev/null)

free_port() { "$system_node" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

wait_up() {
  for _ in $(seq 1 100); do
    if [ "$(wrk -t1 -c1 -d1s "http://127.0.0.1:$1/" 2>/dev/null | awk '/Requests\/sec/ {print ($2 > 0)}')" = 1 ]; then return 0; fi
    sleep 0.1
  done
  echo "bench: nothing answers on port $1" >&2; return 1
}

# measure NAME PORT -> prints "rps p99_ms"
measure() {
  wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$2/" >/dev/null  # warm-up (JIT, pools)
  wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$2/" >"$work/$1.wrk"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$1.wrk")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                           else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$work/$1.wrk")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' "$work/$1.wrk")
  [ -z "$errors" ] || echo "bench: $1: $errors" >&2
  echo "$rps $p99"
}

# Both apps run side by side; the load alternates between them, round after round, so that
# noise from other work on the machine falls on both alike.
port_o=$(free_port)
(cd "$work/original" && PORT=$port_o exec "$system_node" index.js >/dev/null 2>&1) & pids+=($!)
port_m=$(free_port)
(cd "$repo/app" && HOST=127.0.0.1 PORT=$port_m SHUTDOWN_DELAY_MS=0 exec "$node24/bin/node" index.js >/dev/null 2>&1) & pids+=($!)
wait_up "$port_o"
wait_up "$port_m"
express_modern=$("$node24/bin/node" -p "require('$repo/app/node_modules/express/package.json').version")

echo "bench: GET / with wrk, $connections connections, ${duration}s per app per round, $rounds rounds, 127.0.0.1, $(nproc) CPUs (shared)"
results=()
for round in $(seq 1 "$rounds"); do
  read -r rps_o p99_o < <(measure original "$port_o")
  read -r rps_m p99_m < <(measure modern "$port_m")
  results+=("$rps_o $p99_o $rps_m $p99_m")
  printf '  round %d: original (Express %s, Node %s) %10s rps p99 %7s ms | modern (Express %s, Node %s, logs on) %10s rps p99 %7s ms\n' \
    "$round" "$express_original" "$("$system_node" --version)" "$rps_o" "$p99_o" \
    "$express_modern" "$("$node24/bin/node" --version)" "$rps_m" "$p99_m"
done
printf '%s\n' "${results[@]}" | awk '{ ro += $1; po += $2; rm += $3; pm += $4; n++ } END {
  printf "  mean: original %.0f rps p99 %.2f ms; modern %.0f rps p99 %.2f ms\n", ro / n, po / n, rm / n, pm / n
  printf "  ratio modern/original: rps %.2f, p99 %.2f\n", rm / ro, pm / po }'

# Image size against its floor.
if docker=$(bash "$repo/image/docker-engine.sh" 2>/dev/null | tail -n 1) \
   && ref=$(bash "$repo/image/build.sh" 2>/dev/null | tail -n 1); then
  image=$("$docker" image inspect --format '{{.Size}}' "$ref")
  node_bytes=$(stat -c %s "$node24/bin/node")
  modules_bytes=$("$docker" run --rm --entrypoint /usr/bin/du "$ref" -sb /app/node_modules | cut -f1)
  floor=$((node_bytes + modules_bytes))
  awk -v i="$image" -v f="$floor" -v n="$node_bytes" -v m="$modules_bytes" -v r="$ref" 'BEGIN {
    printf "image: %s %.1f MB; floor %.1f MB (node binary %.1f MB + production node_modules %.1f MB); ratio %.2f\n",
      r, i / 1e6, f / 1e6, n / 1e6, m / 1e6, i / f }'
else
  echo "image: not measured (no Docker engine or the build failed: run make image)"
fi
