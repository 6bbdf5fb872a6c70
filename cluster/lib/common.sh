# shellcheck shell=bash
# Small helpers shared by the test bed's scripts (sourced). Depends on nothing.
#   OUI_LOG_TAG  the tag of log lines (default: the script's name)

oui_log() { echo "[${OUI_LOG_TAG:-$(basename "$0" .sh)} $(date -u +%H:%M:%S)] $*" >&2; }
oui_die() { echo "${OUI_LOG_TAG:-$(basename "$0")}: ERROR: $*" >&2; exit 1; }

# kv KEY: the value of the first KEY=value line on stdin (how the scripts pass data one way).
kv() { sed -n "s/^$1=//p" | head -n 1; }

# Is this process running? (A zombie whose parent has not reaped it yet is not: PID 1 of some
# machines does not reap orphans, so `kill -0` would say yes.)
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ "$(awk '{print $1}' <<<"${stat##*)}")" != "Z" ]]
}

# Does the command line of this pid still name <text>? (A stale pid file never leads to
# killing an unrelated process.)
pid_names() {
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# The host's IPv4 address on its default route (the real node's IP; the API server reaches the
# kubelet there, directly).
host_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1
}

# Close every file descriptor above 2 of the current (sub)shell. The test bed's daemons start in
# a subshell that calls this first, so that none keeps a descriptor it inherited from whoever
# started the cluster: with `flock LOCKFILE make cluster`, a daemon holding the lock's
# descriptor would hold that lock for as long as it runs.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd="${fd##*/}"
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}
