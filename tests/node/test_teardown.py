"""The real node's teardown leaves nothing behind, and the node comes back.

With a pod running on it (so that there is a sandbox, a netns, CNI chains and mounts to
remove), the node is stopped the way `make cluster-down` stops it (node_down, under the
cluster lock), the machine is inspected, and the node is started again (node_up) so that
the shared cluster keeps its real node. The rest of the cluster is not touched.
"""
from __future__ import annotations

import json
import secrets
import subprocess
import time

import pytest

from helpers import REPO, require
from realnode_lock import real_node_lock
from testbed import PATHS, component

pytestmark = pytest.mark.realnode

NODE = PATHS["OUI_NODE_NAME"]

# Stop, inspect, start again: one bash under the cluster lock, so that no concurrent
# `make cluster` restarts the node half-way (cluster/node/down.sh and up.sh, as cluster/down.sh
# and cluster/up.sh run them). The inspection prints one line per finding.
SCRIPT = r"""
source cluster/lib/control-plane.sh
take_lock
t0=$(date +%s.%N)
bash cluster/node/down.sh
echo "TEARDOWN_SECONDS $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
set +e +o pipefail
for f in /proc/[0-9]*/cmdline; do
  cmd="$(tr '\0' ' ' <"$f" 2>/dev/null)"
  case "$cmd" in
    bash\ *|"") ;;  # this script itself (its text names the directories)
    *oui-node*) echo "LEFT process ${f//[^0-9]/} ${cmd:0:120}" ;;
  esac
done
awk '{print $5}' /proc/self/mountinfo | grep -E "^($OUI_NODE_ROOT|$OUI_NODE_RUN)" | sed 's/^/LEFT mount /'
for t in mangle nat filter; do
  iptables -t "$t" -S 2>/dev/null | grep -E '^-N (KUBE|CNI)-' | sed "s/^/LEFT iptables $t /"
done
for ns in /run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  ip netns exec "${ns##*/}" ip -4 -o addr 2>/dev/null | grep -qF " ${OUI_NODE_POD_CIDR%.*}." && echo "LEFT netns $ns"
done
ip link show "$OUI_NODE_BRIDGE" >/dev/null 2>&1 && echo "LEFT link $OUI_NODE_BRIDGE"
ls -d /sys/fs/cgroup/*/"$OUI_NODE_CGROUP" 2>/dev/null | sed 's/^/LEFT cgroup /'
[[ -e "$OUI_NODE_ROOT" || -e "$OUI_NODE_RUN" ]] && echo "LEFT directory $OUI_NODE_ROOT or $OUI_NODE_RUN"
set -e
bash cluster/node/up.sh
echo "JOIN_SECONDS $(cat "$OUI_NODE_ROOT/join-seconds" 2>/dev/null)"
"""


def test_teardown_removes_everything_and_the_node_comes_back(test_cluster):
    proc = test_cluster.kubectl("get", "node", NODE, "-o", "json", check=False)
    require(proc.returncode == 0, f"the test cluster has no real node {NODE} (see make cluster's output)")
    ns = f"oui-real-teardown-{secrets.token_hex(3)}"
    test_cluster.kubectl("create", "namespace", ns, check=False)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sandbox", "namespace": ns},
           "spec": {"nodeSelector": {"node.oui.io/real": "true"},
                    "tolerations": [{"key": "node.oui.io/real", "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [{"name": "pause", "image": component("pause")["IMAGE_REF"],
                                    "imagePullPolicy": "Never"}]}}
    try:
        test_cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
        test_cluster.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/sandbox", "--timeout=90s", timeout=120)
        with real_node_lock(exclusive=True):  # no other session's pods on the node meanwhile
            run = subprocess.run(["bash", "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=600,
                                 check=False)
        out = run.stdout
        left = [ln for ln in out.splitlines() if ln.startswith("LEFT ")]
        teardown = next((ln.split()[1] for ln in out.splitlines() if ln.startswith("TEARDOWN_SECONDS")), "?")
        join = next((ln.split()[1] for ln in out.splitlines() if ln.startswith("JOIN_SECONDS") and len(ln.split()) > 1),
                    "?")
        print(f"\nreal node: teardown (sandbox running) {teardown} s, nothing left: {not left}; "
              f"started again, join {join} s")
        assert run.returncode == 0, run.stderr[-3000:]
        assert not left, "\n".join(left)
        deadline = time.monotonic() + 60
        while True:
            node = json.loads(test_cluster.kubectl("get", "node", NODE, "-o", "json").stdout)
            if any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"]):
                break
            assert time.monotonic() < deadline, f"{NODE} not Ready again: {run.stderr[-2000:]}"
            time.sleep(1)
    finally:
        test_cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)

