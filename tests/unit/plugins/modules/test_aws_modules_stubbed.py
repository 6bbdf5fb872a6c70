"""The collection's AWS modules, driven with botocore's Stubber: the exact API requests they make.

moto 5.2.5 does not implement EKS access entries and access policies, add-ons and their versions,
Pod Identity associations, version updates, Auto Mode, or ECR pull-through cache rules. The roles
converge against moto plus the project's EKS extension (tests/cloud/moto_eks.py, tests/cloud/test_cluster.py); here
each call a module makes is asserted, parameter for parameter, and an unexpected call fails. The
responses are the documented shapes of the AWS API (botocore validates them against its service
model), never taken from a run against AWS.
"""
from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import retrying_client
from ansible_collections.oui.platform.plugins.modules import cidr_plan
from ansible_collections.oui.platform.plugins.modules import ecr_pull_through_cache_rule as ecr_rule
from ansible_collections.oui.platform.plugins.modules import ec2_vpc_flow_log as flow_log
from ansible_collections.oui.platform.plugins.modules import eks_access_entry as access_entry
from ansible_collections.oui.platform.plugins.modules import eks_addon
from ansible_collections.oui.platform.plugins.modules import eks_cluster_info
from ansible_collections.oui.platform.plugins.modules import eks_control_plane as control_plane
from ansible_collections.oui.platform.plugins.modules import eks_managed_nodegroup as nodegroup
from ansible_collections.oui.platform.plugins.modules import eks_pod_identity_association as pod_identity

