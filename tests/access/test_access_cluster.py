"""The access role against the test cluster's real API server.

Converges playbooks/access.yml twice (the second run must report changed=0), checks every row of
tests/access/matrix.yml with a SubjectAccessReview and prints the table, exercises rows with REAL
identities (client certificates signed for the test cluster, a ServiceAccount token from the
TokenRequest API), proves the ValidatingAdmissionPolicy with real patches, then tears down with
access_state=absent (twice, changed=0).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from access_policy import load_matrix, split_resource
from helpers import require
from helpers import REPO, run_playbook
from identities import client_certificate_kubeconfig, token_kubeconfig

pytestmark = pytest.mark.cluster

PLAYBOOK = "playbooks/access.yml"
INVENTORY = "inventories/local/hosts.yml"
MATRIX = REPO / "tests" / "access" / "matrix.yml"
# The role's defaults overlaid with the local inventory: what the converge uses (templated values aside).
ACCESS = {**yaml.safe_load((REPO / "roles" / "access" / "defaults" / "main.yml").read_text()),
          **yaml.safe_load((REPO / "inventories" / "local" / "group_vars" / "all" / "access.yml").read_text())}
APP_NS = ACCESS["access_app_namespaces"][0]
PROBE = "access-probe"
POLICY = "oui-developer-deployment-patch"


@pytest.fixture(scope="module")
def cluster(request):
    try:
        return request.getfixturevalue("test_cluster")
    except pytest.FixtureLookupError:
        require(False, "the test_cluster fixture (tests/testcluster.py) is not available in tests/conftest.py")


@pytest.fixture(scope="module")
def play_env(cluster) -> dict:
    """Environment of the playbook runs: the cluster's, with the kube context named as AWX's credential does."""
    context = cluster.kubectl("config", "current-context").stdout.strip()
    return {**cluster.env, "OUI_KUBE_CONTEXT": context}


@pytest.fixture(scope="module")
def api(cluster):
    from kubernetes import config

    return config.new_client_from_config(config_file=str(cluster.kubeconfig))


def probe_deployment() -> dict:
    """A small Deployment the developer restarts, scales and tries to change (restricted-profile pod)."""
    labels = {"app.kubernetes.io/name": PROBE, "app.kubernetes.io/managed-by": "oui-access-tests"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": PROBE, "namespace": APP_NS, "labels": labels},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": PROBE}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "probe", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }]}},
        },
    }


@pytest.fixture(scope="module")
def converged(cluster, play_env):
    """The app namespace (a labelled scratch one when the app role has not made it), two converges."""
    created_namespace = cluster.kubectl("get", "namespace", APP_NS, check=False).returncode != 0
    if created_namespace:
        cluster.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": APP_NS, "labels": {"platform.oui.io/test-fixture": "access",
                                                    "pod-security.kubernetes.io/enforce": "restricted"}}}))
    cluster.kubectl("apply", "-f", "-", input=json.dumps(probe_deployment()))
    runs = []
    for _ in range(2):
        t0 = time.monotonic()
        runs.append((run_playbook(PLAYBOOK, INVENTORY, env=play_env), time.monotonic() - t0))
    state = {"runs": runs, "absent_done": False}
    yield state
    cluster.kubectl("delete", "deployment", PROBE, "-n", APP_NS, "--ignore-not-found", check=False)
    if not state["absent_done"]:
        run_playbook(PLAYBOOK, INVENTORY, env=play_env, extra_vars={"access_state": "absent"})
    if created_namespace:
        cluster.kubectl("delete", "namespace", APP_NS, "--wait=false", "--ignore-not-found", check=False)


def subject_identity(matrix: dict, name: str) -> tuple[str, list[str]]:
    subject = matrix["subjects"][name]
    if "serviceaccount" in subject:
        namespace, account = subject["serviceaccount"].split("/")
        return (f"system:serviceaccount:{namespace}:{account}",
                ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"])
    return subject["user"], subject["groups"] + ["system:authenticated"]


def can(api, user: str, groups: list[str], namespace: str, verb: str, resource: str, name: str | None = None) -> bool:
    from kubernetes import client

    group, plural, subresource = split_resource(resource)
    review = client.AuthorizationV1Api(api).create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user=user, groups=groups, resource_attributes=client.V1ResourceAttributes(
            namespace=namespace or None, verb=verb, group=group, resource=plural, subresource=subresource or None,
            name=name))))
    return bool(review.status.allowed)


def wait_for(predicate, timeout: float = 60, interval: float = 1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_converge_twice_second_run_changes_nothing(converged):
    (first, first_s), (second, second_s) = converged["runs"]
    assert first.returncode == 0 and first.failed == 0, first.tail()
    assert second.returncode == 0, second.tail()
    print(f"\nconverge 1: changed={first.changed} in {first_s:.1f} s; converge 2: changed={second.changed} in {second_s:.1f} s")
    assert second.changed == 0, second.tail(120)


def test_check_mode_after_converge_reports_no_change(converged, cluster, play_env):
    run = run_playbook(PLAYBOOK, INVENTORY, env=play_env, check=True, diff=True)
    assert run.returncode == 0, run.tail()
    assert run.changed == 0, run.tail(120)


def test_access_matrix(converged, api):
    matrix = load_matrix(MATRIX)
    lines, mismatches = [], []
    header = f"{'#':>3}  {'subject':<12}{'namespace':<13}{'verb':<12}{'resource':<62}{'expected':<9}{'got':<6}"
    for index, row in enumerate(matrix["rows"], start=1):
        user, groups = subject_identity(matrix, row["subject"])
        allowed = can(api, user, groups, row["namespace"], row["verb"], row["resource"], row.get("name"))
        got = "allow" if allowed else "deny"
        resource = row["resource"] + (f" ({row['name']})" if row.get("name") else "")
        mark = "ok" if got == row["expected"] else "MISMATCH"
        lines.append(f"{index:>3}  {row['subject']:<12}{row['namespace'] or '(cluster)':<13}{row['verb']:<12}"
                     f"{resource:<62}{row['expected']:<9}{got:<6}{mark}")
        if got != row["expected"]:
            mismatches.append(lines[-1])
    allows = sum(r["expected"] == "allow" for r in matrix["rows"])
    print(f"\naccess matrix ({len(matrix['rows'])} rows, {allows} allow, {len(matrix['rows']) - allows} deny)\n"
          + header + "\n" + "\n".join(lines))
    assert not mismatches, "rows that do not match:\n" + "\n".join(mismatches)


@pytest.fixture(scope="module")
def identities(converged, cluster, api, tmp_path_factory):
    """Kubeconfigs of real identities: one client certificate per persona, and the ci-deployer's token."""
    directory = tmp_path_factory.mktemp("identities")
    matrix = load_matrix(MATRIX)
    made, how = {}, set()
    for persona in ("admin", "developer", "viewer"):
        subject = matrix["subjects"][persona]
        issued = client_certificate_kubeconfig(directory, cluster.kubeconfig, api, subject["user"], subject["groups"])
        require(issued is not None, "the test cluster has no CA key in its state dir and does not sign CSRs "
                                    "(kube-controller-manager without --cluster-signing-* flags)")
        made[persona], method = issued
        how.add(method)
    token = cluster.kubectl("create", "token", ACCESS["access_ci_deployer_name"], "-n",
                            ACCESS["access_ci_deployer_namespace"], "--duration", "10m").stdout.strip()
    made["ci-deployer"] = token_kubeconfig(directory, cluster.kubeconfig, "ci-deployer", token)
    print(f"\nclient certificates: {', '.join(sorted(how))}; ci-deployer: TokenRequest token")
    return made


