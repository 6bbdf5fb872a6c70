#!/usr/bin/env bash
# Bench the app and its image; prints figures and ratios, asserts nothing about timings.
#
# Requests per second, p99 latency and the app's CPU time per request on GET /, with wrk (from
# Debian) against 127.0.0.1 only, of three apps run side by side in the same run:
#   original  the brief's app: Express 4.17.1 on the machine's own Node (a copy made here);
#   bare      the same six lines on Express 5 (app/'s lockfile) and the pinned Node 24;
#   app       app/ as deployed: the pinned Node 24, Prometheus metrics and one JSON log line per
#             request on (written to /dev/null: the bench measures the app, not a log reader).
# Round after round each app gets the same load in turn (the order rotates), so that noise from
# other work on the machine falls on all alike. Each figure is given twice: the median over the
# rounds (the typical round) and the best round (the least disturbed: other work only ever
# lowers throughput and raises latency). The targets: app/bare rps >= 0.85 (observability costs
# at most 15 %), app/original rps >= 2.4, app/original p99 <= 0.5. Each app's CPU time per
# request (from /proc) is printed beside them, as requests per CPU-second: it moves less than
# throughput when other work shares the CPUs.
#
# Then the image (image/build.sh, offline): its size against its floor (the Node binary plus the
# production node_modules, both measured inside the image) and the size of each layer.
#
#   BENCH_DURATION     seconds of load per app per round (default 3), after a 1 s warm-up
#   BENCH_CONNECTIONS  concurrent connections (default 50)
#   BENCH_ROUNDS       rounds (default 9)
#   BENCH_CPU_PROFILE  a directory: after the rounds, load the app once more (10 s) under
#                      `node --cpu-prof`, keep the profile there and print where the time went
#   BENCH_IMAGE        0 to skip the image
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
duration=${BENCH_DURATION:-3}
connections=${BENCH_CONNECTIONS:-50}
rounds=${BENCH_ROUNDS:-9}
profile_dir=${BENCH_CPU_PROFILE:-}
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
express_original=$("$repo/scripts/versions.sh" get express_original)

bash "$repo/image/apt-install.sh" wrk wrk
system_node=$(command -v node) || { echo "bench: the machine has no node for the original app" >&2; exit 1; }
node24=$(bash "$repo/image/node-dist.sh" | tail -n 1)
ticks_per_second=$(getconf CLK_TCK)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The original app, as the brief describes it (written for Node 12, express ^4.17.1); the bare
# app is the same file on app/'s own Express 5.
mkdir -p "$work/original" "$work/bare"
cat >"$work/original/index.js" <<'JS'
const express = require('express');
const app = express();
const port = process.env.PORT || 8000;
app.get('/', (req, res) => res.send('Hello OUI!'));
app.get('/healthz', (req, res) => res.send('OK'));
app.listen(port, () => console.log(`listening on ${port}`));
JS
cp "$work/original/index.js" "$work/bare/index.js"
printf '{"name":"original","private":true,"scripts":{"start":"node index.js"}}\n' >"$work/original/package.json"
(cd "$work/original" && npm install --silent --no-audit --no-fund --cache "$cache/npm-cache" \
  "express@$express_original" >/dev/null)
(cd "$repo/app" && PATH="$node24/bin:$PATH" npm ci --silent --omit=dev --no-audit --no-fund \
  --cache "$cache/npm-cache" >/dev/null)
ln -s "$repo/app/node_modules" "$work/bare/node_modules"

