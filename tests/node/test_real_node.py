"""The app on the test cluster's REAL node: kubelet + containerd run its image.

Unlike tests/app (kwok nodes: nothing runs, readiness is simulated), everything below
really happens on this machine: containerd pulls nothing (the image is imported), runc
starts the containers, the kubelet runs the startup/readiness/liveness probes, kube-proxy
programs the Service in iptables, metrics-server feeds the HPA from the kubelet's figures.

The app is deployed by the app role with the local inventory, into a namespace of its own
(oui-real-t-<random>), with extra vars that place it on the real node (node selector +
toleration of its taint) and use the imported image (imagePullPolicy Never). Figures are
printed (join time, pod start to Ready, rolling-update request count, failures and p99,
HPA replicas over time); timings are never asserted.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from realnode import NODE, TOLERATION, Load, RealApp, get_json
from realnode_lock import real_node_lock
from testbed import PATHS, component

pytestmark = pytest.mark.realnode

POD_CIDR = ipaddress.ip_network(PATHS["OUI_NODE_POD_CIDR"])
NODE_ROOT = Path(PATHS["OUI_NODE_ROOT"])


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def app(test_cluster, node, image):
    """The app role deployed onto the real node; removed (app_state=absent) at the end."""
    app = RealApp(test_cluster, image)
    with real_node_lock(exclusive=False):  # no restart of the node by another session meanwhile
        t0 = time.monotonic()
        run = app.play()
        assert run.returncode == 0, run.tail()
        print(f"\nreal node: app role converged into {app.namespace} in {time.monotonic() - t0:.1f} s")
        try:
            yield app
        finally:
            gone = app.play(app_state="absent")
            assert gone.returncode == 0, gone.output[-3000:]


def test_node_joined_and_is_ready(node, versions):
    info = node["status"]["nodeInfo"]
    labels = node["metadata"]["labels"]
    assert info["kubeletVersion"] == f"v{versions['kubernetes']}"
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert labels["node.oui.io/real"] == "true"
    assert labels["topology.kubernetes.io/zone"] in {"a", "b", "c"}
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {}), "kwok must not manage the real node"
    assert {"key": "node.oui.io/real", "value": "true", "effect": "NoSchedule"} in node["spec"]["taints"]
    join = (NODE_ROOT / "join-seconds").read_text().strip() if (NODE_ROOT / "join-seconds").exists() else "?"
    print(f"\nreal node: {NODE} Ready, kubelet {info['kubeletVersion']}, {info['containerRuntimeVersion']}, "
          f"kernel {info['kernelVersion']}; join (kubelet start -> Node Ready) {join} s")


def test_pods_run_on_the_real_node_and_pass_their_real_probes(app, test_cluster):
    pods = app.wait_ready()
    assert len(pods) >= 2
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE
        assert ipaddress.ip_address(pod["status"]["podIP"]) in POD_CIDR, pod["status"]["podIP"]
        status = pod["status"]["containerStatuses"][0]
        assert status["containerID"].startswith("containerd://")
        assert status["ready"] and "running" in status["state"]
        ready_at = _ts(next(c["lastTransitionTime"] for c in pod["status"]["conditions"] if c["type"] == "Ready"))
        started = _ts(status["state"]["running"]["startedAt"])
        created = _ts(pod["metadata"]["creationTimestamp"])
        print(f"\nreal node: pod {pod['metadata']['name']} {pod['status']['podIP']}: created -> container started "
              f"{(started - created).total_seconds():.0f} s, container started -> Ready "
              f"{(ready_at - started).total_seconds():.0f} s (1 s resolution)")
    # The containers are really there: the node's containerd lists them.
    ids = {p["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1] for p in pods}
    crictl = _crictl(test_cluster, "ps", "-q")
    assert ids <= set(crictl.split()), f"containerd does not run {ids}: {crictl}"


def _crictl(test_cluster, *args) -> str:
    bin_dir = component("crictl")["BIN_DIR"]
    proc = subprocess.run([f"{bin_dir}/crictl", "--runtime-endpoint", f"unix://{PATHS['OUI_NODE_SOCK']}",
                           *args], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_service_cluster_ip_answers_hello(app, test_cluster):
    pods = app.wait_ready()
    with urllib.request.urlopen(app.service_url("/"), timeout=5) as resp:
        body = resp.read().decode()
    assert resp.status == 200 and body.strip() == "Hello OUI!", body
    # Only real-node pods behind the Service (kwok pods have fake IPs).
    slices = get_json(test_cluster, "endpointslices", "-n", app.namespace, "-l", "kubernetes.io/service-name=oui-app")
    addresses = {a for s in slices["items"] for e in s.get("endpoints") or [] for a in e["addresses"]}
    assert addresses and addresses <= {p["status"]["podIP"] for p in pods}, addresses
    print(f"\nreal node: GET {app.service_url('/')} (kube-proxy iptables) -> {resp.status} {body.strip()!r}; "
          f"endpoints {sorted(addresses)}")


def test_metrics_answer_from_inside_the_cluster(app, test_cluster, image):
    """A pod on the real node fetches /metrics through the Service, by its cluster DNS name
    (CoreDNS); the answer comes back in the pod's termination message (read from the API)."""
    url = f"http://oui-app.{app.namespace}.svc.cluster.local/metrics"
    script = (f"fetch('{url}').then(async r => {{ const t = await r.text();"
              " const app = t.split('\\n').filter(l => /^(http_|app_info)/.test(l)).join('\\n');"
              " require('fs').writeFileSync('/dev/termination-log', r.status + '\\n' + app.slice(0, 3000));"
              " process.exit(r.status === 200 && t.includes('http_requests_total') ? 0 : 1); })"
              ".catch(e => { require('fs').writeFileSync('/dev/termination-log', String(e)); process.exit(2); })")
    name = f"metrics-probe-{secrets.token_hex(2)}"
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": app.namespace, "labels": {"app.kubernetes.io/name": "metrics-probe"}},
        "spec": {
            "restartPolicy": "Never", "nodeSelector": {"node.oui.io/real": "true"}, "tolerations": [TOLERATION],
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "fetch", "image": image, "imagePullPolicy": "Never", "command": ["node", "-e", script],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "96Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }
    test_cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    try:
        deadline = time.monotonic() + 120
        while True:
            obj = get_json(test_cluster, "pod", name, "-n", app.namespace)
            if obj["status"].get("phase") in ("Succeeded", "Failed") or time.monotonic() > deadline:
                break
            time.sleep(1)
        term = (obj["status"].get("containerStatuses") or [{}])[0].get("state", {}).get("terminated", {})
        message = term.get("message", "")
        assert obj["status"].get("phase") == "Succeeded", f"{obj['status'].get('phase')}: {message[:1500]}"
        assert message.startswith("200") and "http_requests_total" in message
        lines = [ln for ln in message.splitlines() if ln.startswith("http_requests_total")]
        print(f"\nreal node: pod {name} on {obj['spec']['nodeName']} fetched {url} (cluster DNS -> Service): "
              f"{message.splitlines()[0]}, "
              f"{lines[:2]}")
    finally:
        test_cluster.kubectl("delete", "pod", name, "-n", app.namespace, "--ignore-not-found", "--wait=false")


def test_logs_exec_and_port_forward_go_through_the_api_server_to_the_kubelet(app, test_cluster):
    pod = app.wait_ready()[0]["metadata"]["name"]
    ns = ("-n", app.namespace)
    # exec: the container's own node binary answers from inside the pod's namespaces.
    out = test_cluster.kubectl(*ns, "exec", pod, "--", "node", "-e",
                               "fetch('http://127.0.0.1:8000/healthz').then(r => r.text()).then(t => console.log('healthz', t))")
    assert out.stdout.strip() == "healthz OK", out.stdout
    # logs: the kubelet serves the container log (a request was just made; content may be empty
    # at a quiet log level, the call itself must succeed).
    test_cluster.kubectl(*ns, "logs", pod, "--tail=5")
    # port-forward: a local port to the pod's 8000, through the API server and the kubelet.
    proc = subprocess.Popen([str(test_cluster.bin_dir / "kubectl"), *ns, "port-forward", f"pod/{pod}", ":8000"],
                            env=test_cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert port, f"no forwarding line: {line!r}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/", timeout=5) as resp:
            body = resp.read().decode().strip()
        assert body == "Hello OUI!", body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"\nreal node: kubectl exec, logs and port-forward to {pod} work (API server -> kubelet on the node IP)")


