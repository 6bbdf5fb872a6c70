#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_cluster_info
short_description: Read an EKS cluster, its node groups and add-ons, and the add-on versions of a Kubernetes minor
version_added: 0.2.0
description:
  - Describes one EKS cluster (empty when it does not exist), its managed node groups and its add-ons, without
    changing anything.
  - With O(addon_versions_for), also returns for each add-on named in O(addon_names) the versions EKS offers for that
    Kubernetes minor and the one it marks as default - what an upgrade, one minor at a time, moves an add-on to.
  - No module of amazon.aws or community.aws reads EKS add-ons or their versions.
author:
  - OUI platform team (@oui-team)
options:
  name:
    description: Cluster name.
    type: str
    required: true
  addon_names:
    description: Add-ons whose versions are looked up for O(addon_versions_for).
    type: list
    elements: str
    default: []
  addon_versions_for:
    description: Kubernetes minor (for example C("1.36")) whose add-on versions are returned; none when omitted.
    type: str
  access_entries:
    description: Also describe the cluster's access entries (none in authentication mode C(CONFIG_MAP)).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module changes nothing; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so it has nothing to show as a diff.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the cluster and the add-on versions of the next minor
  oui.platform.eks_cluster_info:
    name: oui-prod
    addon_names: [vpc-cni, kube-proxy, coredns]
    addon_versions_for: "1.36"
  register: cluster_info
"""

RETURN = r"""
exists:
  description: Whether the cluster exists.
  returned: always
  type: bool
cluster:
  description: The cluster as EKS describes it (empty when it does not exist).
  returned: always
  type: dict
  contains:
    version:
      description: Kubernetes minor of the control plane.
      type: str
    access_config:
      description: Authentication mode (C(authentication_mode)) of the cluster.
      type: dict
    compute_config:
      description: EKS Auto Mode compute settings (absent or C(enabled=false) without Auto Mode).
      type: dict
    tags:
      description: Tags of the cluster.
      type: dict
  sample: {name: oui-prod, version: "1.36", access_config: {authentication_mode: API}}
nodegroups:
  description: The managed node groups, as EKS describes them.
  returned: always
  type: list
  elements: dict
  sample: [{nodegroup_name: oui-prod-general-eu-west-3a, version: "1.36", status: ACTIVE}]
addons:
  description: The installed add-ons by name, as EKS describes them.
  returned: always
  type: dict
  sample: {vpc-cni: {addon_name: vpc-cni, addon_version: v1.20.4-eksbuild.2, status: ACTIVE}}
access_entries:
  description: The access entries with O(access_entries=true), as EKS describes them.
  returned: always
  type: list
  elements: dict
  sample: [{principal_arn: "arn:aws:iam::123456789012:role/oui-platform-admins", type: STANDARD, tags: {}}]
addon_versions:
  description: For each of O(addon_names), the versions EKS offers for O(addon_versions_for) and its default.
  returned: always
  type: dict
  contains:
    default:
      description: The version EKS marks as default for the minor (empty when it offers none).
      type: str
    compatible:
      description: Every version EKS offers for the minor.
      type: list
      elements: str
  sample: {vpc-cni: {default: v1.20.4-eksbuild.2, compatible: [v1.20.4-eksbuild.2, v1.20.3-eksbuild.1]}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import retry_decorator
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import pages


def addon_versions(client, names, kubernetes_version):
    """{add-on: {default, compatible}} for one Kubernetes minor."""
    found = {}
    for name in names:
        versions, default = [], ""
        for addon in pages(client.describe_addon_versions, "addons", addonName=name,
                           kubernetesVersion=kubernetes_version):
            for version in addon.get("addonVersions", []):
                matches = [c for c in version.get("compatibilities", []) if c.get("clusterVersion") == kubernetes_version]
                if not matches:
                    continue
                versions.append(version["addonVersion"])
                if any(c.get("defaultVersion") for c in matches):
                    default = version["addonVersion"]
        found[name] = {"default": default, "compatible": versions}
    return found


def gather(client, params):
    name = params["name"]
    cluster = describe_or_none(client.describe_cluster, "cluster", name=name)
    result = {"exists": cluster is not None, "cluster": cluster or {}, "nodegroups": [], "addons": {},
              "addon_versions": {}, "access_entries": []}
    if cluster is not None:
        for group in pages(client.list_nodegroups, "nodegroups", clusterName=name):
            found = describe_or_none(client.describe_nodegroup, "nodegroup", clusterName=name, nodegroupName=group)
            if found:
                result["nodegroups"].append(found)
        for addon in pages(client.list_addons, "addons", clusterName=name):
            found = describe_or_none(client.describe_addon, "addon", clusterName=name, addonName=addon)
            if found:
                result["addons"][addon] = found
        mode = (cluster.get("accessConfig") or {}).get("authenticationMode")
        if params["access_entries"] and mode != "CONFIG_MAP":
            for principal in pages(client.list_access_entries, "accessEntries", clusterName=name):
                found = describe_or_none(client.describe_access_entry, "accessEntry", clusterName=name,
                                         principalArn=principal)
                if found:
                    result["access_entries"].append(found)
    if params.get("addon_versions_for"):
        result["addon_versions"] = addon_versions(client, params["addon_names"], params["addon_versions_for"])
    return result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            addon_names=dict(type="list", elements="str", default=[]),
            addon_versions_for=dict(type="str"),
            access_entries=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    from botocore.exceptions import BotoCoreError, ClientError
    from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result

    client = module.client("eks", retry_decorator=retry_decorator())
    try:
        result = normalize_boto3_result(gather(client, module.params))
    except (BotoCoreError, ClientError) as exc:
        module.fail_json_aws(exc, msg=f"reading EKS cluster {module.params['name']} failed")
    snake = {"ignore_list": ["tags", "Tags", "labels"]}
    module.exit_json(
        changed=False, exists=result["exists"],
        cluster=camel_dict_to_snake_dict(result["cluster"], **snake),
        nodegroups=[camel_dict_to_snake_dict(g, **snake) for g in result["nodegroups"]],
        addons={name: camel_dict_to_snake_dict(a, **snake) for name, a in result["addons"].items()},
        addon_versions=result["addon_versions"],
        access_entries=[camel_dict_to_snake_dict(e, **snake) for e in result["access_entries"]],
    )


if __name__ == "__main__":
    main()
