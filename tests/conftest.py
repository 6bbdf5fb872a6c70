"""Shared pytest configuration.

Fixtures for the heavier tiers live next to their tests (tests/<area>/conftest.py).
A test that needs something this machine lacks calls `require()` (a machine skip, which fails
`make test`); one that meets a documented design limit calls `design_limit()` (tests/skips.py).
The harness plugin (tests/harness_plugin.py) prints both counts with each reason, and the time of
each tier marker and test directory.
Test modules import shared code from `helpers` (tests/helpers.py), never from `conftest`:
several directories have a conftest.py, and that module name is ambiguous.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import REPO
from testbed import render_testbed_env

pytest_plugins = ["harness_plugin", "pytester"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def testbed_env(tmp_path_factory) -> dict:
    """What `make cluster-env` prints for the local inventory, as render-only stand-ins (no cluster)."""
    return render_testbed_env(tmp_path_factory.mktemp("testbed-env"))


@pytest.fixture(scope="session")
def versions() -> dict:
    """The single versions file, as the roles see it."""
    return yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]


from testcluster import test_cluster  # noqa: E402,F401 (the test cluster fixture)
from backupstack import backup_stack  # noqa: E402,F401 (the local Velero + S3)
