"""The test cluster does what the roles' tests rely on.

Real: kube-apiserver (validation, admission incl. PodSecurity, RBAC, impersonation, eviction),
kube-scheduler (zones, spread, taints), kube-controller-manager (rollouts, PDB status), etcd.
Simulated (kwok): the nodes. Pods become Running/Ready at once, without running a container;
assertions that a Deployment is "Available" rely on that simulation and say so.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from helpers import REPO, design_limit, require

pytestmark = pytest.mark.cluster


@pytest.fixture
def namespace(test_cluster, request):
    """A namespace of this test only (unique name, so concurrent sessions never collide),
    deleted afterwards. Labelled like every object the collection creates."""
    name = f"oui-t-{request.node.name[5:30].replace('_', '-').strip('-').lower()}-{secrets.token_hex(3)}"
    manifest = {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {
            "app.kubernetes.io/managed-by": "oui.platform", "app.kubernetes.io/part-of": "oui-platform-tests",
            "platform.oui.io/environment": "local"}},
    }
    test_cluster.kubectl("create", "-f", "-", input=json.dumps(manifest))
    try:
        yield name
    finally:
        test_cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def _apply(cluster, ns: str, *objects: dict) -> None:
    cluster.kubectl("-n", ns, "apply", "-f", "-", input=yaml.safe_dump_all(objects))


def _deployment(name: str, replicas: int, *, spread: bool = True, **pod_spec) -> dict:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "oui.platform",
              "platform.oui.io/environment": "local"}
    spec = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "image": "registry.invalid/oui/app:simulated",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}],
        **pod_spec,
    }
    if spread:
        # Honor: cordoned nodes (and tainted pools the pod does not tolerate) are not
        # counted as places to spread to, so a drained zone does not block rescheduling.
        spec["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "nodeTaintsPolicy": "Honor", "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def _zones_of_pods(cluster, ns: str, selector: str) -> collections.Counter:
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    zone = {n["metadata"]["name"]: n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes}
    pods = json.loads(cluster.kubectl("-n", ns, "get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return collections.Counter(zone.get(p["spec"].get("nodeName"), "unscheduled") for p in pods
                               if not p["metadata"].get("deletionTimestamp"))


def _rollout(cluster, ns: str, name: str) -> None:
    cluster.kubectl("-n", ns, "rollout", "status", f"deployment/{name}", "--timeout=120s", timeout=150)
    cluster.kubectl("-n", ns, "wait", "--for=condition=Available", f"deployment/{name}", "--timeout=60s", timeout=90)


def test_versions_nodes_and_identity(test_cluster, versions):
    """Server and kubectl report the pinned version; 3 zones x 2 nodes + the isolated pool; identity."""
    ver = json.loads(test_cluster.kubectl("version", "-o", "json").stdout)
    assert ver["serverVersion"]["gitVersion"] == f"v{versions['kubernetes']}"
    assert ver["clientVersion"]["gitVersion"] == f"v{versions['kubernetes']}"

    nodes = json.loads(test_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    pools = collections.defaultdict(list)
    for n in nodes:
        labels = n["metadata"]["labels"]
        ready = {c["type"]: c["status"] for c in n["status"]["conditions"]}.get("Ready")
        assert ready == "True", f"node {n['metadata']['name']} not Ready"
        pools[labels.get("node.oui.io/pool")].append((labels["topology.kubernetes.io/zone"], n))
    assert collections.Counter(z for z, _ in pools["general"]) == {"a": 2, "b": 2, "c": 2}
    assert len(pools["isolated"]) == 2
    for _, n in pools["isolated"]:
        assert {"key": "node.oui.io/pool", "value": "isolated", "effect": "NoSchedule"} in n["spec"]["taints"]

    cm = json.loads(test_cluster.kubectl("-n", "kube-system", "get", "configmap", "platform-identity",
                                         "-o", "json").stdout)
    assert cm["data"] == {"environment": "local", "cluster": "oui-local"}
    assert cm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform"
    assert cm["metadata"]["labels"]["platform.oui.io/environment"] == "local"


def test_server_side_validation_rejects_malformed_deployment(test_cluster, namespace):
    bad = _deployment("malformed", 1, spread=False)
    bad["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "something-else"}}
    bad["spec"]["template"]["spec"]["containers"][0]["name"] = "Not_A_DNS_Label"
    # --validate=false: the client sends it as is; only the API server can refuse it.
    proc = test_cluster.kubectl("-n", namespace, "create", "--validate=false", "-f", "-",
                                input=json.dumps(bad), check=False)
    assert proc.returncode != 0, proc.stdout
    assert "is invalid" in proc.stderr
    assert "`selector` does not match template `labels`" in proc.stderr
    assert "spec.template.spec.containers[0].name" in proc.stderr
    assert test_cluster.kubectl("-n", namespace, "get", "deployment", "malformed", check=False).returncode != 0


def test_pod_security_restricted_rejects_root_pod(test_cluster, namespace):
    test_cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted",
                         "pod-security.kubernetes.io/enforce-version=latest")
    root = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
            "spec": {"containers": [{"name": "c", "image": "registry.invalid/busybox:simulated",
                                     "securityContext": {"runAsUser": 0}}]}}
    proc = test_cluster.kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(root), check=False)
    assert proc.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in proc.stderr
    assert "runAsNonRoot" in proc.stderr
    # The same namespace admits a pod that meets the profile: the refusal above is the policy.
    ok = _deployment("compliant", 1, spread=False)["spec"]["template"]
    ok = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "compliant", **ok["metadata"]}, "spec": ok["spec"]}
    test_cluster.kubectl("-n", namespace, "create", "-f", "-", input=json.dumps(ok))


def test_rbac_refuses_impersonated_user_without_binding(test_cluster, namespace):
    user = f"oui-test-user-{namespace[-6:]}"
    can = test_cluster.kubectl("-n", namespace, "auth", "can-i", "create", "configmaps", "--as", user, check=False)
    assert can.stdout.strip() == "no"
    proc = test_cluster.kubectl("-n", namespace, "create", "configmap", "x", "--as", user, check=False)
    assert proc.returncode != 0
    assert f'configmaps is forbidden: User "{user}" cannot create resource "configmaps"' in proc.stderr
    # With a binding the same impersonated user may: the refusal came from RBAC.
    test_cluster.kubectl("-n", namespace, "create", "rolebinding", "edit", "--clusterrole=edit", f"--user={user}")
    test_cluster.kubectl("-n", namespace, "create", "configmap", "x", "--as", user)
    assert test_cluster.kubectl("-n", namespace, "get", "configmaps", "--as", f"{user}-other",
                                check=False).returncode != 0


def test_zone_spread_places_two_per_zone(test_cluster, namespace):
    """6 replicas, zone spread (maxSkew 1): 2 per zone, none on the tainted isolated pool.
    "Available" is simulated: kwok marks the pods Ready without running them."""
    with test_cluster.node_lock(exclusive=False):  # no drain of another session meanwhile
        _apply(test_cluster, namespace, _deployment("spread", 6))
        _rollout(test_cluster, namespace, "spread")
        assert _zones_of_pods(test_cluster, namespace, "app.kubernetes.io/name=spread") == {"a": 2, "b": 2, "c": 2}
    pods = json.loads(test_cluster.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    assert not [p for p in pods if p["spec"]["nodeName"].startswith("oui-isolated-")]


def test_isolated_pool_takes_only_tolerating_pods(test_cluster, namespace):
    isolated = _deployment("isolated", 2, spread=False, nodeSelector={"node.oui.io/pool": "isolated"},
                           tolerations=[{"key": "node.oui.io/pool", "operator": "Equal", "value": "isolated",
                                         "effect": "NoSchedule"}])
    _apply(test_cluster, namespace, isolated)
    _rollout(test_cluster, namespace, "isolated")
    pods = json.loads(test_cluster.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    assert {p["spec"]["nodeName"] for p in pods} <= {"oui-isolated-a", "oui-isolated-b"}
    # Without the toleration the scheduler refuses the pool: the pod stays unscheduled.
    _apply(test_cluster, namespace, _deployment("intruder", 1, spread=False,
                                                nodeSelector={"node.oui.io/pool": "isolated"}))
    deadline = time.monotonic() + 60
    while True:
        pods = json.loads(test_cluster.kubectl("-n", namespace, "get", "pods", "-l",
                                               "app.kubernetes.io/name=intruder", "-o", "json").stdout)["items"]
        conditions = {c["type"]: c for p in pods for c in p["status"].get("conditions", [])}
        if "PodScheduled" in conditions or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert conditions["PodScheduled"]["status"] == "False"
    assert "untolerated taint" in conditions["PodScheduled"]["message"]
    assert not pods[0]["spec"].get("nodeName")


def test_drain_zone_respects_pdb_and_moves_replicas(test_cluster, namespace):
    """Draining zone a: first refused by a PDB that allows no disruption, then done one pod
    at a time; the replicas end up in zones b and c. Only this test's pods are evicted
    (--pod-selector), so other sessions' workloads on the shared cluster stay put; the
    nodes are uncordoned whatever happens."""
    name, selector = "drain", "app.kubernetes.io/name=drain"
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
           "spec": {"minAvailable": 6, "selector": {"matchLabels": {"app.kubernetes.io/name": name}}}}
    zone_a = ["oui-a-1", "oui-a-2"]
    drain = ["drain", "--ignore-daemonsets", "--delete-emptydir-data", f"--pod-selector={selector}"]
    with test_cluster.node_lock(exclusive=True):
        _apply(test_cluster, namespace, _deployment(name, 6), pdb)
        _rollout(test_cluster, namespace, name)
        assert _zones_of_pods(test_cluster, namespace, selector) == {"a": 2, "b": 2, "c": 2}
        test_cluster.kubectl("-n", namespace, "wait", f"pdb/{name}", "--for=jsonpath={.status.currentHealthy}=6",
                             "--timeout=60s", timeout=90)
        # The spread is by zone, not by node: both of zone a's pods may sit on one of its nodes,
        # so the refused drain is of a node that holds one (seen: oui-a-1 held none, drained at once).
        pods = json.loads(test_cluster.kubectl("-n", namespace, "get", "pods", "-l", selector, "-o", "json").stdout)
        holding = sorted({p["spec"]["nodeName"] for p in pods["items"]} & set(zone_a))
        with _uncordoned(test_cluster, zone_a):
            refused = test_cluster.kubectl(*drain, "--timeout=15s", holding[0], check=False, timeout=60)
            assert refused.returncode != 0
            assert "disruption budget" in refused.stdout + refused.stderr
            assert _zones_of_pods(test_cluster, namespace, selector)["a"] == 2, "a pod was evicted despite the PDB"

            test_cluster.kubectl("-n", namespace, "patch", f"pdb/{name}", "--type=merge",
                                 "-p", '{"spec":{"minAvailable":5}}')
            test_cluster.kubectl(*drain, "--timeout=120s", *zone_a, timeout=180)
            _rollout(test_cluster, namespace, name)
            assert _zones_of_pods(test_cluster, namespace, selector) == {"b": 3, "c": 3}


@contextlib.contextmanager
def _uncordoned(cluster, nodes):
    """Whatever happens, the nodes are schedulable again afterwards."""
    try:
        yield
    finally:
        cluster.kubectl("uncordon", *nodes, check=False)


def test_measurements(test_cluster, capsys):
    """Prints (never asserts) the cold build time, warm start time and API server memory."""
    if os.environ.get("OUI_TEST_KUBECONFIG"):
        design_limit("external-cluster", "the measurements are of the project's own test cluster")
    state = test_cluster.kubeconfig.parent
    lines = ["test cluster measurements:"]
    # What the builder recorded when it built the current key of each component (cold: into an
    # empty Go build cache; warm: the cache held other builds' packages).
    timings = subprocess.run(["bash", "cluster/build.sh", "timings", "-g", "cluster", "-g", "node"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in timings if line.strip()]
    lines.append("  build of the current keys: " + ", ".join(f"{r[0]} {r[2]} s ({r[3]})" for r in rows))
    start = state / "oui-start-seconds"
    lines.append(f"  warm start (binaries cached): {start.read_text().strip()} s" if start.exists()
                 else "  warm start: not recorded")
    lines.append(f"  this session's cluster/up.sh: {test_cluster.start_seconds:.1f} s")
    pid = (state / "pids" / "kube-apiserver.pid").read_text().strip()
    rss = subprocess.run(["ps", "-o", "rss=", "-p", pid], capture_output=True, text=True, check=False).stdout.strip()
    lines.append(f"  kube-apiserver RSS: {int(rss) / 1024:.0f} MiB" if rss else "  kube-apiserver RSS: not running?")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert rss, "kube-apiserver is not running"


def test_helm_and_helm_diff_are_the_pinned_ones(test_cluster, versions):
    """kubernetes.core.helm finds the cluster's helm 4 and its helm-diff plugin through .env."""
    if os.environ.get("OUI_TEST_KUBECONFIG"):
        design_limit("external-cluster", "helm comes from PATH")
    helm = subprocess.run(["helm", "version", "--template", "{{.Version}}"], env=test_cluster.env,
                          capture_output=True, text=True, check=True)
    assert helm.stdout.strip() == f"v{versions['helm']}"
    plugin = Path(test_cluster.env["HELM_PLUGINS"]) / "diff" / "bin" / "diff"
    require(plugin.exists(), f"the helm-diff plugin was not built ({plugin}): its source is missing, see cluster/components.yml, row helm-diff")
    diff = subprocess.run(["helm", "diff", "version"], env=test_cluster.env, capture_output=True, text=True,
                          check=True)
    assert diff.stdout.strip() == versions["helm_diff"]


def test_molecule_default_scenario_converges_offline(test_cluster, repo):
    """The shared molecule base: converge, idempotence (changed=0) and verify against the cluster."""
    env = {**test_cluster.env, "PATH": f"{test_cluster.bin_dir}{os.pathsep}{repo / '.venv' / 'bin'}{os.pathsep}"
           f"{os.environ.get('PATH', '')}", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1", "PY_COLORS": "0"}
    proc = subprocess.run([str(repo / ".venv" / "bin" / "molecule"), "-c", "molecule/base.yml", "test", "-s", "default"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    for step in ("converge", "idempotence", "verify"):
        assert re.search(rf"default.*{step}.*Executed: Successful", out), f"{step} not successful:\n{out[-3000:]}"
