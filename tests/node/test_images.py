"""A component's image, built from source by the builder (outputs.image of cluster/components.yml),
runs as a real pod on the test cluster's real node, locked down as the `restricted` Pod Security
profile and a read-only root filesystem ask (the image itself is checked by
tests/image/test_component_images.py).

CoreDNS is the proof: `cluster/image.sh coredns` builds its image (localhost/oui/coredns:<pin>)
and imports it into the node's containerd; a pod serves DNS on an unprivileged port with a
Corefile that forwards to the cluster DNS, and the host asks it for kubernetes.default.
"""
from __future__ import annotations

import json
import secrets
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from helpers import REPO, require
from realnode_lock import real_node_lock
from testbed import PATHS, component, key_values

pytestmark = pytest.mark.realnode

NODE = PATHS["OUI_NODE_NAME"]
TOLERATION = {"key": "node.oui.io/real", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def _dns_a(server: str, port: int, name: str) -> tuple[int, list[str]]:
    """(rcode, A records) of one UDP query."""
    qid = secrets.randbits(16)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1), (server, port))
        data, _ = s.recvfrom(4096)
    rid, flags, _, count, _, _ = struct.unpack(">HHHHHH", data[:12])
    assert rid == qid
    offset, answers = 12 + len(qname) + 4, []
    for _ in range(count):
        if data[offset] & 0xC0 == 0xC0:
            offset += 2
        else:
            while data[offset]:
                offset += data[offset] + 1
            offset += 1
        rtype, _, _, length = struct.unpack(">HHIH", data[offset:offset + 10])
        offset += 10
        if rtype == 1:
            answers.append(socket.inet_ntoa(data[offset:offset + 4]))
        offset += length
    return flags & 0xF, answers


def test_the_image_runs_as_a_locked_down_pod_on_the_real_node(test_cluster):
    proc = test_cluster.kubectl("get", "node", NODE, "-o", "json", check=False)
    require(proc.returncode == 0, f"the test cluster has no real node {NODE} (see make cluster's output)")
    loaded = subprocess.run(["bash", str(REPO / "cluster" / "image.sh"), "coredns"], cwd=REPO, capture_output=True,
                            text=True, timeout=1800, check=False)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    info = key_values(loaded.stdout)
    assert "containerd" in info["LOADED"].split(","), info
    ref = info["IMAGE_REF"]
    cluster_dns = test_cluster.kubectl("-n", "kube-system", "get", "service", "kube-dns", "-o",
                                       "jsonpath={.spec.clusterIP}").stdout.strip()
    kubernetes_ip = test_cluster.kubectl("get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP}").stdout.strip()
    ns = f"oui-image-t-{secrets.token_hex(3)}"
    corefile = f".:1053 {{\n    errors\n    health :8080\n    ready :8181\n    forward . {cluster_dns}:53\n}}\n"
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted"}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "corefile", "namespace": ns},
         "data": {"Corefile": corefile}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns", "namespace": ns},
         "spec": {"nodeSelector": {"node.oui.io/real": "true"}, "tolerations": [TOLERATION],
                  "automountServiceAccountToken": False,
                  "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                  "containers": [{
                      "name": "coredns", "image": ref, "imagePullPolicy": "Never",
                      "args": ["-conf", "/etc/coredns/Corefile"],
                      "ports": [{"containerPort": 1053, "protocol": "UDP"}],
                      "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                          "capabilities": {"drop": ["ALL"]}},
                      "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
                      "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                      "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                      "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}]}],
                  "volumes": [{"name": "config", "configMap": {"name": "corefile"}}]}},
    ]
    with real_node_lock(exclusive=False):
        try:
            t0 = time.monotonic()
            test_cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                         "items": objects}))
            wait = test_cluster.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/coredns", "--timeout=120s",
                                        check=False, timeout=150)
            pod = json.loads(test_cluster.kubectl("-n", ns, "get", "pod", "coredns", "-o", "json").stdout)
            assert wait.returncode == 0, json.dumps(pod["status"])[:3000]
            ready_s = time.monotonic() - t0
            # It answers DNS: a cluster name, through its forward to the cluster DNS.
            rcode, answers = _dns_a(pod["status"]["podIP"], 1053, "kubernetes.default.svc.cluster.local")
            assert rcode == 0 and answers == [kubernetes_ip], (rcode, answers)
            # Its process runs as 65532 (the image's user; runAsNonRoot made the kubelet check it).
            cid = pod["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
            crictl = Path(component("crictl")["BIN_DIR"]) / "crictl"
            inspect = subprocess.run([str(crictl), "--runtime-endpoint", f"unix://{PATHS['OUI_NODE_SOCK']}", "inspect",
                                      cid], capture_output=True, text=True, timeout=60, check=True)
            spec = json.loads(inspect.stdout)["info"]
            assert spec["runtimeSpec"]["process"]["user"]["uid"] == 65532
            assert spec["runtimeSpec"]["root"].get("readonly") is True
            status = Path(f"/proc/{spec['pid']}/status").read_text()
            assert any(line.split()[:2] == ["Uid:", "65532"] for line in status.splitlines()), status
            # No shell to exec into.
            shell = test_cluster.kubectl("-n", ns, "exec", "coredns", "--", "/bin/sh", "-c", "true", check=False)
            assert shell.returncode != 0 and ("no such file" in shell.stderr.lower()
                                              or "not found" in shell.stderr.lower()), shell.stderr
            print(f"\nreal node: pod {ns}/coredns ({ref}) Ready in {ready_s:.1f} s, uid 65532, read-only root; "
                  f"{pod['status']['podIP']}:1053 answers kubernetes.default -> {answers[0]}; "
                  f"exec /bin/sh: {shell.stderr.strip()[-100:]}")
        finally:
            test_cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
