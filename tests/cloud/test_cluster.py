"""eks_cluster converged against the local AWS endpoint, on top of cloud_network, for beta and prod.

moto 5.2.5 implements the EKS control plane and managed node groups, IAM, KMS, EC2 and Logs,
but not EKS access entries, add-ons or Pod Identity associations, and its ScheduleKeyDeletion
rejects a key ARN (which AWS accepts and amazon.aws.kms_key sends). Those steps are skipped
by tag, the test says so, checks that moto still lacks them (so the skip cannot outlive its
reason), and the modules are tested with botocore's Stubber in tests/unit/plugins/modules/test_aws_modules_stubbed.py.
The Kubernetes objects (gp3 StorageClass, identity ConfigMap) need the cluster's API server,
which moto does not run: tag eks_cluster_kubernetes, skipped here too.
"""
from __future__ import annotations

import pytest
import yaml

from helpers import REPO, run_playbook
from cloud.awslocal import VAULT_VARS, moto_lacks
from cloud.test_network import network_play, verify_nothing_left

pytestmark = pytest.mark.cloud

SKIPPED = {
    "eks_cluster_access": "EKS access entries (CreateAccessEntry, ...)",
    "eks_cluster_addons": "EKS add-ons (CreateAddon, ...)",
    "eks_cluster_pod_identity_association": "EKS Pod Identity associations (CreatePodIdentityAssociation, ...)",
    "eks_cluster_kms_deletion": "KMS ScheduleKeyDeletion with a key ARN (moto raises KeyError, HTTP 500)",
    "eks_cluster_kubernetes": "Kubernetes objects on the cluster (moto runs no API server)",
}


def cluster_play(aws, env, kubeconfig, check=False, **extra):
    return run_playbook("playbooks/cluster.yml", f"inventories/{env}/hosts.yml", check=check, diff=check,
                        extra_vars={"eks_cluster_endpoint_url": aws.url, "eks_cluster_kubeconfig_path": str(kubeconfig),
                                    **VAULT_VARS, **extra},
                        env=aws.env, extra_args=["--skip-tags", ",".join(SKIPPED)])


def test_moto_still_lacks_the_skipped_apis(aws):
    eks = aws.client("eks")
    lacking = {
        "eks_cluster_access": moto_lacks(lambda: eks.list_access_entries(clusterName="any")),
        "eks_cluster_addons": moto_lacks(lambda: eks.list_addons(clusterName="any")),
        "eks_cluster_pod_identity_association": moto_lacks(lambda: eks.list_pod_identity_associations(clusterName="any")),
    }
    kms = aws.client("kms")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    lacking["eks_cluster_kms_deletion"] = moto_lacks(lambda: kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7))
    for tag, answer in lacking.items():
        assert answer, f"moto now handles {SKIPPED[tag]}: stop skipping tag {tag}"
        print(f"\nNOT TESTED against moto (design limit moto-lacks-api): {SKIPPED[tag]} (tag {tag}); "
              f"moto 5.2.5 answers {answer}")
    print(f"NOT TESTED against moto (design limit moto-lacks-api): {SKIPPED['eks_cluster_kubernetes']} "
          "(tag eks_cluster_kubernetes)")


def tier_of(subnets):
    return {s["SubnetId"]: ({t["Key"]: t["Value"] for t in s["Tags"]}["platform.oui.io/tier"], s["AvailabilityZone"])
            for s in subnets}


