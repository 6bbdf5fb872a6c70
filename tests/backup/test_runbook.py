"""docs/runbooks/restore-drill.md run as written: every ```bash block, in order, in one shell,
against the test cluster and the local Velero, on a seeded scratch namespace."""
from __future__ import annotations

import re
import subprocess
import time

import pytest

from helpers import REPO

pytestmark = pytest.mark.cluster

RUNBOOK = REPO / "docs" / "runbooks" / "restore-drill.md"


def runbook_blocks() -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", RUNBOOK.read_text(), re.M | re.S)


def test_runbook_has_the_five_procedures():
    text = RUNBOOK.read_text()
    for heading in ("Back up the namespace now", "Restore a whole namespace", "Restore a single resource",
                    "Restore into another namespace", "Onto a new cluster, the backup location read-only"):
        assert heading in text, heading
    assert len(runbook_blocks()) == 6


def test_runbook_commands_run_as_written(backup_stack, scratch):
    ns, target = scratch
    kubectl = backup_stack.cluster.kubectl
    kubectl("create", "namespace", ns)
    kubectl("-n", ns, "create", "configmap", "precious", "--from-literal=key=value-1")
    kubectl("-n", ns, "label", "configmap", "precious", "platform.oui.io/restore-item=precious")
    kubectl("-n", ns, "create", "configmap", "other", "--from-literal=key=value-2")
    kubectl("-n", ns, "create", "secret", "generic", "creds", "--from-literal=password=s3cr3t")
    script = "set -euo pipefail\n" + "\n".join(runbook_blocks())
    started = time.monotonic()
    try:
        proc = subprocess.run(["bash", "-c", script], env={**backup_stack.env, "NS": ns, "TARGET_NS": target},
                              capture_output=True, text=True, timeout=900, check=False)
    finally:  # never leave the shared location read-only
        kubectl("-n", "velero", "patch", "backupstoragelocation", "default", "--type", "merge",
                "-p", '{"spec":{"accessMode":"ReadWrite"}}', check=False)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    print(f"runbook: {len(runbook_blocks())} blocks ran in {time.monotonic() - started:.1f} s")
    # after the disaster restore (section 5), the data is the seeded data
    got = kubectl("-n", ns, "get", "configmap", "precious", "-o", "jsonpath={.data.key}").stdout
    assert got == "value-1"
    secret = kubectl("-n", ns, "get", "secret", "creds", "-o", "jsonpath={.data.password}").stdout
    assert secret == "czNjcjN0"  # base64 of s3cr3t
    copied = kubectl("-n", target, "get", "configmap", "other", "-o", "jsonpath={.data.key}").stdout
    assert copied == "value-2"
