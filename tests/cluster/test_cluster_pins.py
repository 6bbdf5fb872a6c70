"""The test cluster's wrapper modules build exactly the versions pinned in vars/versions.yml."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

MODULES = Path(__file__).resolve().parents[2] / "cluster" / "modules"


def _required(module_dir: str, path: str) -> str:
    text = (MODULES / module_dir / "go.mod").read_text()
    found = re.findall(rf"^(?:require\s+|\s+){re.escape(path)} (v\S+)", text, re.M)
    assert len(found) == 1, f"{module_dir}/go.mod requires {path} {len(found)} times"
    return found[0]


# Every row of cluster/components.yml built from a wrapper module of this repository.
WRAPPERS = [(name, row) for name, row in yaml.safe_load((MODULES.parent / "components.yml").read_text())["components"].items()
            if row["source"]["kind"] in ("wrapper", "c-static")]


@pytest.mark.parametrize(("name", "row"), WRAPPERS, ids=[w[0] for w in WRAPPERS])
def test_wrapper_module_builds_the_pinned_version(versions, name, row):
    module_dir = Path(row["source"]["dir"]).name
    assert _required(module_dir, row["module"]) == f"v{versions[row['version']]}"
    assert (MODULES / module_dir / "go.sum").stat().st_size > 0


def test_every_staging_module_is_replaced_by_its_release(versions):
    """k8s.io/kubernetes v1.X.Y pairs with staging modules v0.X.Y; a missing or mismatched
    `replace` builds a mix of releases (or fails to resolve ./staging/src paths)."""
    text = (MODULES / "kubernetes" / "go.mod").read_text()
    staging = f"v0.{versions['kubernetes'].split('.', 1)[1]}"
    replaces = dict(re.findall(r"^\s+(k8s\.io/\S+) => \1 (v\S+)$", text, re.M))
    for core in ("k8s.io/api", "k8s.io/apimachinery", "k8s.io/apiserver", "k8s.io/client-go",
                 "k8s.io/component-base", "k8s.io/kubectl", "k8s.io/pod-security-admission"):
        assert core in replaces
    assert set(replaces.values()) == {staging}


def test_etcd_is_supported_by_kubernetes(versions):
    """Kubernetes 1.37 supports etcd >= 3.5.24 (kubeadm's MinExternalEtcdVersion)."""
    major, minor, patch = (int(p) for p in versions["etcd"].split("."))
    assert (major, minor) >= (3, 6) or (major, minor, patch) >= (3, 5, 24)
