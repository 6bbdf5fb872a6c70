"""Fixtures for the test-cluster tests: a throw-away namespace per test."""
from __future__ import annotations

import json
import secrets

import pytest


@pytest.fixture
def namespace(test_cluster, request):
    """A namespace of this test only (unique name, so concurrent sessions never collide),
    deleted afterwards. Labelled like every object the collection creates."""
    name = f"oui-t-{request.node.name[5:30].replace('_', '-').strip('-').lower()}-{secrets.token_hex(3)}"
    manifest = {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {
            "app.kubernetes.io/managed-by": "oui.platform", "app.kubernetes.io/part-of": "oui-platform-tests",
            "platform.oui.io/environment": "local"}},
    }
    test_cluster.kubectl("create", "-f", "-", input=json.dumps(manifest))
    try:
        yield name
    finally:
        test_cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
