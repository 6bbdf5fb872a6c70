#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_access_entry
short_description: Map an IAM principal to Kubernetes groups with an EKS access entry
version_added: 0.1.0
description:
  - Creates, updates or deletes the EKS access entry of one IAM principal (user or role), mapping it to Kubernetes
    groups that RBAC bindings in the cluster then grant rights to. No module of amazon.aws or community.aws manages
    access entries.
  - The groups and username are updated in place; the entry type cannot change (EKS refuses), so a different type fails.
  - Idempotent, with check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  principal_arn:
    description: ARN of the IAM user or role.
    type: str
    required: true
  kubernetes_groups:
    description: Kubernetes groups the principal belongs to (for example V(platform-admins)).
    type: list
    elements: str
    default: []
  username:
    description: Kubernetes username; EKS derives one from the ARN when omitted.
    type: str
  type:
    description: Access entry type.
    type: str
    default: STANDARD
    choices: [STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX, HYPERPOD_LINUX]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
  - oui.platform.aws_resource.cluster
"""

EXAMPLES = r"""
- name: Operators' role is in platform-admins
  oui.platform.eks_access_entry:
    cluster_name: oui-prod
    principal_arn: arn:aws:iam::123456789012:role/oui-operators
    kubernetes_groups: [platform-admins]

- name: Remove the access entry of a role
  oui.platform.eks_access_entry:
    cluster_name: oui-prod
    principal_arn: arn:aws:iam::123456789012:role/oui-operators
    state: absent
"""

RETURN = r"""
access_entry:
  description: The access entry as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {principal_arn: "arn:aws:iam::123456789012:role/oui-operators", kubernetes_groups: [platform-admins]}
  contains:
    principal_arn:
      description: ARN of the IAM principal.
      type: str
    kubernetes_groups:
      description: Kubernetes groups the principal is in.
      type: list
      elements: str
    username:
      description: Kubernetes username of the principal.
      type: str
    type:
      description: Access entry type.
      type: str
    access_entry_arn:
      description: ARN of the access entry.
      type: str
    tags:
      description: Tags of the access entry.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none


def _view(entry):
    return {k: entry.get(k) for k in ("principalArn", "kubernetesGroups", "username", "type", "tags")} if entry else {}


def ensure(client, params, check_mode):
    key = {"clusterName": params["cluster_name"], "principalArn": params["principal_arn"]}
    current = describe_or_none(client.describe_access_entry, "accessEntry", **key)
    if params["state"] == "absent":
        if current and not check_mode:
            client.delete_access_entry(aws_retry=True, **key)
        return {"changed": bool(current), "access_entry": {}, "diff": diff(_view(current), None)}

    groups = sorted(set(params["kubernetes_groups"]))
    if current is None:
        request = {**key, "kubernetesGroups": groups, "type": params["type"]}
        if params.get("username"):
            request["username"] = params["username"]
        if params.get("tags"):
            request["tags"] = params["tags"]
        entry = request if check_mode else client.create_access_entry(aws_retry=True, **request)["accessEntry"]
        return {"changed": True, "access_entry": entry, "diff": diff(None, _view(entry))}

    if current.get("type") != params["type"]:
        raise ValueError(f"access entry of {params['principal_arn']} has type {current.get('type')}; EKS cannot change "
                         f"it to {params['type']} (delete the entry first)")
    changed = False
    after = dict(current)
    update = {}
    if sorted(current.get("kubernetesGroups", [])) != groups:
        update["kubernetesGroups"] = groups
    if params.get("username") and current.get("username") != params["username"]:
        update["username"] = params["username"]
    if update:
        changed = True
        after.update(update)
        if not check_mode:
            after = client.update_access_entry(aws_retry=True, **key, **update)["accessEntry"]
    if params.get("tags") is not None:
        to_set, to_remove = compare_aws_tags(current.get("tags") or {}, params["tags"], params["purge_tags"])
        if to_set or to_remove:
            changed = True
            after["tags"] = {**{k: v for k, v in (current.get("tags") or {}).items() if k not in to_remove}, **to_set}
            if not check_mode and to_set:
                client.tag_resource(aws_retry=True, resourceArn=current["accessEntryArn"], tags=to_set)
            if not check_mode and to_remove:
                client.untag_resource(aws_retry=True, resourceArn=current["accessEntryArn"], tagKeys=to_remove)
    return {"changed": changed, "access_entry": after, "diff": diff(_view(current), _view(after))}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            principal_arn=dict(type="str", required=True),
            kubernetes_groups=dict(type="list", elements="str", default=[]),
            username=dict(type="str"),
            type=dict(type="str", default="STANDARD",
                      choices=["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX",
                               "HYPERPOD_LINUX"]),
            **resource_argument_spec(cluster=True),
        ),
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, f"managing the access entry of {module.params['principal_arn']} failed")
    exit_with(module, result, "access_entry")


if __name__ == "__main__":
    main()
