"""cloud_network converged against the local AWS endpoint: beta (shared NAT) and prod (NAT per zone).

Converge, converge again (changed=0), check mode on the converged network (changed=0), verify
with boto3, tear down, verify nothing is left. The ECR pull-through cache step is skipped by
tag because moto does not implement its API (checked below, and said in the output); the
module that manages it is tested with botocore's Stubber in tests/unit/plugins/modules/test_aws_modules_stubbed.py.
"""
from __future__ import annotations

import pytest
import yaml

from helpers import REPO
from helpers import run_playbook
from cloud.awslocal import REGION, VAULT_VARS, moto_lacks

pytestmark = pytest.mark.cloud

UNIMPLEMENTED_TAGS = "cloud_network_ecr_cache"


def network_play(aws, env, **extra):
    return run_playbook("playbooks/network.yml", f"inventories/{env}/hosts.yml",
                        extra_vars={"cloud_network_endpoint_url": aws.url, **VAULT_VARS, **extra},
                        env=aws.env, extra_args=["--skip-tags", UNIMPLEMENTED_TAGS])


def plan(env):
    return yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "network.yml").read_text())


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def default_route(route_table):
    return [r for r in route_table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]


def verify_network(aws, env, cluster):
    ec2 = aws.client("ec2")
    owned = [{"Name": "tag:platform.oui.io/cluster", "Values": [cluster]}]
    subnets = ec2.describe_subnets(Filters=owned)["Subnets"]
    by_tier = {}
    for subnet in subnets:
        by_tier.setdefault(tags(subnet)["platform.oui.io/tier"], []).append(subnet)
    assert sorted(by_tier) == ["isolated", "private", "public"]
    for tier, members in by_tier.items():
        assert len({s["AvailabilityZone"] for s in members}) == 3, f"{tier} subnets are not in three zones"
    assert all(not s["MapPublicIpOnLaunch"] for s in by_tier["private"] + by_tier["isolated"])
    assert all(tags(s).get("kubernetes.io/role/elb") == "1" for s in by_tier["public"])
    assert all(tags(s).get("kubernetes.io/role/internal-elb") == "1" for s in by_tier["private"])
    assert sorted(s["CidrBlock"] for s in subnets) == sorted(
        z[t] for z in plan(env)["cloud_network_zones"] for t in ("public", "private", "isolated"))

    nats = [n for n in ec2.describe_nat_gateways(Filter=owned)["NatGateways"] if n["State"] == "available"]
    public_zone = {s["SubnetId"]: s["AvailabilityZone"] for s in by_tier["public"]}
    nat_zone = {n["NatGatewayId"]: public_zone[n["SubnetId"]] for n in nats}
    assert len(nats) == (3 if env == "prod" else 1)

    tables = ec2.describe_route_tables(Filters=owned)["RouteTables"]
    table_of = {a["SubnetId"]: t for t in tables for a in t["Associations"] if a.get("SubnetId")}
    for subnet in by_tier["private"]:
        (route,) = default_route(table_of[subnet["SubnetId"]])
        assert route.get("NatGatewayId") in nat_zone, route
        if env == "prod":
            assert nat_zone[route["NatGatewayId"]] == subnet["AvailabilityZone"], \
                f"private subnet in {subnet['AvailabilityZone']} routes to a NAT in {nat_zone[route['NatGatewayId']]}"
    for subnet in by_tier["isolated"]:
        assert default_route(table_of[subnet["SubnetId"]]) == [], "an isolated subnet has a default route"
    for subnet in by_tier["public"]:
        (route,) = default_route(table_of[subnet["SubnetId"]])
        assert route["GatewayId"].startswith("igw-")

    endpoints = [e for e in ec2.describe_vpc_endpoints(Filters=owned)["VpcEndpoints"] if e["State"] != "deleted"]
    services = {e["ServiceName"].rsplit(".", 1)[-1] if "ecr" not in e["ServiceName"] else e["ServiceName"].split(".", 3)[-1]
                for e in endpoints}
    # eks-auth: EKS Pod Identity's credential exchange, reachable from the isolated subnets without a route out
    assert services == {"s3", "ecr.api", "ecr.dkr", "sts", "logs", "ec2", "eks-auth"}, services
    (s3,) = [e for e in endpoints if e["ServiceName"].endswith(".s3")]
    assert sorted(s3["RouteTableIds"]) == sorted(
        table_of[s["SubnetId"]]["RouteTableId"] for s in by_tier["private"] + by_tier["isolated"])
    (group,) = ec2.describe_security_groups(Filters=owned)["SecurityGroups"]
    assert [(p["FromPort"], p["ToPort"]) for p in group["IpPermissions"]] == [(443, 443)]
    assert {r["CidrIp"] for r in group["IpPermissions"][0]["IpRanges"]} == {
        s["CidrBlock"] for s in by_tier["private"] + by_tier["isolated"]}
    assert group["IpPermissionsEgress"] == []
    (eks_auth,) = [e for e in endpoints if e["ServiceName"] == f"com.amazonaws.{REGION}.eks-auth"]
    assert eks_auth["VpcEndpointType"] == "Interface"
    assert sorted(eks_auth["SubnetIds"]) == sorted(s["SubnetId"] for s in by_tier["private"])
    assert [g["GroupId"] for g in eks_auth["Groups"]] == [group["GroupId"]]

    vpc_id = subnets[0]["VpcId"]
    (flow,) = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    assert flow["TrafficType"] == "ALL" and flow["LogGroupName"] == f"/oui/{cluster}/vpc-flow-logs"


