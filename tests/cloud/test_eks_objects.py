"""What roles/eks_cluster applies to an EKS Auto Mode cluster, rendered for prod: the isolated pool as a NodeClass in
the isolated subnets and a NodePool with the app's label and taint, the ALB IngressClass, and the ingress controller's
NLB handed to Auto Mode's load balancing. Rendered only: moto runs no Kubernetes API server, and the EKS NodeClass
and IngressClassParams CRDs are not published, so these objects were not applied anywhere here."""
from __future__ import annotations

import json

import pytest

from helpers import run_playbook
from cloud.awslocal import VAULT_VARS

pytestmark = pytest.mark.unit

ISOLATED_POOL = {"name": "isolated", "tier": "isolated", "labels": {"node.oui.io/pool": "isolated"},
                 "taints": [{"key": "node.oui.io/pool", "value": "isolated", "effect": "NoSchedule"}]}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("eks") / "objects.json"
    run = run_playbook("tests/cloud/render_eks.yml", "inventories/prod/hosts.yml",
                       extra_vars={**VAULT_VARS, "render_out": str(out), "eks_auto_mode": True,
                                   "eks_cluster_node_groups": [], "eks_cluster_addons": [],
                                   "eks_cluster_auto_node_pools": [ISOLATED_POOL],
                                   "vault_monitoring_grafana_admin_password": "render-only-password-0123456789"})
    assert run.returncode == 0, run.tail()
    return json.loads(out.read_text())


def by_kind(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_isolated_pool_is_a_node_class_in_the_isolated_subnets_and_a_tainted_node_pool(rendered):
    objects = by_kind(rendered["auto_mode"])
    node_class = objects[("NodeClass", "isolated")]
    assert node_class["apiVersion"] == "eks.amazonaws.com/v1"
    assert node_class["spec"]["role"] == "oui-prod-node"
    assert node_class["spec"]["subnetSelectorTerms"] == [{"id": "subnet-i-a"}, {"id": "subnet-i-b"}, {"id": "subnet-i-c"}]
    assert node_class["spec"]["securityGroupSelectorTerms"] == [{"id": "sg-0cluster"}]
    pool = objects[("NodePool", "isolated")]
    assert pool["apiVersion"] == "karpenter.sh/v1"
    template = pool["spec"]["template"]
    assert template["metadata"]["labels"] == {"node.oui.io/pool": "isolated"}
    assert template["spec"]["taints"] == [{"key": "node.oui.io/pool", "value": "isolated", "effect": "NoSchedule"}]
    assert template["spec"]["nodeClassRef"] == {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "isolated"}
    zones = [r for r in template["spec"]["requirements"] if r["key"] == "topology.kubernetes.io/zone"]
    assert zones == [{"key": "topology.kubernetes.io/zone", "operator": "In",
                      "values": ["eu-west-3a", "eu-west-3b", "eu-west-3c"]}]
    for obj in (node_class, pool):
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform"
        assert obj["metadata"]["labels"]["platform.oui.io/environment"] == "prod"


def test_alb_ingress_class_is_auto_modes(rendered):
    objects = by_kind(rendered["auto_mode"])
    ingress_class = objects[("IngressClass", "alb")]
    assert ingress_class["spec"]["controller"] == "eks.amazonaws.com/alb"
    assert ingress_class["spec"]["parameters"] == {"apiGroup": "eks.amazonaws.com", "kind": "IngressClassParams",
                                                   "name": "alb"}
    assert objects[("IngressClassParams", "alb")]["spec"] == {"scheme": "internet-facing"}
    # the app's Ingress objects keep class nginx: the ALB class is offered, never made the default
    assert "ingressclass.kubernetes.io/is-default-class" not in ingress_class["metadata"].get("annotations", {})


def test_ingress_controller_nlb_is_served_by_auto_mode(rendered):
    service = rendered["ingress_nginx"]["controller"]["service"]
    assert service["loadBalancerClass"] == "eks.amazonaws.com/nlb"
    assert service["externalTrafficPolicy"] == "Local"
