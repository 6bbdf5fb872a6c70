#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_addon
short_description: Manage an EKS add-on (version, configuration values, IAM role)
version_added: 0.1.0
description:
  - Creates, updates or deletes one EKS add-on - for example C(vpc-cni) with NetworkPolicy enforcement turned on,
    C(aws-ebs-csi-driver), C(eks-pod-identity-agent). No module of amazon.aws or community.aws manages add-ons.
  - The version, configuration values (compared as JSON, not as text) and service-account role are converged with
    C(UpdateAddon); with O(wait) the module returns once the add-on is ACTIVE.
  - Idempotent, with check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  name:
    description: Add-on name as EKS lists it (C(aws eks describe-addon-versions)).
    type: str
    required: true
  addon_version:
    description: Exact add-on version (for example C(v1.20.4-eksbuild.2)); EKS picks its default when omitted.
    type: str
  configuration_values:
    description: Add-on configuration (a dict, sent as JSON), validated by EKS against the add-on's schema.
    type: dict
  service_account_role_arn:
    description: IAM role for the add-on's service account (IRSA); leave empty with Pod Identity.
    type: str
  resolve_conflicts:
    description: What to do with fields of the add-on's objects that someone else changed.
    type: str
    choices: [OVERWRITE, NONE, PRESERVE]
    default: OVERWRITE
  preserve:
    description: On deletion, leave the add-on's Kubernetes objects in the cluster.
    type: bool
    default: false
  accept_degraded:
    description: Treat C(DEGRADED) as done when waiting (an add-on whose pods wait for nodes).
    type: bool
    default: false
  wait_timeout:  # described in oui.platform.aws_resource.wait; the default is this module's
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
  - oui.platform.aws_resource.cluster
  - oui.platform.aws_resource.wait
"""

EXAMPLES = r"""
- name: VPC CNI that enforces NetworkPolicies
  oui.platform.eks_addon:
    cluster_name: oui-prod
    name: vpc-cni
    configuration_values:
      enableNetworkPolicy: "true"

- name: Remove an add-on
  oui.platform.eks_addon:
    cluster_name: oui-prod
    name: vpc-cni
    state: absent
"""

RETURN = r"""
addon:
  description: The add-on as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {addon_name: vpc-cni, addon_version: v1.20.4-eksbuild.2, status: ACTIVE}
  contains:
    addon_name:
      description: Name of the add-on.
      type: str
    addon_version:
      description: Version of the add-on.
      type: str
    status:
      description: Status of the add-on (C(ACTIVE) once ready).
      type: str
    configuration_values:
      description: Configuration values of the add-on, a JSON document.
      type: str
    service_account_role_arn:
      description: IAM role of the add-on's service account.
      type: str
    health:
      description: Health of the add-on and its issues.
      type: dict
    addon_arn:
      description: ARN of the add-on.
      type: str
    tags:
      description: Tags of the add-on.
      type: dict
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import wait_for
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import wait_with


def _config(text):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def _view(addon):
    if not addon:
        return {}
    view = {k: addon.get(k) for k in ("addonName", "addonVersion", "serviceAccountRoleArn", "tags") if addon.get(k)}
    view["configurationValues"] = _config(addon.get("configurationValues"))
    return view


def _wanted(params):
    wanted = {}
    if params.get("addon_version"):
        wanted["addonVersion"] = params["addon_version"]
    if params.get("configuration_values") is not None:
        wanted["configurationValues"] = json.dumps(params["configuration_values"], sort_keys=True)
    if params.get("service_account_role_arn"):
        wanted["serviceAccountRoleArn"] = params["service_account_role_arn"]
    return wanted


def _describe(client, params):
    return describe_or_none(client.describe_addon, "addon", clusterName=params["cluster_name"], addonName=params["name"])


def _wait(client, params, gone=False):
    if not params["wait"]:
        return _describe(client, params)
    what = f"add-on {params['name']} of {params['cluster_name']}"
    if gone:
        return wait_with(client, "AddonDeleted", params["wait_timeout"], 10, what, "addon",
                         clusterName=params["cluster_name"], addonName=params["name"])
    # botocore's AddonActive fails on DEGRADED, a state an add-on passes through while its nodes
    # come up (and one accept_degraded accepts): this wait polls through it instead.
    ok = {"ACTIVE", "DEGRADED"} if params["accept_degraded"] else {"ACTIVE"}
    return wait_for(lambda: _describe(client, params), lambda a: a is not None and a.get("status") in ok,
                    params["wait_timeout"], delay=10, what=what)


def ensure(client, params, check_mode):
    key = {"clusterName": params["cluster_name"], "addonName": params["name"]}
    current = _describe(client, params)
    if params["state"] == "absent":
        if current is None:
            return {"changed": False, "addon": {}, "diff": diff(None, None)}
        if not check_mode:
            if current.get("status") != "DELETING":
                client.delete_addon(aws_retry=True, preserve=params["preserve"], **key)
            _wait(client, params, gone=True)
        return {"changed": True, "addon": {}, "diff": diff(_view(current), None)}

    wanted = _wanted(params)
    if current is None:
        request = {**key, **wanted, "resolveConflicts": params["resolve_conflicts"]}
        if params.get("tags"):
            request["tags"] = params["tags"]
        if check_mode:
            return {"changed": True, "addon": request, "diff": diff(None, _view(request))}
        client.create_addon(aws_retry=True, **request)
        created = _wait(client, params)
        return {"changed": True, "addon": created, "diff": diff(None, _view(created))}

    update = {}
    for field, value in wanted.items():
        if field == "configurationValues":
            if _config(current.get(field)) != _config(value):
                update[field] = value
        elif current.get(field) != value:
            update[field] = value
    to_set, to_remove = compare_aws_tags(current.get("tags") or {}, params["tags"], params["purge_tags"]) \
        if params.get("tags") is not None else ({}, [])
    changed = bool(update or to_set or to_remove)
    after = {**current, **update}
    if changed and not check_mode:
        if update:
            client.update_addon(aws_retry=True, resolveConflicts=params["resolve_conflicts"], **key, **update)
            after = _wait(client, params)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=current["addonArn"], tags=to_set)
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=current["addonArn"], tagKeys=to_remove)
    return {"changed": changed, "addon": after, "diff": diff(_view(current), _view(after))}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            addon_version=dict(type="str"),
            configuration_values=dict(type="dict"),
            service_account_role_arn=dict(type="str"),
            resolve_conflicts=dict(type="str", default="OVERWRITE", choices=["OVERWRITE", "NONE", "PRESERVE"]),
            preserve=dict(type="bool", default=False),
            accept_degraded=dict(type="bool", default=False),
            **resource_argument_spec(cluster=True, wait_timeout=900),
        ),
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, f"managing add-on {module.params['name']} of {module.params['cluster_name']} failed")
    exit_with(module, result, "addon")


if __name__ == "__main__":
    main()
