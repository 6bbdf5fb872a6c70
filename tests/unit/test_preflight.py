"""The shared preflight refuses bad inventories before anything changes."""
from __future__ import annotations

import pytest

from helpers import run_playbook

pytestmark = pytest.mark.unit


def test_preflight_passes_on_the_local_inventory_without_a_cluster():
    run = run_playbook("playbooks/preflight.yml", extra_vars={"preflight_guard_cluster": False})
    assert run.returncode == 0, run.tail()
    assert run.failed == 0 and run.recap, run.tail()


@pytest.mark.parametrize("bad, needle", [
    ({"platform_environment": "staging"}, "platform_environment=staging must be one of local, beta, prod"),
    ({"platform_cluster_name": ""}, "platform_cluster_name="),
    # declared in the preflight's argument spec: validated before any task runs
    ({"platform_cluster_kind": "nope"}, "value of platform_cluster_kind must be one of: test, kind, eks, adopted, got: nope"),
])
def test_preflight_names_the_bad_variable(bad, needle):
    run = run_playbook("playbooks/preflight.yml", extra_vars={"preflight_guard_cluster": False, **bad})
    assert run.returncode != 0
    assert needle in run.output, run.tail()
