# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""oui_eks.wait_with: botocore's EKS waiters driven through the modules' retrying client (Stubber)."""
from __future__ import annotations

import boto3
import botocore.waiter
import pytest
from botocore.stub import Stubber

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import retrying_client
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import wait_with


@pytest.fixture
def eks(monkeypatch):
    slept = []
    monkeypatch.setattr(botocore.waiter.time, "sleep", slept.append)
    client = boto3.client("eks", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield retrying_client(client), stub, slept
        stub.assert_no_pending_responses()


def cluster(status):
    return {"cluster": {"name": "oui-prod", "status": status}}


def test_waits_until_active_and_returns_the_resource(eks):
    client, stub, slept = eks
    stub.add_response("describe_cluster", cluster("CREATING"), {"name": "oui-prod"})
    stub.add_response("describe_cluster", cluster("ACTIVE"), {"name": "oui-prod"})
    found = wait_with(client, "ClusterActive", 60, 15, "EKS cluster oui-prod", "cluster", name="oui-prod")
    assert found == {"name": "oui-prod", "status": "ACTIVE"}
    assert slept == [15]


def test_gone_is_none(eks):
    client, stub, _slept = eks
    stub.add_client_error("describe_cluster", service_error_code="ResourceNotFoundException", http_status_code=404,
                          expected_params={"name": "oui-prod"})
    assert wait_with(client, "ClusterDeleted", 60, 15, "EKS cluster oui-prod", "cluster", name="oui-prod") is None


def test_a_failure_state_stops_the_wait_with_its_status(eks):
    client, stub, _slept = eks
    key = {"clusterName": "oui-prod", "nodegroupName": "pool-a"}
    stub.add_response("describe_nodegroup", {"nodegroup": {"nodegroupName": "pool-a", "status": "CREATE_FAILED"}}, key)
    with pytest.raises(RuntimeError, match="node group pool-a reached status CREATE_FAILED"):
        wait_with(client, "NodegroupActive", 600, 20, "node group pool-a", "nodegroup", **key)


def test_the_timeout_names_the_last_status(eks):
    client, stub, slept = eks
    for _attempt in range(2):
        stub.add_response("describe_cluster", cluster("UPDATING"), {"name": "oui-prod"})
    with pytest.raises(TimeoutError, match=r"timed out after 30s waiting for EKS cluster oui-prod \(last status: UPDATING\)"):
        wait_with(client, "ClusterActive", 30, 15, "EKS cluster oui-prod", "cluster", name="oui-prod")
    assert slept == [15]
