#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_control_plane
short_description: Manage an EKS control plane with its endpoint access, secrets encryption and logging
version_added: 0.1.0
description:
  - Creates an EKS cluster with everything set at creation - private (and optionally restricted public) endpoint,
    KMS envelope encryption of Secrets, control-plane logs, authentication mode and a pinned Kubernetes version - so
    that the cluster never exists, even briefly, with a public endpoint or unencrypted secrets.
  - On an existing cluster, converges endpoint access, logging, authentication mode, subnets and security groups with
    C(UpdateClusterConfig) (one kind of update per call, as EKS requires), upgrades the version one minor at a time with
    C(UpdateClusterVersion), associates the encryption key when missing, and converges tags.
  - With O(auto_mode), EKS Auto Mode - compute, block storage and load balancing managed by EKS - is set at creation
    and converged afterwards, the three capabilities always together as EKS requires.
  - The authentication mode only moves towards C(API) (EKS cannot go back); a request to go back fails by name.
  - community.aws.eks_cluster cannot set endpoint access, encryption or logging, hence this module.
  - Idempotent, with check mode and diff. Deleting fails while node groups exist (EKS refuses); delete them first.
author:
  - OUI platform team (@oui-team)
options:
  name:
    description: Cluster name.
    type: str
    required: true
  version:
    description: Kubernetes minor version (for example C("1.35")).
    type: str
  role_arn:
    description: IAM role of the control plane (with AmazonEKSClusterPolicy).
    type: str
  subnet_ids:
    description: Subnets for the control plane's network interfaces.
    type: list
    elements: str
  security_group_ids:
    description: Additional security groups for the control plane's network interfaces.
    type: list
    elements: str
    default: []
  endpoint_private_access:
    description: Whether the API server is reachable from inside the VPC.
    type: bool
    default: true
  endpoint_public_access:
    description: Whether the API server is reachable from the internet (restricted to O(public_access_cidrs)).
    type: bool
    default: false
  public_access_cidrs:
    description: CIDRs allowed on the public endpoint when O(endpoint_public_access=true).
    type: list
    elements: str
    default: []
  encryption_key_arn:
    description: KMS key that envelope-encrypts Kubernetes Secrets. Cannot be changed once set.
    type: str
  logging_types:
    description: Control-plane log types sent to CloudWatch Logs; the others are turned off.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
    default: [api, audit, authenticator, controllerManager, scheduler]
  authentication_mode:
    description: How IAM principals are mapped - access entries only (C(API)) or with the aws-auth ConfigMap.
    type: str
    choices: [API, API_AND_CONFIG_MAP, CONFIG_MAP]
    default: API
  bootstrap_cluster_creator_admin_permissions:
    description: Give the creating principal cluster-admin through an access entry (only at creation).
    type: bool
    default: true
  auto_mode:
    description:
      - EKS Auto Mode (compute, block storage, load balancing). Omitted, an existing cluster keeps its setting and a
        new one is created without it. A new Auto Mode cluster is created without the self-managed networking add-ons
        (C(bootstrapSelfManagedAddons=false)), since Auto Mode runs them.
    type: bool
  auto_mode_node_pools:
    description: Built-in Auto Mode node pools to enable.
    type: list
    elements: str
    choices: [general-purpose, system]
    default: [general-purpose, system]
  auto_mode_node_role_arn:
    description: IAM role of the Auto Mode nodes (required with O(auto_mode=true); EKS cannot change it later).
    type: str
  wait_timeout:  # described in oui.platform.aws_resource.wait; the default is this module's
    default: 1800
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
  - oui.platform.aws_resource.wait
"""

EXAMPLES = r"""
- name: A private control plane with encrypted secrets and all logs
  oui.platform.eks_control_plane:
    name: oui-prod
    version: "1.35"
    role_arn: arn:aws:iam::123456789012:role/oui-prod-cluster
    subnet_ids: [subnet-aaa, subnet-bbb, subnet-ccc]
    security_group_ids: [sg-0123]
    encryption_key_arn: arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab

- name: Delete the cluster (its node groups first)
  oui.platform.eks_control_plane:
    name: oui-prod
    state: absent

