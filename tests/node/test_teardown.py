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
import yaml

from helpers import REPO, require
from realnode_lock import real_node_lock

pytestmark = pytest.mark.realnode

NODE = "oui-real-a"

# Stop, inspect, start again: one bash under the cluster lock, so that no concurrent
# `make cluster` restarts the node half-way. The inspection prints one line per finding.
SCRIPT = r"""
source cluster/lib.sh
take_lock
t0=$(date +%s.%N)
node_down
echo "TEARDOWN_SECONDS $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
set +e +o pipefail
for f in /proc/[0-9]*/cmdline; do
  cmd="$(tr '\0' ' ' <"$f" 2>/dev/null)"
  case "$cmd" in
    bash\ *|"") ;;  # this script itself (its text names the directories)
    *oui-node*) echo "LEFT process ${f//[^0-9]/} ${cmd:0:120}" ;;
  esac
done
awk '{print $5}' /proc/self/mountinfo | grep -E '^(/var/lib/oui-node|/run/oui-node)' | sed 's/^/LEFT mount /'
for t in mangle nat filter; do
  iptables -t "$t" -S 2>/dev/null | grep -E '^-N (KUBE|CNI)-' | sed "s/^/LEFT iptables $t /"
done
for ns in /run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  ip netns exec "${ns##*/}" ip -4 -o addr 2>/dev/null | grep -q ' 10\.88\.0\.' && echo "LEFT netns $ns"
done
ip link show oui-cni0 >/dev/null 2>&1 && echo "LEFT link oui-cni0"
ls -d /sys/fs/cgroup/*/oui-node 2>/dev/null | sed 's/^/LEFT cgroup /'
[[ -e /var/lib/oui-node || -e /run/oui-node ]] && echo "LEFT directory /var/lib/oui-node or /run/oui-node"
set -e
node_up
echo "JOIN_SECONDS $(cat /var/lib/oui-node/join-seconds 2>/dev/null)"
"""


def test_teardown_removes_everything_and_the_node_comes_back(test_cluster):
    proc = test_cluster.kubectl("get", "node", NODE, "-o", "json", check=False)
    require(proc.returncode == 0, f"the test cluster has no real node {NODE} (see make cluster's output)")
    ns = f"oui-real-teardown-{secrets.token_hex(3)}"
    test_cluster.kubectl("create", "namespace", ns, check=False)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sandbox", "namespace": ns},
           "spec": {"nodeSelector": {"node.oui.io/real": "true"},
                    "tolerations": [{"key": "node.oui.io/real", "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [{"name": "pause", "image": f"localhost/oui-node/pause:{_k8s_version()}",
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


def _k8s_version() -> str:
    return yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]["kubernetes"]
