#!/usr/bin/env bash
# Stop what cluster/platform/up.sh started outside the cluster: the chart mirror, the denied
# source's network namespace, veth pair and FORWARD rules. (Pebble is a pod: it goes with the
# cluster.) Best effort to the end.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib/paths.sh
source "$here/../lib/paths.sh"
# shellcheck source=cluster/lib/common.sh
source "$here/../lib/common.sh"
RUN="$OUI_PLATFORM_RUN"

pid="$(cat "$RUN/mirror.pid" 2>/dev/null)"
if [[ -n "$pid" ]] && alive "$pid" && pid_names "$pid" http.server; then
  kill "$pid" 2>/dev/null
fi
rm -f "$RUN/mirror.pid"
for rule in "-i $OUI_DENIED_VETH-h" "-o $OUI_DENIED_VETH-h"; do
  # shellcheck disable=SC2086 # the rule's words
  while iptables -D FORWARD $rule -m comment --comment oui-testbed -j ACCEPT 2>/dev/null; do :; done
done
ip link del "$OUI_DENIED_VETH-h" 2>/dev/null
ip netns del "$OUI_DENIED_NETNS" 2>/dev/null
rm -f "$RUN/ca-bundle.pem" "$RUN/pebble-root.pem" "$RUN/acme-ca.pem"
exit 0
