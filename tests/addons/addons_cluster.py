"""Helpers of the add-on cluster tests: the test cluster's tools, kubectl and helm."""
from __future__ import annotations

import json
import subprocess

import pytest

from addons_upstream import require

PRE_TAGS = "preflight_inventory,preflight_versions,preflight_guard"


@pytest.fixture(scope="module")
def cluster(request):
    """The test cluster (tests/conftest.py `test_cluster`), with helm and helm-diff checked."""
    try:
        tc = request.getfixturevalue("test_cluster")
    except pytest.FixtureLookupError:
        require(False, "the test_cluster fixture (tests/testcluster.py, make cluster) is not available")
    env = dict(tc.env)
    env.setdefault("HELM_PLUGINS", str(tc.bin_dir.parent / "helm-plugins"))
    env["KUBECONFIG"] = str(tc.kubeconfig)
    # Name the context explicitly, as AWX's kubeconfig credential does (the inventory reads OUI_KUBE_CONTEXT).
    context = subprocess.run(["kubectl", "config", "current-context"], env=env, capture_output=True, text=True, check=False)
    if context.returncode == 0 and context.stdout.strip():
        env.setdefault("OUI_KUBE_CONTEXT", context.stdout.strip())
    helm = subprocess.run(["helm", "plugin", "list"], env=env, capture_output=True, text=True, check=False)
    require(helm.returncode == 0, f"helm is not runnable from the test cluster's bin dir: {helm.stderr.strip()}")
    require(any(line.split()[:1] == ["diff"] for line in helm.stdout.splitlines()),
            f"the helm-diff plugin is not installed in {env['HELM_PLUGINS']} (cluster/components.yml, row helm-diff)")
    return Cluster(env)


class Cluster:
    def __init__(self, env: dict):
        self.env = env

    def run(self, *args, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), env=self.env, input=input, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def kubectl(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run("kubectl", *args, **kw)

    def get(self, *args) -> dict | None:
        proc = self.kubectl("get", *args, "-o", "json", "--show-managed-fields", check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def helm(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run("helm", *args, **kw)
