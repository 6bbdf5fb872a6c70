"""Policy checks over the access role's RENDERED manifests, and the access matrix loader.

`violations(docs)` returns one line per breach of the access rules: wildcards, escalation verbs,
dangerous subresources, RBAC or webhook writes and Secret access outside the admin role, and
bindings that hand a limited group the admin role or a built-in role that reads Secrets.
Aggregated ClusterRoles are checked with the rules they aggregate, as the API server would fill them.
"""
from __future__ import annotations

from pathlib import Path

import yaml

ADMIN_ROLES = frozenset({"oui-platform-admin"})
# The one non-admin role that may touch Secrets: by name, without list/watch (the app's Secret).
SECRET_BY_NAME_ROLES = frozenset({"oui-ci-deployer"})
SECRET_BY_NAME_VERBS = frozenset({"get", "create", "update", "patch", "delete"})
READ_VERBS = frozenset({"get", "list", "watch"})
ESCALATION_VERBS = frozenset({"escalate", "bind", "impersonate", "approve"})
# Any verb on these is an escalation path (proxy to kubelets, minting tokens, approving certificates).
NEVER_RESOURCES = frozenset({"nodes/proxy", "services/proxy", "pods/proxy", "serviceaccounts/token",
                             "certificatesigningrequests/approval", "certificatesigningrequests/status"})
# Reading these is fine; changing them is an admin's job (RBAC, admission, webhooks, CRDs).
READ_ONLY_RESOURCES = frozenset({"roles", "rolebindings", "clusterroles", "clusterrolebindings",
                                 "validatingwebhookconfigurations", "mutatingwebhookconfigurations",
                                 "validatingadmissionpolicies", "validatingadmissionpolicybindings",
                                 "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
                                 "customresourcedefinitions", "certificatesigningrequests"})
# Built-in roles that must never be bound to a limited group (edit and admin read Secrets).
BUILTIN_BROAD_ROLES = frozenset({"cluster-admin", "admin", "edit"})


def load_docs(directory: Path) -> list[dict]:
    docs: list[dict] = []
    for path in sorted(directory.glob("*.yml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _matches(labels: dict, selector: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def effective_rules(docs: list[dict]) -> dict[str, list[dict]]:
    """ClusterRole/Role name -> rules, with aggregated ClusterRoles filled from the rendered components."""
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    rules: dict[str, list[dict]] = {}
    for role in roles:
        name = role["metadata"]["name"]
        own = list(role.get("rules") or [])
        for selector in (role.get("aggregationRule") or {}).get("clusterRoleSelectors", []):
            for other in roles:
                if other is not role and other["kind"] == "ClusterRole" and _matches(other["metadata"].get("labels", {}), selector):
                    own += other.get("rules") or []
        rules[name] = own
    return rules


def rule_violations(role: str, rule: dict) -> list[str]:
    if role in ADMIN_ROLES:
        return []
    found = []
    verbs = set(rule.get("verbs", []))
    resources = set(rule.get("resources", []))
    where = f"{role}: rule {rule}"
    for field in ("apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"):
        if any("*" in value for value in rule.get(field, [])):
            found.append(f"{where}: wildcard in {field}")
    if verbs & ESCALATION_VERBS:
        found.append(f"{where}: escalation verb(s) {sorted(verbs & ESCALATION_VERBS)}")
    if resources & NEVER_RESOURCES:
        found.append(f"{where}: forbidden resource(s) {sorted(resources & NEVER_RESOURCES)}")
    if resources & READ_ONLY_RESOURCES and verbs - READ_VERBS:
        found.append(f"{where}: writes {sorted(resources & READ_ONLY_RESOURCES)} (RBAC/admission/webhooks are admin-only)")
    if "secrets" in resources:
        allowed = (role in SECRET_BY_NAME_ROLES and rule.get("resourceNames") and verbs <= SECRET_BY_NAME_VERBS)
        if not allowed:
            found.append(f"{where}: Secret access outside the admin role (only {sorted(SECRET_BY_NAME_ROLES)} "
                         f"may, by resourceNames, without list/watch)")
    return found


def violations(docs: list[dict]) -> list[str]:
    found: list[str] = []
    for role, rules in effective_rules(docs).items():
        for rule in rules:
            found += rule_violations(role, rule)
    admin_groups: set[str] = set()
    limited_groups: set[str] = set()
    for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]["name"]
        groups = {s["name"] for s in binding.get("subjects") or [] if s["kind"] == "Group"}
        if ref in BUILTIN_BROAD_ROLES:
            found.append(f"{binding['kind']} {binding['metadata']['name']}: binds built-in role {ref}")
        (admin_groups if ref in ADMIN_ROLES else limited_groups).update(groups)
    for group in sorted(admin_groups & limited_groups):
        found.append(f"group {group} is bound both to the admin role and to a limited role")
    return found


def load_matrix(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def split_resource(resource: str) -> tuple[str, str, str]:
    """'deployments.apps/scale' -> ('apps', 'deployments', 'scale'), as `kubectl auth can-i` spells it."""
    resource, _, subresource = resource.partition("/")
    name, _, group = resource.partition(".")
    return group, name, subresource
