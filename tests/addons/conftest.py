"""Fixtures of the add-on tests: every role's values rendered per environment, and the
upstream CRDs (from the projects' Go modules) at the pinned versions."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import addons_upstream as upstream  # noqa: E402
from addons_upstream import ENVIRONMENTS, RENDER_PASSWORD, require  # noqa: E402,F401
from helpers import run_playbook  # noqa: E402


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, testbed_env):
    """env -> every add-on's values and objects, rendered by the roles' own values.yml tasks."""
    out = {}
    for env in ENVIRONMENTS:
        dest = tmp_path_factory.mktemp("addons") / f"{env}.json"
        run = run_playbook("tests/addons/render.yml", f"inventories/{env}/hosts.yml",
                           extra_vars={"render_out": str(dest), "monitoring_grafana_admin_password": RENDER_PASSWORD},
                           env=testbed_env)
        assert run.returncode == 0, run.tail()
        out[env] = json.loads(dest.read_text())
    return out


@pytest.fixture(scope="session")
def crd_schemas(versions):
    """(apiVersion, kind) -> openAPIV3Schema of the upstream CRDs at the pinned versions."""
    files = []
    for key in upstream.CRD_MODULES:
        found, reason = upstream.crd_files(key, versions["crds"][key])
        require(bool(found), reason)
        files += found
    return upstream.load_crds(files)