def test_rolling_update_under_load_has_zero_failed_requests(app, test_cluster):
    app.wait_ready()
    before = {p["metadata"]["name"] for p in app.pods()}
    with Load(app.service_url("/")) as load:
        time.sleep(5)
        # A configuration change: the ConfigMap's checksum annotation rolls the pods.
        run = app.play(app_config={"LOG_LEVEL": "info"})
        assert run.returncode == 0, run.output[-3000:]
        test_cluster.kubectl("-n", app.namespace, "rollout", "status", "deployment/oui-app", "--timeout=180s",
                             timeout=200)
        time.sleep(5)
    after = {p["metadata"]["name"] for p in app.wait_ready()}
    assert not before & after, f"the pods were not replaced: {sorted(before & after)}"
    print(f"\nreal node: rolling update (config change) under load: {load.summary()}")
    assert load.latencies, "no request was made"
    assert not load.failures, f"{len(load.failures)} failed requests, e.g. {load.failures[:5]}"


def test_killed_and_frozen_containers_are_restarted_by_the_kubelet(app, test_cluster):
    pods = app.wait_ready()
    pod = pods[0]
    name = pod["metadata"]["name"]
    cid = pod["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
    restarts = pod["status"]["containerStatuses"][0]["restartCount"]

    def pid_of(container_id: str) -> int:
        return int(json.loads(_crictl(test_cluster, "inspect", container_id))["info"]["pid"])

    def wait_restart(count: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = get_json(test_cluster, "pod", name, "-n", app.namespace)
            st = obj["status"]["containerStatuses"][0]
            if st["restartCount"] >= count and st.get("ready"):
                return obj
            time.sleep(1)
        pytest.fail(f"{name}: restartCount did not reach {count} within {timeout} s")

    # 1. SIGKILL the app's process (from the host, as an OOM kill or a crash would).
    t0 = time.monotonic()
    os.kill(pid_of(cid), 9)
    obj = wait_restart(restarts + 1, 120)
    last = obj["status"]["containerStatuses"][0]["lastState"]["terminated"]
    print(f"\nreal node: killed {name} (SIGKILL): restartCount {restarts} -> "
          f"{obj['status']['containerStatuses'][0]['restartCount']}, last exit {last.get('exitCode')} "
          f"({last.get('reason')}), Ready again after {time.monotonic() - t0:.0f} s")
    assert last.get("exitCode") == 137

    # 2. Freeze it (SIGSTOP): only the liveness probe can notice; the kubelet restarts it.
    cid = obj["status"]["containerStatuses"][0]["containerID"].split("//", 1)[1]
    t0 = time.monotonic()
    os.kill(pid_of(cid), 19)
    obj = wait_restart(restarts + 2, 180)
    events = get_json(test_cluster, "events", "-n", app.namespace, "--field-selector", f"involvedObject.name={name}")
    history = [(e["reason"], e.get("message", "")[:90], e.get("count", 1)) for e in events["items"]]
    print(f"real node: froze {name} (SIGSTOP): restarted by the kubelet after {time.monotonic() - t0:.0f} s; "
          f"events: " + "; ".join(f"{r} x{c}: {m}" for r, m, c in history))
    assert any(r == "Unhealthy" and "Liveness probe failed" in m for r, m, _ in history), history
    assert any(r == "Killing" and "liveness" in m for r, m, _ in history), history


def test_pod_violating_restricted_is_refused_by_admission(app, test_cluster):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "privileged-probe", "namespace": app.namespace},
           "spec": {"nodeSelector": {"node.oui.io/real": "true"}, "tolerations": [TOLERATION],
                    "containers": [{"name": "c", "image": "localhost/oui/pause:any", "imagePullPolicy": "Never",
                                    "securityContext": {"privileged": True}}]}}
    proc = test_cluster.kubectl("apply", "-f", "-", input=json.dumps(pod), check=False)
    assert proc.returncode != 0
    assert re.search(r'violates PodSecurity "restricted', proc.stderr), proc.stderr
    assert test_cluster.kubectl("get", "pod", "privileged-probe", "-n", app.namespace, check=False).returncode != 0
    print(f"\nreal node: refused by admission before any kubelet saw it: {proc.stderr.strip()[:200]}")