CLUSTER = "oui-prod"
ACCOUNT = "123456789012"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def stubbed():
    """(retrying client, stubber) for a service; every queued call must be made, in order."""
    made = []

    def make(service):
        client = boto3.client(service, region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x")
        stubber = Stubber(client)
        stubber.activate()
        made.append(stubber)
        return retrying_client(client), stubber

    yield make
    for stubber in made:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def not_found(stubber, method, params):
    stubber.add_client_error(method, service_error_code="ResourceNotFoundException", http_status_code=404,
                             expected_params=params)


# --- eks_access_entry --------------------------------------------------------------------------

PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/oui-platform-admins"
ENTRY_KEY = {"clusterName": CLUSTER, "principalArn": PRINCIPAL}


def entry(groups, tags=None):
    return {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "kubernetesGroups": groups, "type": "STANDARD",
            "accessEntryArn": f"arn:aws:eks:eu-west-3:{ACCOUNT}:access-entry/{CLUSTER}/role/{ACCOUNT}/x/1",
            "username": "admin", "tags": tags or {}, "createdAt": NOW, "modifiedAt": NOW}


def entry_params(**over):
    return {"cluster_name": CLUSTER, "principal_arn": PRINCIPAL, "kubernetes_groups": ["platform-admins"],
            "username": None, "type": "STANDARD", "tags": {"env": "prod"}, "purge_tags": True, "state": "present", **over}


def test_access_entry_is_created_with_its_groups(stubbed):
    client, stub = stubbed("eks")
    not_found(stub, "describe_access_entry", ENTRY_KEY)
    stub.add_response("create_access_entry", {"accessEntry": entry(["platform-admins"], {"env": "prod"})},
                      {**ENTRY_KEY, "kubernetesGroups": ["platform-admins"], "type": "STANDARD", "tags": {"env": "prod"}})
    result = access_entry.ensure(client, entry_params(), check_mode=False)
    assert result["changed"] and result["access_entry"]["kubernetesGroups"] == ["platform-admins"]


def test_access_entry_unchanged_makes_no_write(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_access_entry", {"accessEntry": entry(["platform-admins"], {"env": "prod"})}, ENTRY_KEY)
    assert access_entry.ensure(client, entry_params(), check_mode=False)["changed"] is False


def test_access_entry_groups_are_updated_in_place(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_access_entry", {"accessEntry": entry(["viewers"], {"env": "prod"})}, ENTRY_KEY)
    stub.add_response("update_access_entry", {"accessEntry": entry(["platform-admins"], {"env": "prod"})},
                      {**ENTRY_KEY, "kubernetesGroups": ["platform-admins"]})
    result = access_entry.ensure(client, entry_params(), check_mode=False)
    assert result["changed"] and result["diff"]["before"]["kubernetesGroups"] == ["viewers"]


def test_access_entry_check_mode_reports_without_writing(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_access_entry", {"accessEntry": entry(["viewers"], {"env": "prod"})}, ENTRY_KEY)
    assert access_entry.ensure(client, entry_params(), check_mode=True)["changed"] is True


def test_access_entry_is_deleted(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_access_entry", {"accessEntry": entry(["viewers"])}, ENTRY_KEY)
    stub.add_response("delete_access_entry", {}, ENTRY_KEY)
    assert access_entry.ensure(client, entry_params(state="absent"), check_mode=False)["changed"] is True


ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def associated(*policies):
    return {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicies": [
        {"policyArn": arn, "accessScope": scope, "associatedAt": NOW, "modifiedAt": NOW} for arn, scope in policies]}


def test_access_entry_is_created_with_cluster_admin_policy(stubbed):
    client, stub = stubbed("eks")
    not_found(stub, "describe_access_entry", ENTRY_KEY)
    stub.add_response("create_access_entry", {"accessEntry": entry([])}, {**ENTRY_KEY, "type": "STANDARD"})
    stub.add_response("associate_access_policy",
                      {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": {
                          "policyArn": ADMIN, "accessScope": {"type": "cluster"}, "associatedAt": NOW, "modifiedAt": NOW}},
                      {**ENTRY_KEY, "policyArn": ADMIN, "accessScope": {"type": "cluster"}})
    params = entry_params(kubernetes_groups=[], tags=None, access_policies=[{"policy_arn": ADMIN, "access_scope": None}])
    result = access_entry.ensure(client, params, check_mode=False)
    assert result["changed"] and result["access_entry"]["accessPolicies"] == [
        {"policyArn": ADMIN, "accessScope": {"type": "cluster"}}]


def test_access_policies_are_converged_scope_and_all(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_access_entry", {"accessEntry": entry(["platform-admins"], {"env": "prod"})}, ENTRY_KEY)
    stub.add_response("list_associated_access_policies",
                      associated((VIEW, {"type": "cluster"}), (ADMIN, {"type": "namespace", "namespaces": ["oui"]})),
                      ENTRY_KEY)
    stub.add_response("associate_access_policy",
                      {"clusterName": CLUSTER, "principalArn": PRINCIPAL, "associatedAccessPolicy": {
                          "policyArn": ADMIN, "accessScope": {"type": "cluster"}}},
                      {**ENTRY_KEY, "policyArn": ADMIN, "accessScope": {"type": "cluster"}})
    stub.add_response("disassociate_access_policy", {}, {**ENTRY_KEY, "policyArn": VIEW})
    params = entry_params(access_policies=[{"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": []}}])
    result = access_entry.ensure(client, params, check_mode=False)
    assert result["changed"]
    assert result["diff"]["before"]["accessPolicies"] == [
        {"policyArn": ADMIN, "accessScope": {"type": "namespace", "namespaces": ["oui"]}},
        {"policyArn": VIEW, "accessScope": {"type": "cluster"}}]


def test_access_policies_unchanged_and_check_mode_write_nothing(stubbed):
    client, stub = stubbed("eks")
    for _run in range(2):
        stub.add_response("describe_access_entry", {"accessEntry": entry(["platform-admins"], {"env": "prod"})},
                          ENTRY_KEY)
        stub.add_response("list_associated_access_policies", associated((ADMIN, {"type": "cluster"})), ENTRY_KEY)
    same = entry_params(access_policies=[{"policy_arn": ADMIN, "access_scope": {"type": "cluster"}}])
    assert access_entry.ensure(client, same, check_mode=False)["changed"] is False
    other = entry_params(access_policies=[{"policy_arn": VIEW, "access_scope": None}])
    assert access_entry.ensure(client, other, check_mode=True)["changed"] is True


def test_ec2_access_entry_of_auto_mode_nodes_carries_no_groups(stubbed):
    client, stub = stubbed("eks")
    node_role = f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-node"
    key = {"clusterName": CLUSTER, "principalArn": node_role}
    not_found(stub, "describe_access_entry", key)
    stub.add_response("create_access_entry", {"accessEntry": {**entry([]), "principalArn": node_role, "type": "EC2"}},
                      {**key, "type": "EC2"})
    auto = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"
    stub.add_response("associate_access_policy", {"clusterName": CLUSTER, "principalArn": node_role},
                      {**key, "policyArn": auto, "accessScope": {"type": "cluster"}})
    params = entry_params(principal_arn=node_role, kubernetes_groups=[], type="EC2", tags=None,
                          access_policies=[{"policy_arn": auto, "access_scope": {"type": "cluster"}}])
    assert access_entry.ensure(client, params, check_mode=False)["changed"] is True


def test_access_entries_of_a_cluster_are_read_across_pages(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    stub.add_response("list_nodegroups", {"nodegroups": []}, {"clusterName": CLUSTER})
    stub.add_response("list_addons", {"addons": []}, {"clusterName": CLUSTER})
    other = f"arn:aws:iam::{ACCOUNT}:role/oui-viewers"
    # pages are read as the entries are described: page, its entries, next page
    stub.add_response("list_access_entries", {"accessEntries": [PRINCIPAL], "nextToken": "t1"}, {"clusterName": CLUSTER})
    stub.add_response("describe_access_entry", {"accessEntry": entry(["platform-admins"])}, ENTRY_KEY)
    stub.add_response("list_access_entries", {"accessEntries": [other]}, {"clusterName": CLUSTER, "nextToken": "t1"})
    stub.add_response("describe_access_entry", {"accessEntry": {**entry(["viewers"]), "principalArn": other}},
                      {"clusterName": CLUSTER, "principalArn": other})
    found = eks_cluster_info.gather(client, {"name": CLUSTER, "addon_names": [], "addon_versions_for": None,
                                             "access_entries": True})
    assert [e["principalArn"] for e in found["access_entries"]] == [PRINCIPAL, other]


# --- eks_addon -------------------------------------------------------------------------------------

ADDON_KEY = {"clusterName": CLUSTER, "addonName": "vpc-cni"}


def addon(status="ACTIVE", config='{"enableNetworkPolicy": "true"}', version="v1.20.4-eksbuild.2"):
    return {"addon": {"addonName": "vpc-cni", "clusterName": CLUSTER, "status": status, "addonVersion": version,
                      "addonArn": f"arn:aws:eks:eu-west-3:{ACCOUNT}:addon/{CLUSTER}/vpc-cni/x",
                      "configurationValues": config, "tags": {}}}


def addon_params(**over):
    return {"cluster_name": CLUSTER, "name": "vpc-cni", "addon_version": "v1.20.4-eksbuild.2",
            "configuration_values": {"enableNetworkPolicy": "true"}, "service_account_role_arn": None,
            "resolve_conflicts": "OVERWRITE", "preserve": False, "accept_degraded": False, "tags": None,
            "purge_tags": True, "wait": True, "wait_timeout": 60, "state": "present", **over}


def test_vpc_cni_is_created_with_network_policy_enforcement(stubbed):
    client, stub = stubbed("eks")
    not_found(stub, "describe_addon", ADDON_KEY)
    stub.add_response("create_addon", addon("CREATING"),
                      {**ADDON_KEY, "addonVersion": "v1.20.4-eksbuild.2", "resolveConflicts": "OVERWRITE",
                       "configurationValues": json.dumps({"enableNetworkPolicy": "true"})})
    stub.add_response("describe_addon", addon("ACTIVE"), ADDON_KEY)
    result = eks_addon.ensure(client, addon_params(), check_mode=False)
    assert result["changed"] and result["addon"]["status"] == "ACTIVE"


def test_addon_configuration_is_compared_as_json_not_text(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_addon", addon(config='{\n  "enableNetworkPolicy" : "true"\n}'), ADDON_KEY)
    assert eks_addon.ensure(client, addon_params(), check_mode=False)["changed"] is False


def test_addon_turns_network_policy_on_when_it_is_off(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_addon", addon(config=""), ADDON_KEY)
    stub.add_response("update_addon", {"update": {"id": "u1", "status": "InProgress", "type": "AddonUpdate"}},
                      {**ADDON_KEY, "resolveConflicts": "OVERWRITE",
                       "configurationValues": json.dumps({"enableNetworkPolicy": "true"})})
    stub.add_response("describe_addon", addon("ACTIVE"), ADDON_KEY)
    assert eks_addon.ensure(client, addon_params(), check_mode=False)["changed"] is True


def test_addon_is_deleted_and_waited_for(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_addon", addon(), ADDON_KEY)
    stub.add_response("delete_addon", addon("DELETING"), {**ADDON_KEY, "preserve": False})
    not_found(stub, "describe_addon", ADDON_KEY)
    assert eks_addon.ensure(client, addon_params(state="absent"), check_mode=False)["changed"] is True


# --- eks_pod_identity_association ------------------------------------------------------------------

VELERO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-velero"
LIST_KEY = {"clusterName": CLUSTER, "namespace": "velero", "serviceAccount": "velero"}


def association(role=VELERO_ROLE):
    return {"association": {"clusterName": CLUSTER, "namespace": "velero", "serviceAccount": "velero",
                            "roleArn": role, "associationId": "a-123", "associationArn": "arn:x", "tags": {}}}


def identity_params(**over):
    return {"cluster_name": CLUSTER, "namespace": "velero", "service_account": "velero", "role_arn": VELERO_ROLE,
            "tags": None, "state": "present", **over}


def test_pod_identity_is_created(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("list_pod_identity_associations", {"associations": []}, LIST_KEY)
    stub.add_response("create_pod_identity_association", association(), {**LIST_KEY, "roleArn": VELERO_ROLE})
    assert pod_identity.ensure(client, identity_params(), check_mode=False)["changed"] is True


def test_pod_identity_role_is_updated_in_place(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("list_pod_identity_associations",
                      {"associations": [{**LIST_KEY, "associationId": "a-123"}]}, LIST_KEY)
    stub.add_response("describe_pod_identity_association", association(role="arn:aws:iam::123456789012:role/old"),
                      {"clusterName": CLUSTER, "associationId": "a-123"})
    stub.add_response("update_pod_identity_association", association(),
                      {"clusterName": CLUSTER, "associationId": "a-123", "roleArn": VELERO_ROLE})
    assert pod_identity.ensure(client, identity_params(), check_mode=False)["changed"] is True


def test_pod_identity_unchanged_and_gone_cluster(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("list_pod_identity_associations",
                      {"associations": [{**LIST_KEY, "associationId": "a-123"}]}, LIST_KEY)
    stub.add_response("describe_pod_identity_association", association(),
                      {"clusterName": CLUSTER, "associationId": "a-123"})
    assert pod_identity.ensure(client, identity_params(), check_mode=False)["changed"] is False
    not_found(stub, "list_pod_identity_associations", LIST_KEY)
    assert pod_identity.ensure(client, identity_params(state="absent"), check_mode=False)["changed"] is False


# --- eks_cluster_info -----------------------------------------------------------------------------------------

def test_cluster_info_reads_the_default_and_compatible_addon_versions(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    stub.add_response("list_nodegroups", {"nodegroups": []}, {"clusterName": CLUSTER})
    stub.add_response("list_addons", {"addons": ["vpc-cni"]}, {"clusterName": CLUSTER})
    stub.add_response("describe_addon", addon(), ADDON_KEY)
    stub.add_response("describe_addon_versions", {"addons": [{"addonName": "vpc-cni", "addonVersions": [
        {"addonVersion": "v1.21.0-eksbuild.1",
         "compatibilities": [{"clusterVersion": "1.36", "defaultVersion": True}, {"clusterVersion": "1.35"}]},
        {"addonVersion": "v1.20.4-eksbuild.2", "compatibilities": [{"clusterVersion": "1.36", "defaultVersion": False}]},
        {"addonVersion": "v1.19.0-eksbuild.1", "compatibilities": [{"clusterVersion": "1.34", "defaultVersion": True}]},
    ]}]}, {"addonName": "vpc-cni", "kubernetesVersion": "1.36"})
    found = eks_cluster_info.gather(client, {"name": CLUSTER, "addon_names": ["vpc-cni"], "addon_versions_for": "1.36",
                                             "access_entries": False})
    assert found["exists"] and found["addons"]["vpc-cni"]["addonVersion"] == "v1.20.4-eksbuild.2"
    assert found["addon_versions"] == {"vpc-cni": {"default": "v1.21.0-eksbuild.1",
                                                   "compatible": ["v1.21.0-eksbuild.1", "v1.20.4-eksbuild.2"]}}


def test_cluster_info_of_a_missing_cluster_is_empty(stubbed):
    client, stub = stubbed("eks")
    not_found(stub, "describe_cluster", {"name": CLUSTER})
    found = eks_cluster_info.gather(client, {"name": CLUSTER, "addon_names": [], "addon_versions_for": None,
                                             "access_entries": True})
    assert found == {"exists": False, "cluster": {}, "nodegroups": [], "addons": {}, "addon_versions": {},
                     "access_entries": []}


# --- ecr_pull_through_cache_rule ---------------------------------------------------------------------

def rule(url="registry.k8s.io", credential=None):
    found = {"ecrRepositoryPrefix": "registry-k8s-io", "upstreamRegistryUrl": url, "createdAt": NOW,
             "registryId": ACCOUNT}
    if credential:
        found["credentialArn"] = credential
    return found


def rule_params(**over):
    return {"ecr_repository_prefix": "registry-k8s-io", "upstream_registry_url": "registry.k8s.io",
            "upstream_registry": None, "credential_arn": None, "state": "present", **over}


def test_cache_rule_is_created(stubbed):
    client, stub = stubbed("ecr")
    stub.add_client_error("describe_pull_through_cache_rules", "PullThroughCacheRuleNotFoundException",
                          expected_params={"ecrRepositoryPrefixes": ["registry-k8s-io"]})
    stub.add_response("create_pull_through_cache_rule",
                      {"ecrRepositoryPrefix": "registry-k8s-io", "upstreamRegistryUrl": "registry.k8s.io"},
                      {"ecrRepositoryPrefix": "registry-k8s-io", "upstreamRegistryUrl": "registry.k8s.io"})
    assert ecr_rule.ensure(client, rule_params(), check_mode=False)["changed"] is True


def test_cache_rule_unchanged_then_credential_updated(stubbed):
    client, stub = stubbed("ecr")
    query = {"ecrRepositoryPrefixes": ["registry-k8s-io"]}
    stub.add_response("describe_pull_through_cache_rules", {"pullThroughCacheRules": [rule()]}, query)
    assert ecr_rule.ensure(client, rule_params(), check_mode=False)["changed"] is False
    secret = f"arn:aws:secretsmanager:eu-west-3:{ACCOUNT}:secret:ecr-pullthroughcache/k8s-AbCdEf"
    stub.add_response("describe_pull_through_cache_rules", {"pullThroughCacheRules": [rule()]}, query)
    stub.add_response("update_pull_through_cache_rule", {"ecrRepositoryPrefix": "registry-k8s-io"},
                      {"ecrRepositoryPrefix": "registry-k8s-io", "credentialArn": secret})
    assert ecr_rule.ensure(client, rule_params(credential_arn=secret), check_mode=False)["changed"] is True


def test_cache_rule_with_another_upstream_is_replaced(stubbed):
    client, stub = stubbed("ecr")
    stub.add_response("describe_pull_through_cache_rules", {"pullThroughCacheRules": [rule(url="quay.io")]},
                      {"ecrRepositoryPrefixes": ["registry-k8s-io"]})
    stub.add_response("delete_pull_through_cache_rule", {}, {"ecrRepositoryPrefix": "registry-k8s-io"})
    stub.add_response("create_pull_through_cache_rule", {},
                      {"ecrRepositoryPrefix": "registry-k8s-io", "upstreamRegistryUrl": "registry.k8s.io"})
    assert ecr_rule.ensure(client, rule_params(), check_mode=False)["changed"] is True


# --- eks_control_plane ----------------------------------------------------------------------------------

KEY_ARN = f"arn:aws:kms:eu-west-3:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def plane_params(**over):
    return {"name": CLUSTER, "version": "1.35", "role_arn": f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-cluster",
            "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"], "security_group_ids": ["sg-1"],
            "endpoint_private_access": True, "endpoint_public_access": False, "public_access_cidrs": [],
            "encryption_key_arn": KEY_ARN, "logging_types": list(control_plane.ALL_LOG_TYPES),
            "authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True,
            "tags": {"env": "prod"}, "purge_tags": True, "wait": True, "wait_timeout": 60, "state": "present", **over}


def described(**over):
    cluster = {"name": CLUSTER, "arn": f"arn:aws:eks:eu-west-3:{ACCOUNT}:cluster/{CLUSTER}", "version": "1.35",
               "status": "ACTIVE", "resourcesVpcConfig": {"subnetIds": ["subnet-c", "subnet-a", "subnet-b"],
                                                          "securityGroupIds": ["sg-1"], "endpointPrivateAccess": True,
                                                          "endpointPublicAccess": False, "publicAccessCidrs": []},
               "logging": {"clusterLogging": [{"types": list(control_plane.ALL_LOG_TYPES), "enabled": True}]},
               "accessConfig": {"authenticationMode": "API"},
               "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}], "tags": {"env": "prod"}}
    cluster.update(over)
    return {"cluster": cluster}


def test_cluster_is_created_private_encrypted_and_logged_in_one_request(stubbed):
    client, stub = stubbed("eks")
    not_found(stub, "describe_cluster", {"name": CLUSTER})
    stub.add_response("create_cluster", described(status="CREATING"), {
        "name": CLUSTER, "version": "1.35", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-cluster",
        "resourcesVpcConfig": {"subnetIds": ["subnet-a", "subnet-b", "subnet-c"], "securityGroupIds": ["sg-1"],
                               "endpointPrivateAccess": True, "endpointPublicAccess": False},
        "logging": {"clusterLogging": [{"types": list(control_plane.ALL_LOG_TYPES), "enabled": True}]},
        "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True},
        "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}],
        "tags": {"env": "prod"}})
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    assert control_plane.ensure(client, plane_params(), check_mode=False)["changed"] is True


def test_converged_cluster_makes_no_call_but_describe(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    result = control_plane.ensure(client, plane_params(), check_mode=False)
    assert result["changed"] is False and result["unreported_settings"] == []


def test_public_endpoint_is_closed_and_missing_encryption_associated(stubbed):
    client, stub = stubbed("eks")
    vpc = described()["cluster"]["resourcesVpcConfig"] | {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
    stub.add_response("describe_cluster", described(resourcesVpcConfig=vpc, encryptionConfig=[]), {"name": CLUSTER})
    stub.add_response("update_cluster_config", {"update": {"id": "u1"}}, {
        "name": CLUSTER, "resourcesVpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False}})
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    stub.add_response("associate_encryption_config", {"update": {"id": "u2"}}, {
        "clusterName": CLUSTER, "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}]})
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    result = control_plane.ensure(client, plane_params(), check_mode=False)
    assert result["updates"] == ["update_cluster_config", "associate_encryption_config"]


def test_version_skips_and_key_changes_are_refused():
    with pytest.raises(ValueError, match="one minor at a time"):
        control_plane.plan_updates(described(version="1.33")["cluster"], plane_params())
    with pytest.raises(ValueError, match="cannot change the key"):
        control_plane.plan_updates(described()["cluster"], plane_params(encryption_key_arn=KEY_ARN + "0"))
    updates, _unreported = control_plane.plan_updates(described(version="1.34")["cluster"], plane_params())
    assert updates == [("update_cluster_version", {"name": CLUSTER, "version": "1.35"})]


def test_auto_mode_cluster_is_created_with_its_three_capabilities_and_no_self_managed_addons(stubbed):
    client, stub = stubbed("eks")
    node_role = f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-node"
    not_found(stub, "describe_cluster", {"name": CLUSTER})
    request = control_plane.create_request(plane_params(auto_mode=True, auto_mode_node_role_arn=node_role,
                                                        auto_mode_node_pools=["system", "general-purpose"],
                                                        bootstrap_cluster_creator_admin_permissions=False))
    assert request["computeConfig"] == {"enabled": True, "nodePools": ["general-purpose", "system"],
                                        "nodeRoleArn": node_role}
    assert request["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert request["kubernetesNetworkConfig"] == {"elasticLoadBalancing": {"enabled": True}}
    assert request["bootstrapSelfManagedAddons"] is False
    assert request["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    stub.add_response("create_cluster", described(status="CREATING"), request)
    stub.add_response("describe_cluster", described(), {"name": CLUSTER})
    params = plane_params(auto_mode=True, auto_mode_node_role_arn=node_role,
                          auto_mode_node_pools=["system", "general-purpose"],
                          bootstrap_cluster_creator_admin_permissions=False)
    assert control_plane.ensure(client, params, check_mode=False)["changed"] is True


def test_auto_mode_is_converged_in_one_update_and_its_node_role_is_never_changed():
    node_role = f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-node"
    params = plane_params(auto_mode=True, auto_mode_node_role_arn=node_role, auto_mode_node_pools=["general-purpose"])
    updates = control_plane.plan_updates(described()["cluster"], params)[0]
    assert updates == [("update_cluster_config", {
        "name": CLUSTER, "computeConfig": {"enabled": True, "nodePools": ["general-purpose"], "nodeRoleArn": node_role},
        "storageConfig": {"blockStorage": {"enabled": True}},
        "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": True}}})]
    auto = described(computeConfig={"enabled": True, "nodePools": ["general-purpose"], "nodeRoleArn": node_role},
                     storageConfig={"blockStorage": {"enabled": True}},
                     kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": True}})["cluster"]
    assert control_plane.plan_updates(auto, params) == ([], [])
    assert control_plane.plan_updates(auto, plane_params())[0] == [], "auto_mode omitted leaves it as it is"
    with pytest.raises(ValueError, match="Auto Mode node role is"):
        control_plane.plan_updates(auto, {**params, "auto_mode_node_role_arn": node_role + "-other"})


def test_control_plane_one_minor_behind_is_upgraded(stubbed):
    client, stub = stubbed("eks")
    stub.add_response("describe_cluster", described(version="1.35"), {"name": CLUSTER})
    stub.add_response("update_cluster_version", {"update": {"id": "u1", "status": "InProgress", "type": "VersionUpdate"}},
                      {"name": CLUSTER, "version": "1.36"})
    stub.add_response("describe_cluster", described(version="1.36"), {"name": CLUSTER})
    stub.add_response("describe_cluster", described(version="1.36"), {"name": CLUSTER})
    result = control_plane.ensure(client, plane_params(version="1.36"), check_mode=False)
    assert result["updates"] == ["update_cluster_version"] and result["cluster"]["version"] == "1.36"


def test_authentication_mode_never_goes_back():
    handed_over = described(accessConfig={"authenticationMode": "API"})["cluster"]
    with pytest.raises(ValueError, match="only moves the authentication mode towards API"):
        control_plane.plan_updates(handed_over, plane_params(authentication_mode="API_AND_CONFIG_MAP"))
    kept = described(accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["cluster"]
    assert control_plane.plan_updates(kept, plane_params(authentication_mode="API_AND_CONFIG_MAP")) == ([], [])


def test_unreported_access_config_is_said_not_guessed():
    current = described()["cluster"]
    del current["accessConfig"]
    updates, unreported = control_plane.plan_updates(current, plane_params())
    assert updates == [] and unreported == ["accessConfig.authenticationMode"]


# --- eks_managed_nodegroup ------------------------------------------------------------------------------

TAINT = {"key": "node.oui.io/pool", "value": "isolated", "effect": "NO_SCHEDULE"}


def group_params(**over):
    return {"name": f"{CLUSTER}-isolated-eu-west-3a", "cluster_name": CLUSTER, "node_role": "arn:role",
            "subnets": ["subnet-i"], "instance_types": ["m6i.large"], "ami_type": "BOTTLEROCKET_x86_64",
            "capacity_type": "ON_DEMAND", "disk_size": 50, "min_size": 1, "max_size": 3, "desired_size": 1,
            "max_unavailable": 1, "labels": {"node.oui.io/pool": "isolated"}, "taints": [TAINT],
            "tags": None, "purge_tags": True, "wait": True, "wait_timeout": 60, "state": "present", **over}


def group(**over):
    found = {"nodegroupName": f"{CLUSTER}-isolated-eu-west-3a", "status": "ACTIVE", "nodeRole": "arn:role",
             "subnets": ["subnet-i"], "instanceTypes": ["m6i.large"], "amiType": "BOTTLEROCKET_x86_64",
             "capacityType": "ON_DEMAND", "diskSize": 50, "updateConfig": {"maxUnavailable": 1},
             "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2},
             "labels": {"node.oui.io/pool": "isolated"}, "taints": [TAINT]}
    found.update(over)
    return found


def test_node_group_desired_size_of_an_autoscaler_is_kept():
    assert nodegroup.plan_update(group(), group_params()) == {}


def test_node_group_taint_and_label_drift_is_one_update(stubbed):
    client, stub = stubbed("eks")
    key = {"clusterName": CLUSTER, "nodegroupName": f"{CLUSTER}-isolated-eu-west-3a"}
    drifted = group(labels={"node.oui.io/pool": "general", "extra": "x"},
                    taints=[{"key": "node.oui.io/pool", "value": "general", "effect": "NO_SCHEDULE"},
                            {"key": "old", "effect": "NO_EXECUTE"}])
    stub.add_response("describe_nodegroup", {"nodegroup": drifted}, key)
    stub.add_response("update_nodegroup_config", {"update": {"id": "u"}}, {
        **key,
        "labels": {"addOrUpdateLabels": {"node.oui.io/pool": "isolated"}, "removeLabels": ["extra"]},
        "taints": {"addOrUpdateTaints": [TAINT], "removeTaints": [{"key": "old", "effect": "NO_EXECUTE"}]}})
    stub.add_response("describe_nodegroup", {"nodegroup": group()}, key)
    stub.add_response("describe_nodegroup", {"nodegroup": group()}, key)
    assert nodegroup.ensure(client, group_params(), check_mode=False)["changed"] is True


def test_node_group_behind_the_control_plane_is_upgraded_after_its_config(stubbed):
    client, stub = stubbed("eks")
    key = {"clusterName": CLUSTER, "nodegroupName": f"{CLUSTER}-isolated-eu-west-3a"}
    stub.add_response("describe_nodegroup", {"nodegroup": group(version="1.35")}, key)
    stub.add_response("update_nodegroup_version", {"update": {"id": "u", "status": "InProgress", "type": "VersionUpdate"}},
                      {**key, "version": "1.36"})
    stub.add_response("describe_nodegroup", {"nodegroup": group(version="1.36")}, key)
    stub.add_response("describe_nodegroup", {"nodegroup": group(version="1.36")}, key)
    result = nodegroup.ensure(client, group_params(kubernetes_version="1.36"), check_mode=False)
    assert result["changed"] and result["update"] == {"version": "1.36"}


def test_node_group_version_is_never_moved_back():
    with pytest.raises(ValueError, match="cannot move it back to 1.35"):
        nodegroup.plan_version(group(version="1.36"), group_params(kubernetes_version="1.35"))
    assert nodegroup.plan_version(group(version="1.36"), group_params(kubernetes_version="1.36")) is None


def test_node_group_immutable_change_is_refused_by_name():
    with pytest.raises(ValueError, match=r"subnets \(\['subnet-p'\] -> \['subnet-i'\]\)"):
        nodegroup.plan_update(group(subnets=["subnet-p"]), group_params())


# --- ec2_vpc_flow_log (also converged against moto by the cloud_network role) ----------------------------

def test_flow_log_with_another_interval_is_replaced(stubbed):
    client, stub = stubbed("ec2")
    params = {"resource_id": "vpc-1", "resource_type": "VPC", "traffic_type": "ALL",
              "log_destination_type": "cloud-watch-logs", "log_group_name": "/oui/oui-prod/vpc-flow-logs",
              "log_destination": None, "deliver_logs_permission_arn": "arn:role", "max_aggregation_interval": 60,
              "log_format": None, "tags": None, "purge_tags": True, "state": "present"}
    old = {"FlowLogId": "fl-old", "ResourceId": "vpc-1", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
           "LogGroupName": "/oui/oui-prod/vpc-flow-logs", "DeliverLogsPermissionArn": "arn:role",
           "MaxAggregationInterval": 600}
    query = {"Filters": [{"Name": "resource-id", "Values": ["vpc-1"]}]}
    stub.add_response("describe_flow_logs", {"FlowLogs": [old]}, query)
    stub.add_response("delete_flow_logs", {"Unsuccessful": []}, {"FlowLogIds": ["fl-old"]})
    stub.add_response("create_flow_logs", {"FlowLogIds": ["fl-new"], "Unsuccessful": []}, {
        "ResourceIds": ["vpc-1"], "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
        "MaxAggregationInterval": 60, "LogGroupName": "/oui/oui-prod/vpc-flow-logs", "DeliverLogsPermissionArn": "arn:role"})
    stub.add_response("describe_flow_logs", {"FlowLogs": [{**old, "FlowLogId": "fl-new", "MaxAggregationInterval": 60}]}, query)
    assert flow_log.ensure(client, params, check_mode=False)["changed"] is True


def flow_log_params(**over):
    return {"resource_id": "vpc-1", "resource_type": "VPC", "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs", "log_group_name": "/oui/oui-prod/vpc-flow-logs",
            "log_destination": None, "deliver_logs_permission_arn": "arn:role", "max_aggregation_interval": 60,
            "log_format": None, "tags": None, "purge_tags": True, "state": "present", **over}


FLOW_LOG = {"FlowLogId": "fl-1", "ResourceId": "vpc-1", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": "/oui/oui-prod/vpc-flow-logs", "DeliverLogsPermissionArn": "arn:role",
            "MaxAggregationInterval": 60, "Tags": [{"Key": "Name", "Value": "oui-prod"}, {"Key": "aws:cloudformation:x", "Value": "y"}]}
FLOW_LOG_QUERY = {"Filters": [{"Name": "resource-id", "Values": ["vpc-1"]}]}


def test_flow_log_without_tags_leaves_its_tags_alone(stubbed):
    """tags unset means tags not managed (amazon.aws's convention), even with purge_tags."""
    client, stub = stubbed("ec2")
    stub.add_response("describe_flow_logs", {"FlowLogs": [FLOW_LOG]}, FLOW_LOG_QUERY)
    assert flow_log.ensure(client, flow_log_params(), check_mode=False)["changed"] is False


def test_flow_log_tags_are_purged_but_not_the_reserved_aws_ones(stubbed):
    client, stub = stubbed("ec2")
    stub.add_response("describe_flow_logs", {"FlowLogs": [FLOW_LOG]}, FLOW_LOG_QUERY)
    stub.add_response("create_tags", {}, {"Resources": ["fl-1"], "Tags": [{"Key": "env", "Value": "prod"}]})
    stub.add_response("delete_tags", {}, {"Resources": ["fl-1"], "Tags": [{"Key": "Name"}]})
    stub.add_response("describe_flow_logs", {"FlowLogs": [FLOW_LOG]}, FLOW_LOG_QUERY)
    assert flow_log.ensure(client, flow_log_params(tags={"env": "prod"}), check_mode=False)["changed"] is True


# --- cidr_plan (pure) ----------------------------------------------------------------------------------------

def test_cidr_plan_reports_every_problem_at_once():
    zones = [{"name": "eu-west-3a", "public": "10.0.0.0/24", "private": "10.0.32.0/19", "isolated": "10.0.16.0/22"},
             {"name": "eu-west-3a", "public": "10.0.0.0/25", "private": "10.0.64.0/25", "isolated": "10.1.0.0/22"}]
    _plan, errors = cidr_plan.validate("eu-west-3", ["eu-west-3"], "10.0.0.0/16", zones,
                                       {"public": 26, "private": 22, "isolated": 24}, 3, "cloud_network_zones")
    text = "\n".join(errors)
    for needle in ("lists 2 zones", "listed twice", "too small", "outside vpc_cidr", "overlaps"):
        assert needle in text, text