- name: The same with EKS Auto Mode, access entries only, no implicit admin
  oui.platform.eks_control_plane:
    name: oui-prod
    version: "1.36"
    role_arn: arn:aws:iam::123456789012:role/oui-prod-cluster
    subnet_ids: [subnet-aaa, subnet-bbb, subnet-ccc]
    authentication_mode: API
    bootstrap_cluster_creator_admin_permissions: false
    auto_mode: true
    auto_mode_node_role_arn: arn:aws:iam::123456789012:role/oui-prod-node
"""

RETURN = r"""
cluster:
  description: The cluster as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {name: oui-prod, version: "1.35", status: ACTIVE, resources_vpc_config: {endpoint_public_access: false}}
  contains:
    name:
      description: Cluster name.
      type: str
    arn:
      description: ARN of the cluster.
      type: str
    version:
      description: Kubernetes minor version.
      type: str
    status:
      description: Status of the cluster (C(ACTIVE) once ready).
      type: str
    endpoint:
      description: URL of the Kubernetes API server.
      type: str
    role_arn:
      description: IAM role of the control plane.
      type: str
    resources_vpc_config:
      description: Subnets, security groups and endpoint access of the control plane.
      type: dict
    logging:
      description: Control-plane log types and whether each is enabled.
      type: dict
    encryption_config:
      description: Envelope encryption of Secrets with its KMS key.
      type: list
      elements: str
    access_config:
      description: Authentication mode of the cluster.
      type: dict
    certificate_authority:
      description: Certificate authority data of the API server.
      type: dict
    tags:
      description: Tags of the cluster.
      type: dict
unreported_settings:
  description: Settings the endpoint did not report back, hence not compared (a local test endpoint may omit some).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import wait_with

ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Authentication modes in the only order EKS moves them.
AUTH_MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]


def desired_auto_mode(params):
    """The three Auto Mode settings, as CreateCluster and UpdateClusterConfig take them (together)."""
    enabled = bool(params["auto_mode"])
    compute = {"enabled": enabled}
    if enabled:
        compute["nodePools"] = sorted(params["auto_mode_node_pools"])
        if params.get("auto_mode_node_role_arn"):
            compute["nodeRoleArn"] = params["auto_mode_node_role_arn"]
    return {"computeConfig": compute, "storageConfig": {"blockStorage": {"enabled": enabled}},
            "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": enabled}}}


def current_auto_mode(cluster):
    """The cluster's Auto Mode settings in the shape of desired_auto_mode (absent means off)."""
    compute = cluster.get("computeConfig") or {}
    enabled = bool(compute.get("enabled"))
    wanted = {"enabled": enabled}
    if enabled:
        wanted["nodePools"] = sorted(compute.get("nodePools") or [])
        if compute.get("nodeRoleArn"):
            wanted["nodeRoleArn"] = compute["nodeRoleArn"]
    return {"computeConfig": wanted,
            "storageConfig": {"blockStorage": {"enabled": bool(
                ((cluster.get("storageConfig") or {}).get("blockStorage") or {}).get("enabled"))}},
            "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": bool(
                ((cluster.get("kubernetesNetworkConfig") or {}).get("elasticLoadBalancing") or {}).get("enabled"))}}}


def desired_endpoint(params):
    access = {"endpointPrivateAccess": params["endpoint_private_access"],
              "endpointPublicAccess": params["endpoint_public_access"]}
    if params["endpoint_public_access"]:
        access["publicAccessCidrs"] = params["public_access_cidrs"] or ["0.0.0.0/0"]
    return access


def desired_logging(params):
    enabled = [t for t in ALL_LOG_TYPES if t in params["logging_types"]]
    disabled = [t for t in ALL_LOG_TYPES if t not in params["logging_types"]]
    setups = [{"types": enabled, "enabled": True}] if enabled else []
    if disabled:
        setups.append({"types": disabled, "enabled": False})
    return {"clusterLogging": setups}


def enabled_log_types(logging):
    return sorted(t for setup in (logging or {}).get("clusterLogging", []) if setup.get("enabled")
                  for t in setup.get("types", []))


