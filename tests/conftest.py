"""Shared pytest configuration.

Fixtures for the heavier tiers live next to their tests (tests/<area>/conftest.py).
A test that needs something unavailable calls `require()`, which skips it with the
reason in the summary (pytest runs with -ra), or fails it when OUI_REQUIRE_ALL=1.
Test modules import shared code from `helpers` (tests/helpers.py), never from `conftest`:
several directories have a conftest.py, and that module name is ambiguous.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import REPO


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def versions() -> dict:
    """The single versions file, as the roles see it."""
    return yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]


from testcluster import test_cluster  # noqa: E402,F401 (the test cluster fixture, issue 3)
from backupstack import backup_stack  # noqa: E402,F401 (the local Velero + S3, issue 11)
