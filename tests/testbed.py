"""The test bed's paths, names and ports, as cluster/lib/paths.sh names them (read once through
`bash cluster/paths.sh`), and the builder's outputs (cluster/build.sh), for the tests: nothing of
it is typed twice.

    from testbed import PATHS, component
    PATHS["OUI_NODE_NAME"]          # oui-real-a
    component("coredns")["IMAGE_REF"]  # builds it if missing
"""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def key_values(text: str) -> dict[str, str]:
    """The KEY=value lines of a script's output (what the test bed's scripts print)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and line.split("=", 1)[0].isupper())


@functools.cache
def _paths() -> dict[str, str]:
    out = subprocess.run(["bash", str(REPO / "cluster" / "paths.sh")], capture_output=True, text=True, check=True)
    return key_values(out.stdout)


class _Paths(dict):
    def __missing__(self, key: str) -> str:
        self.update(_paths())
        if key not in self:
            raise KeyError(f"cluster/lib/paths.sh names no {key}")
        return self[key]


PATHS = _Paths()


def component(name: str, timeout: int = 5400) -> dict[str, str]:
    """cluster/build.sh info <name>: builds the component if missing; its outputs (BIN_DIR, ...).
    A failed build fails with the builder's message (the failing command's log tail)."""
    proc = subprocess.run(["bash", str(REPO / "cluster" / "build.sh"), "info", name], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"cluster/build.sh info {name} failed:\n{proc.stderr[-4000:]}")
    return key_values(proc.stdout)


# The test bed's addresses as `make cluster-env` prints them (cluster/platform/up.sh), for rendering
# the local inventory without a cluster: the node IP of this machine's test cluster, Pebble's URL.
RENDER_INGRESS_ADDRESS = "192.0.2.2"
RENDER_ACME_SERVER = "https://pebble.pebble.svc:14000/dir"


def render_testbed_env(directory: Path) -> dict[str, str]:
    """Environment stand-ins for rendering the local inventory: a throwaway self-signed CA as the
    ACME server's and the clients' trust anchor (openssl), the chart mirror's usual URL."""
    ca = directory / "render-ca.pem"
    if not ca.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=render-only CA", "-keyout", str(directory / "render-ca.key"), "-out", str(ca)],
                       check=True, capture_output=True)
    return {"OUI_CHART_MIRROR": "http://127.0.0.1:8879", "OUI_INGRESS_ADDRESS": RENDER_INGRESS_ADDRESS,
            "OUI_ACME_SERVER": RENDER_ACME_SERVER, "OUI_ACME_CA_BUNDLE": str(ca), "OUI_CA_BUNDLE": str(ca)}
