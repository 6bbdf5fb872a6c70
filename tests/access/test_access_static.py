"""Static checks of the access role: the RENDERED manifests of every inventory, and the matrix file.

Renders with the real role (tests/access/render.yml), then checks policy (no wildcards, escalation
verbs or Secret reads outside the admin role), schema, labels, environment differences and the
quota arithmetic. The checker itself is shown to catch each kind of breach.
"""
from __future__ import annotations

import copy
import math

import kubernetes_validate
import pytest
import yaml

from access_policy import effective_rules, load_matrix, split_resource, violations
from helpers import REPO, run_playbook

pytestmark = pytest.mark.unit

ENVIRONMENTS = ("local", "beta", "prod")
MATRIX = REPO / "tests" / "access" / "matrix.yml"


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request, tmp_path_factory):
    env = request.param
    out = tmp_path_factory.mktemp(f"access-{env}")
    run = run_playbook("tests/access/render.yml", f"inventories/{env}/hosts.yml",
                       extra_vars={"preflight_guard_cluster": False, "access_render_dir": str(out)})
    assert run.returncode == 0, run.tail()
    docs = []
    for name in ("rbac", "quotas", "admission"):
        docs += [d for d in yaml.safe_load_all((out / f"{name}.yml").read_text()) if d]
    inventory = yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "access.yml").read_text())
    return env, docs, inventory


def by_kind(docs, kind):
    return {d["metadata"].get("namespace", "") + "/" + d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_rendered_roles_pass_the_policy(rendered):
    env, docs, _ = rendered
    found = violations(docs)
    print(f"\n{env}: {len(docs)} objects, {len(effective_rules(docs))} roles checked, {len(found)} violation(s)")
    assert found == [], "\n".join(found)


def test_rendered_objects_are_valid_for_the_pinned_kubernetes(rendered, versions):
    _, docs, _ = rendered
    for doc in docs:
        kubernetes_validate.validate(doc, versions["kubernetes"], strict=True)


def test_every_object_carries_the_labels_contract(rendered):
    env, docs, _ = rendered
    for doc in docs:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "oui.platform", doc["metadata"]["name"]
        assert labels["platform.oui.io/environment"] == env, doc["metadata"]["name"]
        assert labels["app.kubernetes.io/name"] == "access" and labels["app.kubernetes.io/component"]


def test_exec_and_port_forward_follow_the_inventory(rendered):
    env, docs, inventory = rendered
    developer = {r for rule in effective_rules(docs)["oui-developer"] for r in rule.get("resources", [])}
    viewer = {r for rule in effective_rules(docs)["oui-viewer"] for r in rule.get("resources", [])}
    debug = inventory["access_developer_debug"]
    assert debug == (env != "prod"), "exec/port-forward is for non-prod inventories only"
    assert ({"pods/exec", "pods/portforward"} <= developer) == debug
    assert not viewer & {"pods/exec", "pods/portforward", "pods/log", "secrets"}
    assert "pods/log" in developer


def test_limited_users_are_bound_only_inside_the_app_namespaces(rendered):
    _, docs, inventory = rendered
    namespaces = set(inventory["access_app_namespaces"])
    elsewhere = {k: b for k, b in by_kind(docs, "RoleBinding").items() if b["metadata"]["namespace"] not in namespaces}
    # The only binding outside the app namespaces: the ci-deployer reads the cluster identity (environment guard).
    assert list(elsewhere) == ["kube-system/oui-platform-identity-reader"], list(elsewhere)
    (reader,) = [r for r in docs if r["kind"] == "Role"]
    assert reader["rules"] == [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["platform-identity"],
                                "verbs": ["get"]}]
    cluster_wide = {b["roleRef"]["name"] for b in by_kind(docs, "ClusterRoleBinding").values()
                    if any(s["name"] in inventory["access_developer_groups"] for s in b["subjects"])}
    assert cluster_wide == {"oui-cluster-read"}, "developers get nothing cluster-wide but namespaces and nodes"
    cluster_read = effective_rules(docs)["oui-cluster-read"]
    assert {r for rule in cluster_read for r in rule["resources"]} == {"namespaces", "nodes"}
    assert {v for rule in cluster_read for v in rule["verbs"]} == {"get", "list", "watch"}


def test_viewers_read_in_every_namespace_and_nothing_more(rendered):
    """docs/access.md: viewers read cluster-wide, through one ClusterRoleBinding of oui-viewer,
    which holds only read verbs and neither Secrets nor logs; no RoleBinding narrows them."""
    _, docs, inventory = rendered
    viewers = set(inventory["access_viewer_groups"])
    bound = {b["roleRef"]["name"] for b in by_kind(docs, "ClusterRoleBinding").values()
             if viewers & {s["name"] for s in b["subjects"]}}
    assert bound == {"oui-viewer", "oui-cluster-read"}, bound
    assert not [b for b in by_kind(docs, "RoleBinding").values() if viewers & {s["name"] for s in b["subjects"]}]
    rules = effective_rules(docs)["oui-viewer"]
    assert {v for rule in rules for v in rule["verbs"]} == {"get", "list", "watch"}
    assert not {r for rule in rules for r in rule["resources"]} & {"secrets", "pods/log", "pods/exec", "pods/portforward"}
    matrix = load_matrix(MATRIX)["rows"]
    outside = [r for r in matrix if r["subject"] == "viewer" and r["expected"] == "allow"
               and r["namespace"] not in ("", *inventory["access_app_namespaces"])]
    assert outside, "the access matrix proves no viewer read outside the app namespaces"