free_port() { "$system_node" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

wait_up() {
  for _ in $(seq 1 100); do
    if [ "$(wrk -t1 -c1 -d1s "http://127.0.0.1:$1/" 2>/dev/null | awk '/Requests\/sec/ {print ($2 > 0)}')" = 1 ]; then return 0; fi
    sleep 0.1
  done
  echo "bench: nothing answers on port $1" >&2; return 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure NAME PORT PID -> prints "rps p99_ms cpu_us_per_request"
measure() {
  wrk -t2 -c"$connections" -d1s "http://127.0.0.1:$2/" >/dev/null  # warm-up (JIT, connections)
  local before after
  before=$(cpu_ticks "$3")
  wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$2/" >"$work/$1.wrk"
  after=$(cpu_ticks "$3")
  local errors; errors=$(awk '/Non-2xx|Socket errors/' "$work/$1.wrk")
  [ -z "$errors" ] || echo "bench: $1: $errors" >&2
  awk -v ticks=$((after - before)) -v hz="$ticks_per_second" -f "$here/wrk-stats.awk" -f /dev/fd/3 "$work/$1.wrk" 3<<'AWK'
    / requests in / { n = $1 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%s %.3f %.1f\n", rps, p99, ticks / hz * 1e6 / n }
AWK
}

# start NAME DIR NODE [ARGS...]: the app listens on a free port; sets port_NAME and pid_NAME
start() {
  local name=$1 dir=$2 node=$3 port; shift 3
  port=$(free_port)
  (cd "$dir" && HOST=127.0.0.1 PORT=$port SHUTDOWN_DELAY_MS=0 exec "$node" "$@" index.js >/dev/null 2>&1) &
  pids+=($!)
  printf -v "port_$name" %s "$port"
  printf -v "pid_$name" %s "$!"
  wait_up "$port"
}

start original "$work/original" "$system_node"
start bare "$work/bare" "$node24/bin/node"
start app "$repo/app" "$node24/bin/node"
express_modern=$("$node24/bin/node" -p "require('$repo/app/node_modules/express/package.json').version")
apps=(original bare app)

echo "bench: GET / with wrk, $connections connections, ${duration}s per app per round, $rounds rounds, 127.0.0.1, $(nproc) CPUs (shared; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  original: Express $express_original, Node $("$system_node" --version) | bare: Express $express_modern, Node $("$node24/bin/node" --version) | app: app/ on the same, metrics and request logs on"
: >"$work/results"
for round in $(seq 1 "$rounds"); do
  line="  round $round:"
  for i in 0 1 2; do
    name=${apps[$(((i + round - 1) % 3))]}
    port_var="port_$name" pid_var="pid_$name"
    read -r rps p99 cpu < <(measure "$name" "${!port_var}" "${!pid_var}")
    echo "$name $rps $p99 $cpu" >>"$work/results"
    line+=$(printf ' %-8s %8.0f rps p99 %6.2f ms %5.1f us CPU/req |' "$name" "$rps" "$p99" "$cpu")
  done
  echo "${line% |}"
done
awk -v rounds="$rounds" -f "$here/wrk-stats.awk" -f /dev/fd/3 "$work/results" 3<<'AWK'
  { rps[$1] = rps[$1] " " $2; p99[$1] = p99[$1] " " $3; cpu[$1] = cpu[$1] " " $4 }
  END {
    # median: the typical round; best: the least disturbed one (other work on the machine only
    # ever lowers throughput and raises latency and CPU time, never the reverse)
    for (a in rps) { R[a] = median(rps[a]); P[a] = median(p99[a]); C[a] = median(cpu[a])
                     BR[a] = most(rps[a]); BP[a] = least(p99[a]); BC[a] = least(cpu[a]) }
    fmt = "  %-6s of %d rounds: original %6.0f rps p99 %7.2f ms %5.1f us CPU/req | bare %6.0f rps p99 %7.2f ms %5.1f us CPU/req | app %6.0f rps p99 %7.2f ms %5.1f us CPU/req\n"
    printf fmt, "median", rounds, R["original"], P["original"], C["original"], R["bare"], P["bare"], C["bare"], R["app"], P["app"], C["app"]
    printf fmt, "best", rounds, BR["original"], BP["original"], BC["original"], BR["bare"], BP["bare"], BC["bare"], BR["app"], BP["app"], BC["app"]
    printf "  app/bare:     rps %.2f (median) %.2f (best), target >= 0.85; requests per CPU-second %.2f (median) %.2f (best)\n",
      R["app"] / R["bare"], BR["app"] / BR["bare"], C["bare"] / C["app"], BC["bare"] / BC["app"]
    printf "  app/original: rps %.2f (median) %.2f (best), target >= 2.4; p99 %.2f (median) %.2f (best), target <= 0.5; requests per CPU-second %.2f (median) %.2f (best)\n",
      R["app"] / R["original"], BR["app"] / BR["original"], P["app"] / P["original"], BP["app"] / BP["original"], C["original"] / C["app"], BC["original"] / BC["app"]
  }
AWK

if [ -n "$profile_dir" ]; then
  mkdir -p "$profile_dir"
  start profiled "$repo/app" "$node24/bin/node" --cpu-prof --cpu-prof-dir="$profile_dir"
  port_var=port_profiled pid_var=pid_profiled
  wrk -t2 -c"$connections" -d1s "http://127.0.0.1:${!port_var}/" >/dev/null
  wrk -t2 -c"$connections" -d10s "http://127.0.0.1:${!port_var}/" >"$work/profiled.wrk"
  kill -INT "${!pid_var}"; wait "${!pid_var}" || true  # the app exits on SIGINT; node writes the profile
  profile=$(echo "$profile_dir"/CPU.*."${!pid_var}".*.cpuprofile)
  echo "cpu profile of the app under the same load: $profile ($(awk '/^Requests\/sec:/ {print $2}' "$work/profiled.wrk") rps while profiled)"
  "$node24/bin/node" "$here/cpuprofile.js" "$profile"
fi

[ "${BENCH_IMAGE:-1}" != 0 ] || exit 0
# The image: its size against its floor, and its layers.
if docker=$(bash "$repo/image/docker-engine.sh" 2>/dev/null | tail -n 1) \
   && ref=$(bash "$repo/image/build.sh" 2>/dev/null | tail -n 1); then
  image=$("$docker" image inspect --format '{{.Size}}' "$ref")
  read -r node_bytes modules_bytes < <("$docker" run --rm --entrypoint /usr/local/bin/node "$ref" -e "
    const fs = require('fs');
    const size = (p) => { const s = fs.lstatSync(p); return s.isDirectory() ? fs.readdirSync(p).reduce((t, e) => t + size(p + '/' + e), s.size) : s.size; };
    console.log(fs.statSync(process.execPath).size, size('/app/node_modules'))")
  floor=$((node_bytes + modules_bytes))
  awk -v i="$image" -v f="$floor" -v n="$node_bytes" -v m="$modules_bytes" -v r="$ref" 'BEGIN {
    printf "image: %s %.1f MB; floor %.1f MB (node binary %.1f MB + production node_modules %.1f MB); ratio %.3f (target <= 1.15)\n",
      r, i / 1e6, f / 1e6, n / 1e6, m / 1e6, i / f }'
  echo "  layers (newest first; the base's own layers last):"
  "$docker" history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$ref" | awk -F '\t' '$1 != "0B" {
    step = $2; gsub(/[[:space:]]+/, " ", step); sub(/ # buildkit$/, "", step); if (step == "") step = "(base image)"
    printf "    %9s  %s\n", $1, substr(step, 1, 110) }'
else
  echo "image: not measured (no Docker engine or the build failed: run make image)"
fi