def kubectl_as(cluster, kubeconfig: Path, *args: str, input: str | None = None):
    import subprocess

    return subprocess.run([str(cluster.bin_dir / "kubectl"), "--kubeconfig", str(kubeconfig), *args],
                          env={**cluster.env, "KUBECONFIG": str(kubeconfig)}, input=input, capture_output=True,
                          text=True, timeout=60, check=False)


REAL_ROWS = [
    # persona, kubectl arguments, expected
    ("admin", ["get", "secrets", "-n", "kube-system"], "allow"),
    ("developer", ["get", "secrets", "-n", APP_NS], "deny"),
    ("developer", ["get", "pods", "-n", APP_NS], "allow"),
    ("developer", ["get", "pods", "-n", "kube-system"], "deny"),
    ("developer", ["get", "nodes"], "allow"),
    ("viewer", ["get", "pods", "-n", "kube-system"], "allow"),
    ("viewer", ["get", "secrets", "-n", "kube-system"], "deny"),
    ("viewer", ["scale", f"deployment/{PROBE}", "-n", APP_NS, "--replicas=1"], "deny"),
    ("developer", ["scale", f"deployment/{PROBE}", "-n", APP_NS, "--replicas=1"], "allow"),
    ("ci-deployer", ["get", "deployments", "-n", APP_NS], "allow"),
    ("ci-deployer", ["get", "deployments", "-n", "kube-system"], "deny"),
    ("ci-deployer", ["get", "secrets", "-n", APP_NS], "deny"),
    ("ci-deployer", ["create", "rolebinding", "escalate", "-n", APP_NS, "--clusterrole=oui-platform-admin",
                     f"--serviceaccount={APP_NS}:ci-deployer"], "deny"),
]


