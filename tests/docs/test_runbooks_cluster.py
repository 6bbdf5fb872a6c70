"""Runbook commands against the test cluster's real API server, as written on the page.

The zone-outage runbook's node commands (cordon, drain, taint, uncordon) and the certificate
runbook's NetworkPolicy are run exactly as the pages print them, with `--dry-run=server` added:
the API server parses, validates and admits them, and nothing changes on the shared cluster.
"""
from __future__ import annotations

import re
import secrets
import subprocess

import pytest

from tests.docs.test_docs import DOCS, FENCE_RE, body

pytestmark = pytest.mark.cluster

NODE_VERBS = ("cordon", "uncordon", "drain", "taint")


def shell_commands(page: str) -> list[str]:
    """The commands of a page's sh blocks, continuation lines joined, comments dropped."""
    commands = []
    for m in FENCE_RE.finditer((DOCS / page).read_text()):
        if m.group(3) not in ("sh", "bash"):
            continue
        text = re.sub(r"\\\n\s*", "", body(m))
        commands += [line.split(" #")[0].strip() for line in text.splitlines() if line.strip()]
    return commands


def run(test_cluster, command: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], env={**test_cluster.env, **env},
                          input=stdin, capture_output=True, text=True, timeout=180)


def node_state(test_cluster) -> str:
    return test_cluster.kubectl(
        "get", "nodes", "-o", r"jsonpath={range .items[*]}{.metadata.name} {.spec.unschedulable} {.spec.taints}{'\n'}{end}",
    ).stdout


def test_zone_outage_node_commands_are_accepted_by_the_api_server(test_cluster):
    zones = test_cluster.kubectl(
        "get", "nodes", "-o", r"jsonpath={range .items[*]}{.metadata.labels.topology\.kubernetes\.io/zone}{'\n'}{end}",
    ).stdout.split()
    assert len(set(zones)) >= 3, f"the test cluster should have nodes in three zones, has {sorted(set(zones))}"
    zone = sorted(set(zones))[0]
    commands = [c for c in shell_commands("runbooks/zone-outage.md")
                if c.split()[:2] in (["kubectl", verb] for verb in NODE_VERBS)]
    assert len(commands) >= 5, commands
    before = node_state(test_cluster)
    for command in commands:
        # (a later --timeout wins: a drain held up by someone's PodDisruptionBudget stops in a minute)
        extra = " --timeout=60s" if command.split()[1] == "drain" else ""
        proc = run(test_cluster, f"{command} --dry-run=server{extra}", {"ZONE": zone})
        output = proc.stdout + proc.stderr
        # The shared cluster is unchanged (kubectl taint prints no "(server dry run)" suffix, so
        # the nodes themselves are the proof that nothing was applied).
        assert node_state(test_cluster) == before, f"{command} changed the nodes:\n{output}"
        if command.endswith("-") and "not found" in output:
            # Removing a taint the nodes do not carry: parsed, matched the zone's nodes, refused.
            print(f"ok (zone {zone}, nothing to remove): {command}")
            continue
        if command.split()[1] == "drain" and "disruption budget" in output:
            print(f"ok (zone {zone}, eviction held by a PodDisruptionBudget, as drain should): {command}")
            continue
        assert proc.returncode == 0, f"{command}\n{output}"
        assert re.search(rf"node/\S+ (cordoned|uncordoned|drained|tainted|untainted)", output) or "evicting" in output \
            or "server dry run" in output, f"{command}: no node of zone {zone} was addressed:\n{output}"
        print(f"ok (zone {zone}): {command}")


def test_certificate_runbook_network_policy_is_valid(test_cluster):
    namespace = f"oui-t-docs-{secrets.token_hex(3)}"
    test_cluster.kubectl("create", "namespace", namespace)
    try:
        page = (DOCS / "runbooks" / "certificate-not-issued.md").read_text()
        blocks = [body(m) for m in FENCE_RE.finditer(page)
                  if m.group(3) == "sh" and "kind: NetworkPolicy" in m.group(4)]
        assert len(blocks) == 1, "the certificate runbook should carry one NetworkPolicy block"
        command = blocks[0].replace("kubectl apply", "kubectl apply --dry-run=server", 1)
        proc = run(test_cluster, command, {"NS": namespace})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "networkpolicy.networking.k8s.io/acme-http01-solver serverside-applied (server dry run)" in proc.stdout
    finally:
        test_cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)