def create_request(params):
    request = {
        "name": params["name"],
        "version": params["version"],
        "roleArn": params["role_arn"],
        "resourcesVpcConfig": {"subnetIds": params["subnet_ids"], "securityGroupIds": params["security_group_ids"],
                               **desired_endpoint(params)},
        "logging": desired_logging(params),
        "accessConfig": {"authenticationMode": params["authentication_mode"],
                         "bootstrapClusterCreatorAdminPermissions": params["bootstrap_cluster_creator_admin_permissions"]},
    }
    if params.get("encryption_key_arn"):
        request["encryptionConfig"] = [{"resources": ["secrets"], "provider": {"keyArn": params["encryption_key_arn"]}}]
    if params.get("auto_mode"):
        request.update(desired_auto_mode(params))
        request["bootstrapSelfManagedAddons"] = False
    if params.get("tags"):
        request["tags"] = params["tags"]
    return request


def plan_updates(current, params):
    """The update calls that bring `current` to the parameters, in order; plus unreported settings."""
    updates, unreported = [], []
    name = params["name"]
    vpc = current.get("resourcesVpcConfig", {})
    if params.get("version") and current.get("version") != params["version"]:
        have = tuple(int(x) for x in current["version"].split("."))
        want = tuple(int(x) for x in params["version"].split("."))
        if want < have or want[1] - have[1] > 1 or want[0] != have[0]:
            raise ValueError(f"cluster {name} runs {current['version']}; EKS upgrades one minor at a time and never "
                             f"downgrades, so {params['version']} cannot be reached directly")
        updates.append(("update_cluster_version", {"name": name, "version": params["version"]}))
    endpoint = desired_endpoint(params)
    endpoint_now = {k: vpc.get(k) for k in endpoint}
    if endpoint.get("publicAccessCidrs") is not None and endpoint_now.get("publicAccessCidrs") is not None:
        endpoint_now["publicAccessCidrs"] = sorted(endpoint_now["publicAccessCidrs"])
        endpoint["publicAccessCidrs"] = sorted(endpoint["publicAccessCidrs"])
    if endpoint_now != endpoint:
        updates.append(("update_cluster_config", {"name": name, "resourcesVpcConfig": desired_endpoint(params)}))
    if params.get("subnet_ids") and (sorted(vpc.get("subnetIds", [])) != sorted(params["subnet_ids"]) or
                                     sorted(vpc.get("securityGroupIds", [])) != sorted(params["security_group_ids"])):
        updates.append(("update_cluster_config", {"name": name, "resourcesVpcConfig": {
            "subnetIds": params["subnet_ids"], "securityGroupIds": params["security_group_ids"]}}))
    if enabled_log_types(current.get("logging")) != sorted(params["logging_types"]):
        updates.append(("update_cluster_config", {"name": name, "logging": desired_logging(params)}))
    if "accessConfig" not in current:
        unreported.append("accessConfig.authenticationMode")
    elif current["accessConfig"].get("authenticationMode") != params["authentication_mode"]:
        have = current["accessConfig"].get("authenticationMode")
        if have in AUTH_MODES and AUTH_MODES.index(params["authentication_mode"]) < AUTH_MODES.index(have):
            raise ValueError(f"cluster {name} authenticates with {have}; EKS only moves the authentication mode towards "
                             f"API, so {params['authentication_mode']} cannot be set")
        updates.append(("update_cluster_config", {"name": name,
                                                  "accessConfig": {"authenticationMode": params["authentication_mode"]}}))
    if params.get("auto_mode") is not None:
        have, want = current_auto_mode(current), desired_auto_mode(params)
        if have != want:
            role_now = have["computeConfig"].get("nodeRoleArn")
            if role_now and want["computeConfig"].get("nodeRoleArn") not in (None, role_now):
                raise ValueError(f"cluster {name}: the Auto Mode node role is {role_now}; EKS cannot change it "
                                 f"to {want['computeConfig']['nodeRoleArn']}")
            updates.append(("update_cluster_config", {"name": name, **want}))
    if params.get("encryption_key_arn"):
        keys = [c.get("provider", {}).get("keyArn") for c in current.get("encryptionConfig") or []]
        if not keys:
            updates.append(("associate_encryption_config", {"clusterName": name, "encryptionConfig": [
                {"resources": ["secrets"], "provider": {"keyArn": params["encryption_key_arn"]}}]}))
        elif params["encryption_key_arn"] not in keys:
            raise ValueError(f"cluster {name} encrypts secrets with {keys[0]}; EKS cannot change the key "
                             f"to {params['encryption_key_arn']}")
    return updates, unreported