def test_real_identities_carry_their_groups(identities, cluster):
    matrix = load_matrix(MATRIX)
    for persona, kubeconfig in identities.items():
        proc = kubectl_as(cluster, kubeconfig, "auth", "whoami", "-o", "json")
        assert proc.returncode == 0, proc.stderr
        user = json.loads(proc.stdout)["status"]["userInfo"]
        expected_user, expected_groups = subject_identity(matrix, persona)
        print(f"\n{persona}: authenticated as {user['username']} in {user.get('groups')}")
        assert user["username"] == expected_user
        assert set(expected_groups) <= set(user.get("groups", []))


@pytest.mark.parametrize("persona, args, expected", REAL_ROWS, ids=[f"{p}-{' '.join(a[:2])}-{e}" for p, a, e in REAL_ROWS])
def test_real_identity_rows(identities, cluster, persona, args, expected):
    proc = kubectl_as(cluster, identities[persona], *args)
    print(f"\n{persona}: kubectl {' '.join(args)} -> rc={proc.returncode} {proc.stderr.strip()[:200]}")
    if expected == "allow":
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), proc.stdout + proc.stderr


def test_ci_deployer_manages_only_the_apps_secret(identities, cluster):
    kubeconfig = identities["ci-deployer"]
    secret_name = ACCESS["access_ci_deployer_secret_names"][0]

    def secret(name: str) -> str:
        return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": APP_NS},
                          "stringData": {"access-test": "1"}})

    other = kubectl_as(cluster, kubeconfig, "apply", "--server-side", "--field-manager=ci", "-f", "-",
                       input=secret("database-credentials"))
    assert other.returncode != 0 and "forbidden" in other.stderr.lower(), other.stdout + other.stderr
    if cluster.kubectl("get", "secret", secret_name, "-n", APP_NS, check=False).returncode == 0:
        # The app role made it: read it by name, change nothing.
        proc = kubectl_as(cluster, kubeconfig, "get", "secret", secret_name, "-n", APP_NS)
        assert proc.returncode == 0, proc.stderr
        return
    # Created by name through server-side apply (authorized as create with a name), then deleted.
    created = kubectl_as(cluster, kubeconfig, "apply", "--server-side", "--field-manager=ci", "-f", "-",
                         input=secret(secret_name))
    assert created.returncode == 0, created.stderr
    deleted = kubectl_as(cluster, kubeconfig, "delete", "secret", secret_name, "-n", APP_NS)
    assert deleted.returncode == 0, deleted.stderr


def _template(cluster) -> dict:
    return json.loads(cluster.kubectl("get", "deployment", PROBE, "-n", APP_NS, "-o", "json").stdout)["spec"]["template"]


