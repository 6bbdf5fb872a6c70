"""Fixtures of the backup tests; `backup_stack` itself is shared (tests/backupstack.py)."""
from __future__ import annotations

import secrets

import pytest


@pytest.fixture
def scratch(backup_stack):
    """Two fresh scratch namespace names, deleted after the test."""
    base = f"oui-bk-{secrets.token_hex(3)}"
    names = (base, f"{base}-copy")
    yield names
    for ns in names:
        backup_stack.cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)

