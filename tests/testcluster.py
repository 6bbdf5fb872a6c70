"""The `test_cluster` session fixture: the project's test cluster (cluster/).

`test_cluster` yields a `TestCluster` with
  .kubeconfig  Path of the admin kubeconfig (client certificate, may impersonate)
  .bin_dir     Path of the cluster's own binaries (kubectl and helm at the cluster's version)
  .env         dict for subprocesses: os.environ plus KUBECONFIG, PATH with .bin_dir first
               (so kubectl/helm there win over the machine's older ones), HELM_PLUGINS
               (the helm-diff plugin) and the platform's outside world (PLATFORM_KEYS: the
               chart mirror, the ingress address, the ACME server, the denied source)

It runs cluster/up.sh and reads the KEY=value lines it prints; up.sh reuses a healthy cluster (in about a second), replaces a stale
one, builds missing binaries and starts one otherwise, all under a file lock shared with
`make cluster`, so concurrent pytest sessions on one machine share a single cluster safely.
The cluster is NOT stopped at the end of the session (`make cluster-down` does that).

To run the same tests against another cluster, set OUI_TEST_KUBECONFIG to its kubeconfig:
nothing is built or started then, and kubectl/helm come from PATH.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness_plugin import record_phase
from helpers import require
from testbed import key_values

REPO = Path(__file__).resolve().parent.parent
CLUSTER_DIR = REPO / "cluster"
# What cluster/platform/up.sh prints and the local inventory reads (docs/testing.md).
PLATFORM_KEYS = ("OUI_CHART_MIRROR", "OUI_INGRESS_ADDRESS", "OUI_INGRESS_DOMAIN", "OUI_CA_BUNDLE", "OUI_ACME_SERVER",
                 "OUI_ACME_CA_BUNDLE", "OUI_DENIED_SOURCE_ADDRESS", "OUI_DENIED_SOURCE_NETNS")


@dataclass
class TestCluster:
    __test__ = False  # not a test class, despite the name

    kubeconfig: Path
    bin_dir: Path
    env: dict = field(repr=False)
    start_seconds: float = 0.0
    start_log: str = field(default="", repr=False)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None,
                timeout: int = 120) -> subprocess.CompletedProcess:
        """Run the cluster's kubectl; on failure with check=True, fail with its output."""
        proc = subprocess.run([str(self.bin_dir / "kubectl"), *args], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


    @contextlib.contextmanager
    def node_lock(self, *, exclusive: bool):
        """Coordinate with other pytest sessions on the same cluster: a test that cordons or
        drains nodes holds this exclusively (and uncordons before releasing it); a test whose
        placement assertions need every node schedulable (e.g. 2 pods per zone) holds it
        shared."""
        digest = hashlib.sha256(str(self.kubeconfig).encode()).hexdigest()[:12]
        with open(Path(tempfile.gettempdir()) / f"oui-cluster-nodes-{digest}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield


def _external_cluster(kubeconfig: str) -> TestCluster:
    path = Path(kubeconfig).expanduser()
    require(path.is_file(), f"OUI_TEST_KUBECONFIG={kubeconfig} does not exist")
    kubectl = shutil.which("kubectl")
    require(kubectl is not None, "OUI_TEST_KUBECONFIG is set but no kubectl on PATH")
    env = {**os.environ, "KUBECONFIG": str(path)}
    return TestCluster(kubeconfig=path, bin_dir=Path(kubectl).parent, env=env)


def start_test_cluster() -> TestCluster:
    """Start (or reuse) the project's test cluster; skip loudly when it cannot run here."""
    external = os.environ.get("OUI_TEST_KUBECONFIG")
    if external:
        return _external_cluster(external)
    require(shutil.which("go") is not None,
            "no Go toolchain on PATH: the test cluster is built from upstream Go modules (install Go >= 1.26)")
    require(shutil.which("flock") is not None and shutil.which("ss") is not None,
            "the test cluster scripts need flock (util-linux) and ss (iproute2)")
    t0 = time.monotonic()
    proc = subprocess.run(["bash", str(CLUSTER_DIR / "up.sh")], cwd=REPO, capture_output=True, text=True,
                          timeout=int(os.environ.get("OUI_CLUSTER_UP_TIMEOUT", "5400")), check=False)
    seconds = time.monotonic() - t0
    record_phase("cluster start (cluster/up.sh, from the test_cluster fixture)", seconds,
                 "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})")
    if proc.returncode != 0:
        pytest.fail(f"cluster/up.sh failed ({proc.returncode}):\n{proc.stderr[-6000:]}\n{proc.stdout[-2000:]}")
    info = key_values(proc.stdout)
    kubeconfig, bin_dir = Path(info["KUBECONFIG"]), Path(info["OUI_BIN_DIR"])
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "HELM_PLUGINS": info["HELM_PLUGINS"],
           # The platform's outside world (cluster/platform/up.sh): what the local inventory reads.
           **{key: value for key, value in info.items() if key in PLATFORM_KEYS}}
    return TestCluster(kubeconfig=kubeconfig, bin_dir=bin_dir, env=env, start_seconds=seconds,
                       start_log=proc.stderr)


@pytest.fixture(scope="session")
def test_cluster() -> TestCluster:
    """The test cluster, started if needed and left running (make cluster-down stops it)."""
    return start_test_cluster()
