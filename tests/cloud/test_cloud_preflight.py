"""Bad network inputs stop in the preflight, before any AWS API call.

The endpoint is a loopback port nothing listens on: a single API call would fail with a
connection error instead of the preflight's message.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from helpers import REPO
from helpers import run_playbook
from cloud.awslocal import VAULT_VARS, free_port

pytestmark = pytest.mark.unit

ZONES = yaml.safe_load((REPO / "inventories/prod/group_vars/all/network.yml").read_text())["cloud_network_zones"]


def zones_with(index, **changes):
    zones = copy.deepcopy(ZONES)
    zones[index].update(changes)
    return zones


@pytest.mark.parametrize("bad, needle", [
    ({"cloud_network_zones": zones_with(1, private="10.30.32.0/19")},
     "cloud_network_zones[0].private (zone eu-west-3a)=10.30.32.0/19 overlaps cloud_network_zones[1].private"),
    ({"cloud_network_zones": zones_with(2, name="eu-west-3a")},
     "zone eu-west-3a is listed twice"),
    ({"cloud_network_zones": ZONES[:2]}, "lists 2 zones; the plan needs exactly 3 distinct zones"),
    ({"cloud_network_region": "eu-west-9"}, "region='eu-west-9' is not a known AWS region"),
    ({"cloud_network_zones": zones_with(0, private="10.30.32.0/24")}, "is too small: private subnets need /22 or larger"),
    ({"cloud_network_zones": zones_with(0, public="10.99.0.0/24")}, "is outside vpc_cidr=10.30.0.0/16"),
    ({"cloud_network_vpc_cidr": "10.16.0.0/12"}, "AWS accepts prefix lengths /16 to /28"),
    ({"ecr_docker_hub_credential_arn": ""}, "caches registry-1.docker.io, for which ECR requires credential_arn"),
], ids=["overlap", "two-subnets-one-zone", "two-zones", "unknown-region", "too-small", "outside-vpc", "vpc-size",
        "missing-credential"])
def test_bad_plan_fails_in_preflight_before_any_call(bad, needle):
    endpoint = f"http://127.0.0.1:{free_port()}"
    run = run_playbook("playbooks/network.yml", "inventories/prod/hosts.yml",
                       extra_vars={**VAULT_VARS, "cloud_network_endpoint_url": endpoint, **bad},
                       env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert run.returncode != 0
    assert needle in run.output, run.tail()
    assert "Validate the CIDR plan" in run.output or "credential" in needle
    assert "Create the VPC" not in run.output, "the play went past the preflight"
    assert "Could not connect to the endpoint URL" not in run.output, "an AWS call was attempted"


@pytest.mark.parametrize("playbook", ["playbooks/network.yml", "playbooks/cluster.yml"])
@pytest.mark.parametrize("kind", ["test", "adopted"])
def test_local_and_adopted_clusters_skip_the_cloud_steps_and_say_so(playbook, kind):
    run = run_playbook(playbook, "inventories/local/hosts.yml", extra_vars={"platform_cluster_kind": kind},
                       env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert run.returncode == 0 and run.changed == 0, run.tail()
    step = "network" if "network" in playbook else "cluster"
    said = " ".join(run.output.replace("''", "'").split())  # the YAML callback folds and quotes messages
    assert f"step '{step}' SKIPPED: platform_cluster_kind={kind}" in said, run.tail()
    assert "Nothing was created" in said
    assert "oui.platform.cloud_network :" not in run.output and "oui.platform.eks_cluster :" not in run.output
