"""app_node_selector and app_tolerations (added for the real node) render as intended.

Rendered by the role itself (app_render_dir: the same templates as a real apply, no cluster).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import run_playbook

pytestmark = pytest.mark.unit

REAL = {"app_node_selector": {"node.oui.io/real": "true"},
        "app_tolerations": [{"key": "node.oui.io/real", "operator": "Equal", "value": "true",
                             "effect": "NoSchedule"}]}
ISOLATED_TOLERATION = {"key": "node.oui.io/pool", "operator": "Equal", "value": "isolated", "effect": "NoSchedule"}


def _pod_spec(tmp_path: Path, **extra) -> dict:
    run = run_playbook("playbooks/app.yml", "inventories/local/hosts.yml",
                       extra_vars={**extra, "app_render_dir": str(tmp_path)})
    assert run.returncode == 0, run.tail()
    for path in sorted(tmp_path.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "Deployment":
                return doc["spec"]["template"]["spec"]
    pytest.fail(f"no Deployment rendered in {tmp_path}")


def test_defaults_add_no_placement(tmp_path):
    spec = _pod_spec(tmp_path)
    assert "nodeSelector" not in spec and "tolerations" not in spec


def test_real_node_placement(tmp_path):
    spec = _pod_spec(tmp_path, **REAL)
    assert spec["nodeSelector"] == {"node.oui.io/real": "true"}
    assert spec["tolerations"] == REAL["app_tolerations"]


def test_merged_with_the_isolated_pool(tmp_path):
    spec = _pod_spec(tmp_path, app_isolated_pool=True, **REAL)
    assert spec["nodeSelector"] == {"node.oui.io/pool": "isolated", "node.oui.io/real": "true"}
    assert spec["tolerations"] == [ISOLATED_TOLERATION, *REAL["app_tolerations"]]
