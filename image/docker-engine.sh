#!/usr/bin/env bash
# Make sure a Docker engine answers, for `make image` and the image tests.
# If none is running: install Debian's engine (package docker.io) when it is missing, then
# start dockerd in the background (this machine has no systemd) with its log in the cache
# directory, and wait for the socket. An engine that already runs is used as it is.
# Prints the path of the docker client to use on its last line.
set -euo pipefail
cache=${OUI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/oui-platform}
log_dir="$cache/docker"
mkdir -p "$log_dir"

# The client that matches Debian's engine; any `docker` on PATH otherwise.
client() {
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker || true; fi
}

answers() {
  local c; c=$(client)
  [ -n "$c" ] && timeout 10 "$c" info >/dev/null 2>&1
}

if answers; then
  client
  exit 0
fi

bash "$(dirname "$0")/apt-install.sh" dockerd docker.io iptables ca-certificates

[ "$(id -u)" -eq 0 ] || { echo "docker-engine: dockerd is installed but not running, and we are not root" >&2; exit 1; }
echo "docker-engine: starting dockerd (log: $log_dir/dockerd.log)" >&2
# setsid + nohup: the engine outlives the make target that started it.
setsid nohup dockerd >"$log_dir/dockerd.log" 2>&1 </dev/null &
echo $! >"$log_dir/dockerd.pid"
for _ in $(seq 1 60); do
  if answers; then
    client
    exit 0
  fi
  sleep 1
done
echo "docker-engine: dockerd did not answer within 60s; last lines of its log:" >&2
tail -n 20 "$log_dir/dockerd.log" >&2
exit 1
