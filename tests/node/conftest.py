"""Fixtures of the real-node tests: the node itself, the app image imported into its containerd,
and the platform converged on the test cluster by site.yml (the add-ons the real node runs:
Traefik, cert-manager, metrics-server)."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from harness_plugin import record_phase
from helpers import REPO, require, run_playbook
from realnode import NODE, ready
from testbed import PATHS
from testcluster import PLATFORM_KEYS


@pytest.fixture(scope="session")
def node(test_cluster) -> dict:
    """The real node, Ready; skipped loudly with cluster/up.sh's reason when it is not there."""
    reason = "; ".join(line.split("] ", 1)[-1] for line in test_cluster.start_log.splitlines()
                       if "[real-node" in line and ("SKIPPED" in line or "FAILED" in line))
    proc = test_cluster.kubectl("get", "node", NODE, "-o", "json", check=False)
    require(proc.returncode == 0, f"the test cluster has no real node {NODE}: {reason or 'see make cluster'}")
    obj = json.loads(proc.stdout)
    require(ready(obj), f"the real node {NODE} is not Ready: {reason or f'see {PATHS["OUI_NODE_LOGS"]}'}")
    return obj


@pytest.fixture(scope="session")
def image(node) -> str:
    """The app image built by image/build.sh, imported into the node's containerd."""
    proc = subprocess.run(["bash", str(REPO / "image" / "build.sh")], cwd=REPO, capture_output=True, text=True,
                          timeout=1800, check=False)
    require(proc.returncode == 0, f"image/build.sh could not build the app image: {proc.stderr[-600:]}")
    ref = proc.stdout.strip().splitlines()[-1]
    t0 = time.monotonic()
    load = subprocess.run(["bash", str(REPO / "cluster" / "node" / "load-image.sh"), ref], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert load.returncode == 0, load.stderr[-2000:]
    print(f"\nreal node: image {ref} imported into containerd (k8s.io) in {time.monotonic() - t0:.1f} s")
    return ref


@pytest.fixture(scope="session")
def platform(test_cluster, node, backup_stack) -> dict:
    """The whole platform on the test cluster: playbooks/site.yml on the local inventory, from the
    chart mirror, with the add-ons' pods on the real node, and Velero's backup location on the
    local backup stack (its server validates it). Returns the run, its time and its environment."""
    missing = [key for key in PLATFORM_KEYS if not test_cluster.env.get(key)]
    require(not missing, f"cluster/up.sh printed no {', '.join(missing)} (cluster/platform/up.sh: see its log above)")
    env = {**backup_stack.env, "PATH": test_cluster.env["PATH"]}
    t0 = time.monotonic()
    run = run_playbook("playbooks/site.yml", "inventories/local/hosts.yml", env=env, timeout=3600)
    seconds = time.monotonic() - t0
    record_phase("site.yml on local (the platform fixture)", seconds, "ok" if run.returncode == 0 else "FAILED")
    assert run.returncode == 0, run.tail()
    return {"run": run, "seconds": seconds, "env": env}
