"""Shared pytest configuration.

Fixtures for the heavier tiers live next to their tests (tests/<area>/conftest.py).
A test that needs something unavailable calls `require()`, which skips it with the
reason in the summary (pytest runs with -ra), or fails it when OUI_REQUIRE_ALL=1.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def require(condition: bool, reason: str) -> None:
    """Skip loudly (or fail, with OUI_REQUIRE_ALL=1) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("OUI_REQUIRE_ALL") == "1":
        pytest.fail(f"prerequisite missing (OUI_REQUIRE_ALL=1): {reason}")
    pytest.skip(f"SKIPPED, prerequisite missing: {reason}")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def versions() -> dict:
    """The single versions file, as the roles see it."""
    return yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]


from testcluster import test_cluster  # noqa: E402,F401 (the test cluster fixture, issue 3)
