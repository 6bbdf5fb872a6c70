"""Backup and restore proved with a real Velero (built from its Go module, run as a local process)
against the test cluster, moto's S3 on loopback as the bucket: playbooks/backup_now.yml and
playbooks/restore_drill.yml as an operator (or AWX) runs them. Durations are printed, not asserted."""
from __future__ import annotations

import json
import re

import pytest

from helpers import run_playbook

pytestmark = pytest.mark.cluster

INVENTORY = "inventories/local/hosts.yml"


def flat(output: str) -> str:
    """The output with the YAML callback's line wrapping undone."""
    return re.sub(r"\n\s+", " ", output)


def figures(output: str) -> dict:
    found = re.search(r"RESTORE DRILL (\{.*?\})", flat(output))
    assert found, output[-3000:]
    return json.loads(found.group(1))


def test_backup_now_backs_up_the_chosen_namespaces(backup_stack, scratch):
    ns = scratch[0]
    backup_stack.cluster.kubectl("create", "namespace", ns)
    backup_stack.cluster.kubectl("-n", ns, "create", "configmap", "one", "--from-literal=a=1")
    run = run_playbook("playbooks/backup_now.yml", INVENTORY, env=backup_stack.env,
                       extra_vars={"backup_now_namespaces": [ns], "restore_drill_backup_prefix": f"now-{ns}"})
    assert run.returncode == 0, run.tail(80)
    done = re.search(r"backup (now-\S+): Completed, (\d+) items in ([\d.]+) s", flat(run.output))
    assert done, run.tail(40)
    assert int(done.group(2)) >= 2, "the namespace's ConfigMap and the namespace itself were not backed up"
    print(f"backup_now: {done.group(1)} {done.group(2)} items in {done.group(3)} s")


def test_backup_now_refuses_an_empty_list(backup_stack):
    run = run_playbook("playbooks/backup_now.yml", INVENTORY, env=backup_stack.env,
                       extra_vars={"backup_now_namespaces": []})
    assert run.returncode != 0
    assert "restore_drill_backup_namespaces must list namespaces" in run.output, run.tail(30)


@pytest.mark.parametrize("configmaps", [3, 500], ids=["seeded", "500-configmaps"])
def test_restore_drill(backup_stack, scratch, configmaps):
    before = backup_stack.bucket_bytes()
    run = run_playbook("playbooks/restore_drill.yml", INVENTORY, env=backup_stack.env, timeout=900,
                       extra_vars={"restore_drill_namespace": scratch[0], "restore_drill_target_namespace": scratch[1],
                                   "restore_drill_configmaps": configmaps})
    assert run.returncode == 0, run.tail(80)
    fig = figures(run.output)
    after = backup_stack.bucket_bytes()
    expected = configmaps + 6
    assert fig["in-place_objects_verified"] == expected and fig["mapped_objects_verified"] == expected, fig
    print(f"restore drill, {configmaps} ConfigMaps + 6 objects: backup {fig['backup_seconds']} s "
          f"({fig['backup_items']} items), restore in place {fig['in-place_restore_seconds']} s, into another namespace "
          f"{fig['mapped_restore_seconds']} s; {2 * expected} objects verified by checksum; "
          f"bucket +{after[0] - before[0]} objects, +{after[1] - before[1]} bytes (total {after[1]} bytes)")


def test_restore_drill_fails_loudly_when_the_location_is_missing(backup_stack, scratch):
    run = run_playbook("playbooks/restore_drill.yml", INVENTORY, env=backup_stack.env,
                       extra_vars={"restore_drill_namespace": scratch[0], "restore_drill_target_namespace": scratch[1],
                                   "restore_drill_storage_location": "nowhere"})
    assert run.returncode != 0
    assert "BackupStorageLocation velero/nowhere" in run.output, run.tail(30)