def verify_nothing_left(aws, cluster):
    ec2 = aws.client("ec2")
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"] == []
    assert ec2.describe_addresses()["Addresses"] == []
    assert [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"] != "deleted"] == []
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    assert ec2.describe_internet_gateways()["InternetGateways"] == []
    assert [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]] == []
    assert aws.client("logs").describe_log_groups()["logGroups"] == []


def test_moto_still_lacks_the_skipped_api(aws):
    """The skip above is only honest while moto lacks the API: fail when it gains it."""
    lacks = moto_lacks(lambda: aws.client("ecr").describe_pull_through_cache_rules())
    assert lacks, "moto now implements ECR pull-through cache rules: stop skipping tag cloud_network_ecr_cache"
    print(f"\nNOT TESTED against moto (design limit moto-lacks-api): ECR pull-through cache rules "
          f"(tag {UNIMPLEMENTED_TAGS}); moto 5.2.5 answers: {lacks[:160]}")


@pytest.mark.parametrize("env", ["beta", "prod"])
def test_network_converges_idempotently_and_tears_down(aws, env):
    cluster = f"oui-{env}"
    print(f"\n[{env}] converging against {aws.url}; skipped (moto lacks the API): {UNIMPLEMENTED_TAGS}")
    first = network_play(aws, env)
    assert first.returncode == 0 and first.changed > 0, first.tail()

    again = network_play(aws, env)
    assert again.returncode == 0, again.tail()
    assert again.changed == 0, f"second converge changed {again.changed} task(s):\n{again.tail(120)}"

    check = run_playbook("playbooks/network.yml", f"inventories/{env}/hosts.yml", check=True, diff=True,
                         extra_vars={"cloud_network_endpoint_url": aws.url, **VAULT_VARS}, env=aws.env,
                         extra_args=["--skip-tags", UNIMPLEMENTED_TAGS])
    assert check.returncode == 0 and check.changed == 0, check.tail()

    verify_network(aws, env, cluster)

    down = network_play(aws, env, cloud_network_state="absent")
    assert down.returncode == 0 and down.changed > 0, down.tail()
    verify_nothing_left(aws, cluster)
    down_again = network_play(aws, env, cloud_network_state="absent")
    assert down_again.returncode == 0 and down_again.changed == 0, down_again.tail()
