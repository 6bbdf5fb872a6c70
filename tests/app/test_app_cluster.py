"""The app role against the real test cluster (real API server, scheduler, controllers,
admission; kwok nodes in zones a, b, c and an isolated pool).

kwok marks pods Running and Ready without running them: readiness, rollout completion and
availability below are SIMULATED as far as the containers go (the probes never run); the
scheduling (spread, taints, cordons), the eviction API with the PDB, the rollout
mechanics, admission (Pod Security) and the environment guard are real.

Each session deploys into a namespace of its own (app_namespace=oui-app-t-<random>), so
concurrent sessions and the real `oui` namespace are never touched; the last test removes
it with app_state=absent.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter

import pytest

from app_render import FIXTURE_DIGEST
from helpers import run_playbook

pytestmark = pytest.mark.cluster

SIMULATED = "simulated (kwok nodes: pods are reported Ready, no container runs)"


class App:
    """The app deployed by this session, and the ways the tests look at it."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.namespace = f"oui-app-t-{secrets.token_hex(3)}"
        self.vars = {"app_namespace": self.namespace}

    def play(self, playbook="playbooks/app.yml", inventory="inventories/local/hosts.yml", **kwargs):
        extra = {**self.vars, **kwargs.pop("extra_vars", {})}
        return run_playbook(playbook, inventory, extra_vars=extra, env=self.cluster.env, **kwargs)

    def get(self, *args) -> dict:
        return json.loads(self.cluster.kubectl("get", *args, "-o", "json").stdout)

    def pods(self) -> list[dict]:
        items = self.get("pods", "-n", self.namespace, "-l", "app.kubernetes.io/name=oui-app")["items"]
        return [p for p in items if "deletionTimestamp" not in p["metadata"]]

    def zones(self) -> dict[str, str]:
        return {n["metadata"]["name"]: n["metadata"]["labels"].get("topology.kubernetes.io/zone", "")
                for n in self.get("nodes")["items"]}

    def pods_per_zone(self) -> Counter:
        zones = self.zones()
        return Counter(zones[p["spec"]["nodeName"]] for p in self.pods())

    def deployment(self) -> dict:
        return self.get("deployment", "oui-app", "-n", self.namespace)

    def wait_available(self, count: int, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            status = self.deployment()["status"]
            done = (status.get("availableReplicas", 0) == count and status.get("updatedReplicas", 0) == count
                    and status.get("replicas", 0) == count)
            if done or time.monotonic() > deadline:
                assert done, f"deployment not settled at {count} replicas: {status}"
                return status
            time.sleep(1)


@pytest.fixture(scope="module")
def app(test_cluster):
    deployed = App(test_cluster)
    yield deployed
    # test_absent_removes_... removes it through the role; this covers a partial run (-k, -x).
    test_cluster.kubectl("delete", "namespace", deployed.namespace, "--wait=false", "--ignore-not-found", check=False)


def test_check_mode_on_a_fresh_namespace_creates_nothing(app):
    """Before the first converge: --check reports the change, lists what it would create, creates nothing."""
    check = app.play(check=True, diff=True)
    assert check.returncode == 0, check.tail(80)
    assert check.changed >= 1
    assert f"check mode: namespace {app.namespace} does not exist yet" in check.output, check.tail(80)
    assert app.cluster.kubectl("get", "namespace", app.namespace, check=False).returncode != 0


@pytest.fixture(scope="module")
def converged(app):
    first = app.play()
    assert first.returncode == 0, first.tail(80)
    return first


def test_converge(converged):
    assert converged.failed == 0
    assert converged.changed > 0, "the first converge of a fresh namespace changed nothing"


def test_converge_again_changes_nothing(app, converged):
    again = app.play()
    assert again.returncode == 0, again.tail(80)
    assert again.changed == 0, again.tail(80)


def test_check_diff_reports_no_change_on_a_converged_cluster(app, converged):
    check = app.play(check=True, diff=True)
    assert check.returncode == 0, check.tail(80)
    assert check.changed == 0, check.tail(80)


def test_rollout_completes_with_six_replicas(app, converged):
    """Rollout mechanics are real; the pods' readiness is simulated (kwok)."""
    out = app.cluster.kubectl("rollout", "status", "deployment/oui-app", "-n", app.namespace, "--timeout=120s")
    assert "successfully rolled out" in out.stdout
    app.wait_available(6)
    hpa = app.get("hpa", "oui-app", "-n", app.namespace)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (6, 6)
    print(f"rollout: {SIMULATED}")


def test_six_replicas_spread_two_per_zone(app, converged):
    app.wait_available(6)
    assert app.pods_per_zone() == {"a": 2, "b": 2, "c": 2}
    nodes = app.get("nodes")["items"]
    isolated = {n["metadata"]["name"] for n in nodes if n["metadata"]["labels"].get("node.oui.io/pool") == "isolated"}
    assert isolated, "the test cluster has no isolated pool"
    assert not {p["spec"]["nodeName"] for p in app.pods()} & isolated, "a pod landed on the tainted isolated pool"


def test_every_object_carries_the_environment_label(app, converged):
    kinds = "deployment,service,configmap,serviceaccount,networkpolicy,poddisruptionbudget,hpa,ingress"
    items = app.get(kinds, "-n", app.namespace)["items"]
    # Kubernetes' own per-namespace objects are not the role's.
    ours = [i for i in items if (i["kind"], i["metadata"]["name"]) not in
            {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}]
    assert len(ours) >= 10
    for item in ours + [app.get("namespace", app.namespace)]:
        labels = item["metadata"].get("labels", {})
        assert labels.get("platform.oui.io/environment") == "local", f"{item['kind']}/{item['metadata']['name']}"
        assert labels.get("app.kubernetes.io/managed-by") == "oui.platform", f"{item['kind']}/{item['metadata']['name']}"


def test_a_root_pod_is_refused_in_the_app_namespace(app, converged):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root-pod", "namespace": app.namespace},
           "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"runAsUser": 0}}]}}
    out = app.cluster.kubectl("create", "-f", "-", input=json.dumps(pod), check=False)
    assert out.returncode != 0, "a root pod was admitted"
    assert 'violates PodSecurity "restricted' in out.stderr, out.stderr
    assert app.cluster.kubectl("get", "pod", "root-pod", "-n", app.namespace, check=False).returncode != 0


def test_the_app_pods_pass_admission_as_rendered(app, converged):
    """The Deployment's own pods were admitted under enforce=restricted (else none would exist)."""
    labels = app.get("namespace", app.namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert len(app.pods()) == 6


def test_a_config_change_rolls_the_pods(app, converged):
    before = {p["metadata"]["labels"]["pod-template-hash"] for p in app.pods()}
    assert len(before) == 1
    changed = app.play(extra_vars={"app_config": {"LOG_LEVEL": "debug", "LOG_PROBES": "true"}})
    assert changed.returncode == 0, changed.tail(80)
    assert changed.changed == 1, changed.tail(80)  # the one apply task (ConfigMap and Deployment inside it)
    app.wait_available(6)
    after = {p["metadata"]["labels"]["pod-template-hash"] for p in app.pods()}
    assert len(after) == 1 and after != before, f"pods did not roll: {before} -> {after}"
    config = app.get("configmap", "oui-app-config", "-n", app.namespace)["data"]
    assert config["LOG_PROBES"] == "true"
    back = app.play()
    assert back.returncode == 0, back.tail(80)
    app.wait_available(6)
    print(f"config roll: {SIMULATED}")


def test_draining_a_zone_keeps_the_pdb_and_recovers_elsewhere(app, converged):
    """Eviction, the PDB and the scheduler are real; replacement readiness is simulated (kwok)."""
    app.wait_available(6)
    # The zone's nodes this deployment can use: not the real node (tainted, tests/node), whose
    # pods of other namespaces (make up's) could only go back to it and would block the drain.
    real = {n["metadata"]["name"] for n in app.get("nodes", "-l", "node.oui.io/real=true")["items"]}
    zone_a = sorted(n for n, z in app.zones().items() if z == "a" and n not in real)
    assert zone_a
    lowest = {"available": 6}
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            status = app.deployment()["status"]
            lowest["available"] = min(lowest["available"], status.get("availableReplicas", 0))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        drain = app.cluster.kubectl("drain", *zone_a, "--ignore-daemonsets", "--delete-emptydir-data",
                                    "--pod-selector=app.kubernetes.io/instance=oui-app-local",
                                    "--timeout=180s", timeout=240, check=False)
        assert drain.returncode == 0, drain.stderr
        status = app.wait_available(6)
        stop.set()
        watcher.join(timeout=5)
        per_zone = app.pods_per_zone()
        assert per_zone.get("a", 0) == 0 and sum(per_zone.values()) == 6, per_zone
        assert per_zone == {"b": 3, "c": 3}, per_zone
        pending = [p["metadata"]["name"] for p in app.pods() if p["status"].get("phase") != "Running"]
        assert not pending, f"pods left Pending: {pending}"
        # maxUnavailable 1: the drain never took more than one replica away at a time.
        assert lowest["available"] >= 5, f"available replicas fell to {lowest['available']} during the drain"
        print(f"drain: lowest available {lowest['available']}/6, then {status['availableReplicas']} Available "
              f"in zones {dict(per_zone)}; {SIMULATED}")
    finally:
        stop.set()
        app.cluster.kubectl("uncordon", *zone_a, check=False)


@pytest.mark.parametrize("inventory, extra, current_context, needle", [
    ("inventories/prod/hosts.yml", {"app_image_digest": FIXTURE_DIGEST}, False,
     "environment guard: the inventory for environment=prod names kube context platform_kube_context=oui-prod"),
    ("inventories/prod/hosts.yml", {"app_image_digest": FIXTURE_DIGEST}, True,
     "environment guard: the inventory is for environment=prod cluster=oui-prod, but the cluster"),
    ("inventories/local/hosts.yml", {"platform_environment": "beta"}, False,
     "environment guard: the inventory is for environment=beta cluster=oui-local, but the cluster"),
], ids=["prod-inventory", "prod-inventory-on-the-right-context", "beta-override"])
def test_the_guard_refuses_a_mismatched_inventory_and_changes_nothing(app, converged, inventory, extra,
                                                                       current_context, needle):
    if current_context:
        # Even pointed at the test cluster's real context, the prod inventory meets the identity check.
        extra = {**extra, "platform_kube_context": app.cluster.kubectl("config", "current-context").stdout.strip()}
    identity_before = app.get("cm", "platform-identity", "-n", "kube-system")["metadata"]["resourceVersion"]
    target_ns = f"{app.namespace}-guard"
    run = app.play(inventory=inventory, extra_vars={**extra, "app_namespace": target_ns})
    assert run.returncode != 0, run.tail(60)
    assert needle in run.output.replace("\n        ", " "), run.tail(60)
    assert run.changed == 0, run.tail(60)
    assert "Apply the app's objects" not in run.output, "the refused run reached the apply step"
    assert app.cluster.kubectl("get", "namespace", target_ns, check=False).returncode != 0
    assert app.get("cm", "platform-identity", "-n", "kube-system")["metadata"]["resourceVersion"] == identity_before


def test_verify_playbook_says_simulated(app, converged):
    run = app.play("playbooks/verify.yml")
    assert run.returncode == 0, run.tail(80)
    assert "simulated: 6 pods on nodes" in run.output, run.tail(80)
    assert "simulated: ingress check skipped" in run.output, run.tail(80)


def test_adopt_shows_what_it_found_then_stamps_once(app, test_cluster):
    """Adoption on a scratch identity name, so the test cluster's real identity is untouched."""
    token = secrets.token_hex(3)
    identity = f"platform-identity-t-{token}"
    ingress_class = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                     "metadata": {"name": f"nginx-t-{token}"}, "spec": {"controller": "k8s.io/ingress-nginx"}}
    adopt_vars = {"_preflight_identity_name": identity}
    test_cluster.kubectl("create", "-f", "-", input=json.dumps(ingress_class))
    try:
        look = app.play("playbooks/adopt.yml", extra_vars=adopt_vars)
        assert look.returncode == 0 and look.changed == 0, look.tail(60)
        assert "identity: none (not adopted yet)" in look.output, look.tail(60)
        assert f"ingressclass/nginx-t-{token}" in look.output, "the unowned IngressClass was not reported"
        assert "re-run with -e adopt_confirm=true" in look.output
        assert test_cluster.kubectl("get", "cm", identity, "-n", "kube-system", check=False).returncode != 0

        stamp = app.play("playbooks/adopt.yml", extra_vars={**adopt_vars, "adopt_confirm": True})
        assert stamp.returncode == 0 and stamp.changed == 1, stamp.tail(60)
        data = app.get("cm", identity, "-n", "kube-system")["data"]
        assert (data["environment"], data["cluster"], data["adopted"]) == ("local", "oui-local", "true")
        assert f"ingressclass/nginx-t-{token}" in data["unowned"].split(",")
        # The unowned IngressClass is reported, never changed.
        assert "labels" not in app.get("ingressclass", f"nginx-t-{token}")["metadata"]

        again = app.play("playbooks/adopt.yml", extra_vars={**adopt_vars, "adopt_confirm": True})
        assert again.returncode == 0 and again.changed == 0, again.tail(60)
        assert "already adopted" in again.output

        other = app.play("playbooks/adopt.yml", extra_vars={**adopt_vars, "adopt_confirm": True,
                                                             "platform_environment": "beta"})
        assert other.returncode != 0 and other.changed == 0
        assert "adopt: the cluster already says environment=local" in other.output.replace("\n        ", " ")
    finally:
        test_cluster.kubectl("delete", "cm", identity, "-n", "kube-system", "--ignore-not-found", check=False)
        test_cluster.kubectl("delete", "ingressclass", f"nginx-t-{token}", "--ignore-not-found", check=False)


def test_absent_removes_the_app_and_its_namespace(app, converged):
    gone = app.play(extra_vars={"app_state": "absent"})
    assert gone.returncode == 0, gone.tail(80)
    assert gone.changed > 0
    assert app.cluster.kubectl("get", "namespace", app.namespace, check=False).returncode != 0
    again = app.play(extra_vars={"app_state": "absent"})
    assert again.returncode == 0 and again.changed == 0, again.tail(80)
