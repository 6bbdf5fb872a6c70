#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_pod_identity_association
short_description: Give a Kubernetes service account an IAM role with EKS Pod Identity
version_added: 0.1.0
description:
  - Creates, updates (the role, in place) or deletes the EKS Pod Identity association of one service account.
    No module of amazon.aws or community.aws manages these associations.
  - The cluster needs the C(eks-pod-identity-agent) add-on; the role must trust C(pods.eks.amazonaws.com) with
    C(sts:AssumeRole) and C(sts:TagSession).
  - Idempotent, with check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  namespace:
    description: Namespace of the service account.
    type: str
    required: true
  service_account:
    description: Name of the service account.
    type: str
    required: true
  role_arn:
    description: IAM role the service account's pods receive credentials for.
    type: str
  tags:
    description: Tags set when the association is created (not converged afterwards).
    type: dict
    aliases: [resource_tags]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
  - oui.platform.aws_resource.cluster
"""

EXAMPLES = r"""
- name: Velero's service account gets the backup role
  oui.platform.eks_pod_identity_association:
    cluster_name: oui-prod
    namespace: velero
    service_account: velero
    role_arn: arn:aws:iam::123456789012:role/oui-prod-velero

- name: Remove Velero's association
  oui.platform.eks_pod_identity_association:
    cluster_name: oui-prod
    namespace: velero
    service_account: velero
    state: absent
"""

RETURN = r"""
association:
  description: The association as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {namespace: velero, service_account: velero, role_arn: "arn:aws:iam::123456789012:role/oui-prod-velero"}
  contains:
    association_id:
      description: ID of the association.
      type: str
    association_arn:
      description: ARN of the association.
      type: str
    namespace:
      description: Namespace of the service account.
      type: str
    service_account:
      description: Service account the IAM role is associated with.
      type: str
    role_arn:
      description: IAM role the service account's pods get credentials of.
      type: str
    tags:
      description: Tags of the association.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none


def _view(assoc):
    return {k: assoc.get(k) for k in ("namespace", "serviceAccount", "roleArn", "tags")} if assoc else {}


def find(client, params):
    found = describe_or_none(client.list_pod_identity_associations, "associations", clusterName=params["cluster_name"],
                             namespace=params["namespace"], serviceAccount=params["service_account"])
    if not found:
        return None
    return client.describe_pod_identity_association(
        aws_retry=True, clusterName=params["cluster_name"], associationId=found[0]["associationId"])["association"]


def ensure(client, params, check_mode):
    current = find(client, params)
    cluster = params["cluster_name"]
    if params["state"] == "absent":
        if current and not check_mode:
            client.delete_pod_identity_association(aws_retry=True, clusterName=cluster,
                                                   associationId=current["associationId"])
        return {"changed": bool(current), "association": {}, "diff": diff(_view(current), None)}
    if current is None:
        request = {"clusterName": cluster, "namespace": params["namespace"],
                   "serviceAccount": params["service_account"], "roleArn": params["role_arn"]}
        if params.get("tags"):
            request["tags"] = params["tags"]
        assoc = request if check_mode else client.create_pod_identity_association(aws_retry=True, **request)["association"]
        return {"changed": True, "association": assoc, "diff": diff(None, _view(assoc))}
    if current.get("roleArn") == params["role_arn"]:
        return {"changed": False, "association": current, "diff": diff(_view(current), _view(current))}
    after = {**current, "roleArn": params["role_arn"]}
    if not check_mode:
        after = client.update_pod_identity_association(
            aws_retry=True, clusterName=cluster, associationId=current["associationId"],
            roleArn=params["role_arn"])["association"]
    return {"changed": True, "association": after, "diff": diff(_view(current), _view(after))}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            namespace=dict(type="str", required=True),
            service_account=dict(type="str", required=True),
            role_arn=dict(type="str"),
            **resource_argument_spec(cluster=True, purge_tags=False),
        ),
        required_if=[("state", "present", ["role_arn"])],
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, "managing the pod identity association of "
                        f"{module.params['namespace']}/{module.params['service_account']} failed")
    exit_with(module, result, "association")


if __name__ == "__main__":
    main()
