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
  - With O(access_policies), the EKS access policies of the entry (for example cluster-admin through
    C(AmazonEKSClusterAdminPolicy)) are converged too - associated with their scope, and the others disassociated.
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
  access_policies:
    description:
      - EKS access policies associated with the entry, each with its access scope. Policies associated but not
        listed are disassociated; omit the option to leave the associations as they are.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description: ARN of the access policy (C(arn:aws:eks::aws:cluster-access-policy/<name>)).
        type: str
        required: true
      access_scope:
        description: Where the policy applies - the whole cluster or listed namespaces.
        type: dict
        suboptions:
          type:
            description: Scope type.
            type: str
            choices: [cluster, namespace]
            default: cluster
          namespaces:
            description: Namespaces, for a V(namespace) scope.
            type: list
            elements: str
            default: []
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

- name: The CI deploy role is cluster-admin through the EKS access policy
  oui.platform.eks_access_entry:
    cluster_name: oui-prod
    principal_arn: arn:aws:iam::123456789012:role/oui-prod-deployer
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
        access_scope: {type: cluster}
"""

RETURN = r"""
access_entry:
  description: The access entry as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {principal_arn: "arn:aws:iam::123456789012:role/oui-operators", kubernetes_groups: [platform-admins],
           access_policies: [{policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                              access_scope: {type: cluster}}]}
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
    access_policies:
      description:
        - The access policies associated with the entry, each with its access scope (only when
          O(access_policies) is given).
      type: list
      elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import pages


def _view(entry):
    keys = ("principalArn", "kubernetesGroups", "username", "type", "tags", "accessPolicies")
    return {k: entry.get(k) for k in keys if k in entry} if entry else {}


def _scope(scope):
    """An access scope as compared and sent: type, and the sorted namespaces of a namespace scope."""
    scope = scope or {}
    kind = scope.get("type") or "cluster"
    return {"type": kind, "namespaces": sorted(scope.get("namespaces") or [])} if kind == "namespace" else {"type": kind}


def associated_policies(client, key):
    """{policy ARN: scope} of the entry, across pages."""
    return {policy["policyArn"]: _scope(policy.get("accessScope"))
            for policy in pages(client.list_associated_access_policies, "associatedAccessPolicies", **key)}


def converge_policies(client, key, wanted, exists, check_mode):
    """Associate the wanted policies (and scopes) and disassociate the others; returns (changed, before, after)."""
    before = associated_policies(client, key) if exists else {}
    after = {p["policy_arn"]: _scope(p.get("access_scope")) for p in wanted}
    to_associate = {arn: scope for arn, scope in after.items() if before.get(arn) != scope}
    to_remove = sorted(set(before) - set(after))
    if not check_mode:
        for arn, scope in sorted(to_associate.items()):
            client.associate_access_policy(aws_retry=True, **key, policyArn=arn, accessScope=scope)
        for arn in to_remove:
            client.disassociate_access_policy(aws_retry=True, **key, policyArn=arn)
    return bool(to_associate or to_remove), _policy_list(before), _policy_list(after)


def _policy_list(policies):
    return [{"policyArn": arn, "accessScope": scope} for arn, scope in sorted(policies.items())]


def ensure(client, params, check_mode):
    key = {"clusterName": params["cluster_name"], "principalArn": params["principal_arn"]}
    current = describe_or_none(client.describe_access_entry, "accessEntry", **key)
    if params["state"] == "absent":
        if current and not check_mode:
            client.delete_access_entry(aws_retry=True, **key)
        return {"changed": bool(current), "access_entry": {}, "diff": diff(_view(current), None)}

    groups = sorted(set(params["kubernetes_groups"]))
    policies = params.get("access_policies")
    if current is None:
        request = {**key, "type": params["type"]}
        if groups:  # only STANDARD entries carry groups
            request["kubernetesGroups"] = groups
        if params.get("username"):
            request["username"] = params["username"]
        if params.get("tags"):
            request["tags"] = params["tags"]
        entry = dict(request if check_mode else client.create_access_entry(aws_retry=True, **request)["accessEntry"])
        if policies is not None:
            entry["accessPolicies"] = converge_policies(client, key, policies, False, check_mode)[2]
        return {"changed": True, "access_entry": entry, "diff": diff(None, _view(entry))}

    if current.get("type") != params["type"]:
        raise ValueError(f"access entry of {params['principal_arn']} has type {current.get('type')}; EKS cannot change "
                         f"it to {params['type']} (delete the entry first)")
    changed = False
    after = dict(current)
    update = {}
    if policies is not None:
        changed, current["accessPolicies"], after["accessPolicies"] = converge_policies(
            client, key, policies, True, check_mode)
    if sorted(current.get("kubernetesGroups", [])) != groups:
        update["kubernetesGroups"] = groups
    if params.get("username") and current.get("username") != params["username"]:
        update["username"] = params["username"]
    if update:
        changed = True
        after.update(update)
        if not check_mode:
            after = {**client.update_access_entry(aws_retry=True, **key, **update)["accessEntry"],
                     **({"accessPolicies": after["accessPolicies"]} if policies is not None else {})}
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
            access_policies=dict(type="list", elements="dict", options=dict(
                policy_arn=dict(type="str", required=True),
                access_scope=dict(type="dict", options=dict(
                    type=dict(type="str", default="cluster", choices=["cluster", "namespace"]),
                    namespaces=dict(type="list", elements="str", default=[]),
                )),
            )),
            **resource_argument_spec(cluster=True),
        ),
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, f"managing the access entry of {module.params['principal_arn']} failed")
    exit_with(module, result, "access_entry")


if __name__ == "__main__":
    main()