def _describe(client, name):
    return describe_or_none(client.describe_cluster, "cluster", name=name)


def _wait(client, params, gone=False):
    if not params["wait"]:
        return _describe(client, params["name"])
    return wait_with(client, "ClusterDeleted" if gone else "ClusterActive", params["wait_timeout"], 15,
                     f"EKS cluster {params['name']}", "cluster", name=params["name"])


def ensure(client, params, check_mode):
    name = params["name"]
    current = _describe(client, name)
    if params["state"] == "absent":
        if current is None:
            return {"changed": False, "cluster": {}, "diff": diff(None, None), "unreported_settings": []}
        if not check_mode:
            if current.get("status") != "DELETING":
                client.delete_cluster(aws_retry=True, name=name)
            _wait(client, params, gone=True)
        return {"changed": True, "cluster": {}, "diff": diff(current, None), "unreported_settings": []}

    if current is None:
        missing = [o for o in ("version", "role_arn", "subnet_ids") if not params.get(o)]
        if missing:
            raise ValueError(f"creating cluster {name} needs: {', '.join(missing)}")
        request = create_request(params)
        if check_mode:
            return {"changed": True, "cluster": request, "diff": diff(None, request), "unreported_settings": []}
        client.create_cluster(aws_retry=True, **request)
        created = _wait(client, params)
        return {"changed": True, "cluster": created, "diff": diff(None, created), "unreported_settings": []}

    if current.get("status") in ("CREATING", "UPDATING"):
        current = _wait(client, params)
    updates, unreported = plan_updates(current, params)
    to_set, to_remove = compare_aws_tags(current.get("tags") or {}, params["tags"], params["purge_tags"]) \
        if params.get("tags") is not None else ({}, [])
    changed = bool(updates or to_set or to_remove)
    if changed and not check_mode:
        for method, request in updates:
            getattr(client, method)(aws_retry=True, **request)
            _wait(client, params)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=current["arn"], tags=to_set)
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=current["arn"], tagKeys=to_remove)
    after = _describe(client, name) if changed and not check_mode else current
    return {"changed": changed, "cluster": after, "updates": [method for method, _request in updates],
            "diff": diff(current, after if not check_mode else {**current, "pending_updates": updates}),
            "unreported_settings": unreported}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str"),
            role_arn=dict(type="str"),
            subnet_ids=dict(type="list", elements="str"),
            security_group_ids=dict(type="list", elements="str", default=[]),
            endpoint_private_access=dict(type="bool", default=True),
            endpoint_public_access=dict(type="bool", default=False),
            public_access_cidrs=dict(type="list", elements="str", default=[]),
            encryption_key_arn=dict(type="str", no_log=False),
            logging_types=dict(type="list", elements="str", default=list(ALL_LOG_TYPES),
                               choices=list(ALL_LOG_TYPES)),
            authentication_mode=dict(type="str", default="API", choices=["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"]),
            bootstrap_cluster_creator_admin_permissions=dict(type="bool", default=True),
            auto_mode=dict(type="bool"),
            auto_mode_node_pools=dict(type="list", elements="str", default=["general-purpose", "system"],
                                      choices=["general-purpose", "system"]),
            auto_mode_node_role_arn=dict(type="str"),
            **resource_argument_spec(wait_timeout=1800),
        ),
        required_if=[("auto_mode", True, ["auto_mode_node_role_arn"])],
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, f"managing EKS cluster {module.params['name']} failed")
    for setting in result["unreported_settings"]:
        module.warn(f"the EKS endpoint did not report {setting} for cluster {module.params['name']}: not compared")
    exit_with(module, result, "cluster")


if __name__ == "__main__":
    main()