def test_hpa_scales_out_under_load_and_back_in(app, test_cluster, platform):
    """The HPA reads the platform's metrics-server (the platform fixture converges it: the test bed has none)."""
    app.wait_ready()
    minimum = app.vars["app_hpa_min_replicas"]
    timeline: list[tuple[int, int, str]] = []
    t0 = time.monotonic()

    def sample() -> int:
        hpa = get_json(test_cluster, "hpa", "oui-app", "-n", app.namespace)
        metrics = hpa["status"].get("currentMetrics") or []
        util = {m["resource"]["name"]: m["resource"]["current"].get("averageUtilization") for m in metrics
                if m.get("type") == "Resource"}
        n = app.replicas()
        timeline.append((int(time.monotonic() - t0), n, f"cpu {util.get('cpu')}% mem {util.get('memory')}%"))
        return n

    peak = 0
    with Load(app.service_url("/"), workers=8, pause=0) as load:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            peak = max(peak, sample())
            if peak > minimum:
                time.sleep(10)
                peak = max(peak, sample())
                break
            time.sleep(5)
    print(f"\nreal node: HPA load: {load.summary()}")
    scaled_out = peak > minimum
    deadline = time.monotonic() + 240
    while scaled_out and time.monotonic() < deadline:
        if sample() <= minimum:
            break
        time.sleep(5)
    print("real node: HPA replicas over time (s, replicas, utilisation of the requests): "
          + ", ".join(f"{s}s={n} ({c})" for s, n, c in timeline))
    assert scaled_out, f"the HPA did not scale out under load: {timeline}"
    assert timeline[-1][1] <= minimum, f"the HPA did not scale back in: {timeline}"