def verify_cluster(aws, env, kubeconfig):
    name = f"oui-{env}"
    eks = aws.client("eks")
    cluster = eks.describe_cluster(name=name)["cluster"]
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False, vpc
    versions = yaml.safe_load((REPO / "vars/versions.yml").read_text())["platform_versions"]
    assert cluster["version"] == versions["eks_kubernetes"]
    key = aws.client("kms").describe_key(KeyId=f"alias/{name}-eks-secrets")["KeyMetadata"]
    assert cluster["encryptionConfig"] == [{"resources": ["secrets"], "provider": {"keyArn": key["Arn"]}}]
    enabled = {t for s in cluster["logging"]["clusterLogging"] if s["enabled"] for t in s["types"]}
    assert enabled == {"api", "audit", "authenticator", "controllerManager", "scheduler"}

    ec2 = aws.client("ec2")
    subnets = tier_of(ec2.describe_subnets(Filters=[{"Name": "tag:platform.oui.io/cluster", "Values": [name]}])["Subnets"])
    assert {subnets[s][0] for s in vpc["subnetIds"]} == {"private"} and len(vpc["subnetIds"]) == 3

    groups = [eks.describe_nodegroup(clusterName=name, nodegroupName=n)["nodegroup"]
              for n in eks.list_nodegroups(clusterName=name)["nodegroups"]]
    general = [g for g in groups if "-general-" in g["nodegroupName"]]
    isolated = [g for g in groups if "-isolated-" in g["nodegroupName"]]
    assert len(general) == 3 and len(isolated) == 3 and len(groups) == 6
    for group in general:
        assert [subnets[s][0] for s in group["subnets"]] == ["private"], group["subnets"]
        assert group["nodegroupName"].endswith(subnets[group["subnets"][0]][1])
        assert not group.get("taints")
    for group in isolated:
        assert [subnets[s][0] for s in group["subnets"]] == ["isolated"], group["subnets"]
        assert group["nodegroupName"].endswith(subnets[group["subnets"][0]][1])
        assert group["labels"]["node.oui.io/pool"] == "isolated"
        assert group["taints"] == [{"key": "node.oui.io/pool", "value": "isolated", "effect": "NO_SCHEDULE"}]
    assert {len(g["subnets"]) for g in groups} == {1}
    assert len({subnets[g["subnets"][0]][1] for g in general}) == 3

    iam = aws.client("iam")
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=f"{name}-node")["AttachedPolicies"]}
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy"}
    trust = iam.get_role(RoleName=f"{name}-velero")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}

    config = yaml.safe_load(kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == cluster["endpoint"]
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == cluster["certificateAuthority"]["data"]
    assert config["current-context"] == name
    assert "token:" not in kubeconfig.read_text() and "password" not in kubeconfig.read_text()


@pytest.mark.parametrize("env", ["beta", "prod"])
def test_cluster_converges_idempotently_and_tears_down(aws, env, tmp_path):
    name = f"oui-{env}"
    kubeconfig = tmp_path / "kubeconfig"
    print(f"\n[{env}] skipped by tag (see test_moto_still_lacks_the_skipped_apis): {', '.join(SKIPPED)}")
    net = network_play(aws, env)
    assert net.returncode == 0, net.tail()

    first = cluster_play(aws, env, kubeconfig)
    assert first.returncode == 0 and first.changed > 0, first.tail()
    again = cluster_play(aws, env, kubeconfig)
    assert again.returncode == 0, again.tail()
    assert again.changed == 0, f"second converge changed {again.changed} task(s):\n{again.tail(120)}"
    check = cluster_play(aws, env, kubeconfig, check=True)
    assert check.returncode == 0 and check.changed == 0, check.tail()
    verify_cluster(aws, env, kubeconfig)

    down = cluster_play(aws, env, kubeconfig, eks_cluster_state="absent")
    assert down.returncode == 0 and down.changed > 0, down.tail()
    eks = aws.client("eks")
    assert eks.list_clusters()["clusters"] == []
    assert [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]] == [f"{name}-vpc-flow-logs"]
    assert [g["logGroupName"] for g in aws.client("logs").describe_log_groups()["logGroups"]] == [f"/oui/{name}/vpc-flow-logs"]
    groups = aws.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{name}-control-plane"]}])
    assert groups["SecurityGroups"] == []
    down_again = cluster_play(aws, env, kubeconfig, eks_cluster_state="absent")
    assert down_again.returncode == 0 and down_again.changed == 0, down_again.tail()

    net_down = network_play(aws, env, cloud_network_state="absent")
    assert net_down.returncode == 0, net_down.tail()
    verify_nothing_left(aws, name)
    key = aws.client("kms").describe_key(KeyId=f"alias/{name}-eks-secrets")["KeyMetadata"]
    print(f"[{env}] left by the skipped step eks_cluster_kms_deletion: KMS key {key['KeyId']} ({key['KeyState']})")