def millicores(quantity) -> int:
    quantity = str(quantity)
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def mebibytes(quantity) -> int:
    quantity = str(quantity)
    return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)


def test_quota_fits_a_rolling_update_at_the_hpa_maximum(rendered):
    """The quota follows the app's own inventory values: HPA maximum, its 25% surge, its pod resources."""
    env, docs, inventory = rendered
    app = yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "app.yml").read_text())
    hpa_max, resources = app["app_hpa_max_replicas"], app["app_resources"]
    surge = math.ceil(hpa_max * 0.25)
    for namespace in inventory["access_app_namespaces"]:
        pods = hpa_max + surge + surge  # + room for one wave of pods still terminating
        hard = by_kind(docs, "ResourceQuota")[f"{namespace}/oui-app-quota"]["spec"]["hard"]
        assert hard["pods"] == str(pods)
        assert hard["requests.cpu"] == f"{pods * millicores(resources['requests']['cpu'])}m"
        assert hard["limits.cpu"] == f"{pods * millicores(resources['limits']['cpu'])}m"
        assert hard["requests.memory"] == f"{pods * mebibytes(resources['requests']['memory'])}Mi"
        assert hard["limits.memory"] == f"{pods * mebibytes(resources['limits']['memory'])}Mi"
        limits = by_kind(docs, "LimitRange")[f"{namespace}/oui-app-limits"]["spec"]["limits"][0]
        assert limits["max"] == {k: str(v) for k, v in resources["limits"].items()}
        assert limits["defaultRequest"] == {k: str(v) for k, v in resources["requests"].items()}
        print(f"\n{env} {namespace}: hpa max {hpa_max} + surge {surge} + terminating {surge} = {pods} pods, "
              f"requests.cpu {hard['requests.cpu']}, limits.memory {hard['limits.memory']}")


def test_app_namespace_and_secret_are_the_app_roles():
    app = yaml.safe_load((REPO / "roles" / "app" / "defaults" / "main.yml").read_text())
    for env in ENVIRONMENTS:
        access = yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "access.yml").read_text())
        assert access["access_app_namespaces"] == [app["app_namespace"]], env
        assert access["access_ci_deployer_secret_names"] == [app["app_secret_name"].replace("{{ app_name }}", app["app_name"])]


def test_admission_policy_targets_the_developer_groups(rendered):
    _, docs, inventory = rendered
    (policy,) = by_kind(docs, "ValidatingAdmissionPolicy").values()
    (binding,) = by_kind(docs, "ValidatingAdmissionPolicyBinding").values()
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    condition = policy["spec"]["matchConditions"][0]["expression"]
    for group in inventory["access_developer_groups"] + inventory["access_admin_groups"]:
        assert f'"{group}"' in condition
    expressions = " ".join(v["expression"] for v in policy["spec"]["validations"])
    assert "object.spec.template.spec == oldObject.spec.template.spec" in expressions
    assert "kubectl.kubernetes.io/restartedAt" in expressions
    assert "replicas" not in expressions, "the replica count stays free for developers"


# The checker must be able to fail: each doctored manifest below is one breach it has to report.
def _developer_component(docs):
    return next(d for d in docs if d["metadata"]["name"] == "oui-developer-operate")


BREACHES = {
    "wildcard verb": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}),
    "wildcard resource": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}),
    "secret read": lambda docs: next(d for d in docs if d["metadata"]["name"] == "oui-read")["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}),
    "ci secret list": lambda docs: next(d for d in docs if d["metadata"]["name"] == "oui-ci-deployer")["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["oui-app"], "verbs": ["list"]}),
    "escalate verb": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}),
    "impersonate": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}),
    "node proxy": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}),
    "rbac write": lambda docs: _developer_component(docs)["rules"].append(
        {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]}),
    "admin aggregated into developer": lambda docs: next(
        d for d in docs if d["metadata"]["name"] == "oui-platform-admin")["metadata"]["labels"].update(
        {"rbac.oui.io/aggregate-to-developer": "true"}),
    "built-in edit bound": lambda docs: next(d for d in docs if d["kind"] == "RoleBinding")["roleRef"].update(
        {"name": "edit"}),
    "developer group made admin": lambda docs: next(
        d for d in docs if d["metadata"]["name"] == "oui-platform-admins")["subjects"].append(
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "developers"}),
}


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_the_policy_check_catches(breach, rendered):
    _, docs, _ = rendered
    doctored = copy.deepcopy(docs)
    BREACHES[breach](doctored)
    assert violations(doctored), f"the policy check missed: {breach}"


def test_matrix_is_large_balanced_and_paired():
    matrix = load_matrix(MATRIX)
    rows = matrix["rows"]
    allows = [r for r in rows if r["expected"] == "allow"]
    assert len(rows) >= 40
    assert 0.4 <= len(allows) / len(rows) <= 0.6, f"{len(allows)} allows of {len(rows)}"
    for index, row in enumerate(rows):
        assert set(row) <= {"subject", "namespace", "verb", "resource", "name", "expected"}, row
        assert row["subject"] in matrix["subjects"], row
        assert row["expected"] in ("allow", "deny"), row
        assert split_resource(row["resource"])[1], row
        if row["expected"] == "deny":
            neighbours = rows[max(index - 1, 0):index] + rows[index + 1:index + 2]
            assert any(n["expected"] == "allow" and n["resource"] == row["resource"] for n in neighbours), \
                f"row {index + 1} (deny) has no allow on {row['resource']} next to it"