def test_admission_policy_lets_developers_restart_and_scale_only(identities, cluster):
    developer = identities["developer"]
    image_before = _template(cluster)["spec"]["containers"][0]["image"]
    refused = {
        "change the image": ["set", "image", f"deployment/{PROBE}", "probe=registry.k8s.io/pause:3.9"],
        "add an env var": ["set", "env", f"deployment/{PROBE}", "DEBUG=1"],
        "add another template annotation": ["patch", f"deployment/{PROBE}", "--type=merge", "-p",
                                            '{"spec":{"template":{"metadata":{"annotations":{"sidecar":"yes"}}}}}'],
        "relabel the Deployment": ["label", f"deployment/{PROBE}", "team=dev"],
        "change the strategy": ["patch", f"deployment/{PROBE}", "--type=merge", "-p",
                                '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'],
    }
    for what, args in refused.items():
        proc = kubectl_as(cluster, developer, *args, "-n", APP_NS)
        print(f"\ndeveloper may not {what}: rc={proc.returncode} {proc.stderr.strip()[:160]}")
        assert proc.returncode != 0 and POLICY in proc.stderr, f"{what}: {proc.stdout}{proc.stderr}"
    assert _template(cluster)["spec"]["containers"][0]["image"] == image_before

    allowed = {
        "restart": ["rollout", "restart", f"deployment/{PROBE}"],
        "patch the replica count": ["patch", f"deployment/{PROBE}", "--type=merge", "-p", '{"spec":{"replicas":2}}'],
        "scale through the scale subresource": ["scale", f"deployment/{PROBE}", "--replicas=1"],
    }
    for what, args in allowed.items():
        proc = kubectl_as(cluster, developer, *args, "-n", APP_NS)
        print(f"developer may {what}: rc={proc.returncode} {proc.stdout.strip()[:120]}")
        assert proc.returncode == 0, f"{what}: {proc.stderr}"
    assert "kubectl.kubernetes.io/restartedAt" in _template(cluster)["metadata"].get("annotations", {})

    # The policy narrows developers only: an admin changes the image.
    admin = kubectl_as(cluster, identities["admin"], "set", "image", f"deployment/{PROBE}",
                       "probe=registry.k8s.io/pause:3.9", "-n", APP_NS)
    assert admin.returncode == 0, admin.stderr


def test_exec_is_withdrawn_when_the_inventory_turns_debug_off(converged, cluster, api, play_env):
    user, groups = subject_identity(load_matrix(MATRIX), "developer")
    off = run_playbook(PLAYBOOK, INVENTORY, env=play_env, extra_vars={"access_developer_debug": False})
    assert off.returncode == 0, off.tail()
    assert wait_for(lambda: not can(api, user, groups, APP_NS, "create", "pods/exec"), 30), "exec still allowed"
    assert can(api, user, groups, APP_NS, "get", "pods/log")
    back = run_playbook(PLAYBOOK, INVENTORY, env=play_env)
    assert back.returncode == 0 and back.changed > 0, back.tail()
    assert wait_for(lambda: can(api, user, groups, APP_NS, "create", "pods/exec"), 30), "exec not restored"


def test_missing_app_namespace_stops_before_any_change(converged, cluster, play_env):
    missing = "oui-access-missing"
    run = run_playbook(PLAYBOOK, INVENTORY, env=play_env, extra_vars={
        "access_app_namespaces": [missing], "access_ci_deployer_namespace": missing,
        "access_workload_sizing": {missing: ACCESS["access_workload_sizing"][APP_NS]}})
    assert run.returncode != 0
    assert f"app namespace(s) {missing} do not exist" in " ".join(run.output.split()), run.tail()
    assert run.changed == 0, run.tail()
    assert cluster.kubectl("get", "namespace", missing, check=False).returncode != 0


def test_absent_removes_everything_and_is_idempotent(converged, cluster, api, play_env):
    user, groups = subject_identity(load_matrix(MATRIX), "developer")
    first = run_playbook(PLAYBOOK, INVENTORY, env=play_env, extra_vars={"access_state": "absent"})
    converged["absent_done"] = first.returncode == 0
    assert first.returncode == 0, first.tail()
    second = run_playbook(PLAYBOOK, INVENTORY, env=play_env, extra_vars={"access_state": "absent"})
    assert second.returncode == 0 and second.changed == 0, second.tail()
    assert cluster.kubectl("get", "clusterrole", "oui-developer", check=False).returncode != 0
    assert cluster.kubectl("get", "validatingadmissionpolicy", POLICY, check=False).returncode != 0
    assert not can(api, user, groups, APP_NS, "get", "pods")
    print(f"\nabsent: changed={first.changed}, then changed={second.changed}")
