#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_managed_nodegroup
short_description: Manage an EKS managed node group, including its labels and taints
version_added: 0.1.0
description:
  - Creates, updates or deletes one EKS managed node group.
  - Scaling bounds, labels, taints and the update budget are converged in place with one C(UpdateNodegroupConfig) call;
    the desired size is only moved back inside the bounds, never reset, so an autoscaler keeps its decisions.
  - Fields EKS cannot change in place (role, subnets, instance types, AMI type, capacity type, disk size) fail with
    a message naming them, rather than being silently ignored.
  - With O(kubernetes_version), a node group behind that minor is upgraded with C(UpdateNodegroupVersion) (a rolling
    replacement of its nodes, within O(max_unavailable)) after its configuration is converged; a node group ahead of it
    fails by name (EKS cannot downgrade nodes).
  - Written because community.aws.eks_nodegroup (11.2.0) fails on re-runs when the API omits updateConfig, breaks
    when a taint changes, has no AL2023 AMI types and reports no change in check mode.
  - Idempotent, with check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  name:
    description: Node group name.
    type: str
    required: true
  node_role:
    description: IAM role ARN of the nodes.
    type: str
  subnets:
    description: Subnets of the nodes (the nodes get no public IP when the subnets map none).
    type: list
    elements: str
  instance_types:
    description: EC2 instance types.
    type: list
    elements: str
  ami_type:
    description: AMI type as EKS names it (C(BOTTLEROCKET_x86_64), C(AL2023_x86_64_STANDARD), ...).
    type: str
    default: BOTTLEROCKET_x86_64
  capacity_type:
    description: On-demand or spot.
    type: str
    choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
    default: ON_DEMAND
  disk_size:
    description: Root volume size in GiB.
    type: int
    default: 50
  min_size:
    description: Minimum number of nodes.
    type: int
    default: 1
  max_size:
    description: Maximum number of nodes.
    type: int
    default: 2
  kubernetes_version:
    description:
      - Kubernetes minor of the nodes (for example C("1.36")); EKS uses the cluster's when omitted at creation.
      - Not newer than the control plane (EKS refuses); upgrade the control plane first.
    type: str
  desired_size:
    description: Number of nodes at creation; later only moved back inside [min_size, max_size].
    type: int
    default: 1
  max_unavailable:
    description: Nodes replaced at once during an update.
    type: int
    default: 1
  labels:
    description: Kubernetes labels of the nodes.
    type: dict
    default: {}
  taints:
    description: Kubernetes taints of the nodes.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
      effect:
        description: Taint effect as EKS spells it.
        type: str
        required: true
        choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE]
  wait_timeout:  # described in oui.platform.aws_resource.wait; the default is this module's
    default: 1800
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
- name: Isolated pool in one zone
  oui.platform.eks_managed_nodegroup:
    name: oui-prod-isolated-eu-west-3a
    cluster_name: oui-prod
    node_role: arn:aws:iam::123456789012:role/oui-prod-node
    subnets: [subnet-0123]
    instance_types: [m6i.large]
    labels: {node.oui.io/pool: isolated}
    taints:
      - {key: node.oui.io/pool, value: isolated, effect: NO_SCHEDULE}

- name: Delete a node group
  oui.platform.eks_managed_nodegroup:
    name: oui-prod-isolated-eu-west-3a
    cluster_name: oui-prod
    state: absent
"""

RETURN = r"""
nodegroup:
  description: The node group as EKS describes it (empty after deletion).
  returned: always
  type: dict
  sample: {nodegroup_name: oui-prod-isolated-eu-west-3a, subnets: [subnet-0123], status: ACTIVE}
  contains:
    nodegroup_name:
      description: Name of the node group.
      type: str
    nodegroup_arn:
      description: ARN of the node group.
      type: str
    status:
      description: Status of the node group (C(ACTIVE) once ready).
      type: str
    version:
      description: Kubernetes version of the nodes.
      type: str
    scaling_config:
      description: Minimum, maximum and desired sizes.
      type: dict
    instance_types:
      description: Instance types of the nodes.
      type: list
      elements: str
    subnets:
      description: Subnets the nodes are placed in.
      type: list
      elements: str
    labels:
      description: Kubernetes labels of the nodes.
      type: dict
    taints:
      description: Kubernetes taints of the nodes.
      type: list
      elements: str
    node_role:
      description: IAM role of the nodes.
      type: str
    tags:
      description: Tags of the node group.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import describe_or_none
from ansible_collections.oui.platform.plugins.module_utils.oui_eks import wait_with

IMMUTABLE = (("nodeRole", "node_role"), ("subnets", "subnets"), ("instanceTypes", "instance_types"),
             ("amiType", "ami_type"), ("capacityType", "capacity_type"), ("diskSize", "disk_size"))


def _taints(params):
    return [{k: t[k] for k in ("key", "value", "effect") if t.get(k) is not None} for t in params["taints"]]


def create_request(params):
    request = {
        "clusterName": params["cluster_name"], "nodegroupName": params["name"], "nodeRole": params["node_role"],
        "subnets": params["subnets"], "instanceTypes": params["instance_types"], "amiType": params["ami_type"],
        "capacityType": params["capacity_type"], "diskSize": params["disk_size"],
        "scalingConfig": {"minSize": params["min_size"], "maxSize": params["max_size"],
                          "desiredSize": params["desired_size"]},
        "updateConfig": {"maxUnavailable": params["max_unavailable"]},
        "labels": params["labels"], "taints": _taints(params),
    }
    if params.get("kubernetes_version"):
        request["version"] = params["kubernetes_version"]
    if params.get("tags"):
        request["tags"] = params["tags"]
    return request


def plan_update(current, params):
    """The UpdateNodegroupConfig request (without the key) that converges `current`, or {}."""
    frozen = []
    for field, option in IMMUTABLE:
        want = params.get(option)
        have = current.get(field)
        if want is None or have is None:
            continue
        if (sorted(have) != sorted(want)) if isinstance(want, list) else have != want:
            frozen.append(f"{option} ({have} -> {want})")
    if frozen:
        raise ValueError(f"node group {params['name']}: EKS cannot change {', '.join(frozen)} in place; "
                         "create a new node group and delete this one")
    update = {}
    scaling = current.get("scalingConfig", {})
    desired = min(max(scaling.get("desiredSize", params["desired_size"]), params["min_size"]), params["max_size"])
    if (scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize")) != \
            (params["min_size"], params["max_size"], desired):
        update["scalingConfig"] = {"minSize": params["min_size"], "maxSize": params["max_size"], "desiredSize": desired}
    labels_now = current.get("labels") or {}
    labels = {}
    add = {k: v for k, v in params["labels"].items() if labels_now.get(k) != v}
    if add:
        labels["addOrUpdateLabels"] = add
    remove = sorted(k for k in labels_now if k not in params["labels"])
    if remove:
        labels["removeLabels"] = remove
    if labels:
        update["labels"] = labels
    taints_now = {(t["key"], t["effect"]): t.get("value") for t in current.get("taints") or []}
    taints_want = {(t["key"], t["effect"]): t.get("value") for t in _taints(params)}
    taints = {}
    add = [t for t in _taints(params) if (t["key"], t["effect"]) not in taints_now
           or taints_now[(t["key"], t["effect"])] != t.get("value")]
    if add:
        taints["addOrUpdateTaints"] = add
    remove = [{"key": k, "value": v, "effect": e} if v is not None else {"key": k, "effect": e}
              for (k, e), v in taints_now.items() if (k, e) not in taints_want]
    if remove:
        taints["removeTaints"] = remove
    if taints:
        update["taints"] = taints
    if "updateConfig" in current and current["updateConfig"].get("maxUnavailable") != params["max_unavailable"]:
        update["updateConfig"] = {"maxUnavailable": params["max_unavailable"]}
    return update


def plan_version(current, params):
    """The version the node group must move to, or None; refuses a downgrade."""
    want, have = params.get("kubernetes_version"), current.get("version")
    if not want or not have or want == have:
        return None
    if tuple(int(x) for x in want.split(".")[:2]) < tuple(int(x) for x in have.split(".")[:2]):
        raise ValueError(f"node group {params['name']} runs Kubernetes {have}; EKS cannot move it back to {want}")
    return want


def _describe(client, params):
    return describe_or_none(client.describe_nodegroup, "nodegroup", clusterName=params["cluster_name"],
                            nodegroupName=params["name"])


def _wait(client, params, gone=False):
    if not params["wait"]:
        return _describe(client, params)
    return wait_with(client, "NodegroupDeleted" if gone else "NodegroupActive", params["wait_timeout"], 20,
                     f"node group {params['name']} of {params['cluster_name']}", "nodegroup",
                     clusterName=params["cluster_name"], nodegroupName=params["name"])


def ensure(client, params, check_mode):
    key = {"clusterName": params["cluster_name"], "nodegroupName": params["name"]}
    current = _describe(client, params)
    if params["state"] == "absent":
        if current is None:
            return {"changed": False, "nodegroup": {}, "diff": diff(None, None)}
        if not check_mode:
            if current.get("status") != "DELETING":
                client.delete_nodegroup(aws_retry=True, **key)
            _wait(client, params, gone=True)
        return {"changed": True, "nodegroup": {}, "diff": diff(current, None)}

    if current is None:
        missing = [o for o in ("node_role", "subnets", "instance_types") if not params.get(o)]
        if missing:
            raise ValueError(f"creating node group {params['name']} needs: {', '.join(missing)}")
        request = create_request(params)
        if check_mode:
            return {"changed": True, "nodegroup": request, "diff": diff(None, request)}
        client.create_nodegroup(aws_retry=True, **request)
        created = _wait(client, params)
        return {"changed": True, "nodegroup": created, "diff": diff(None, created)}

    update = plan_update(current, params)
    version = plan_version(current, params)
    to_set, to_remove = compare_aws_tags(current.get("tags") or {}, params["tags"], params["purge_tags"]) \
        if params.get("tags") is not None else ({}, [])
    changed = bool(update or version or to_set or to_remove)
    after = current
    if changed and not check_mode:
        if update:
            client.update_nodegroup_config(aws_retry=True, **key, **update)
            _wait(client, params)
        if version:
            client.update_nodegroup_version(aws_retry=True, **key, version=version)
            _wait(client, params)
        if to_set:
            client.tag_resource(aws_retry=True, resourceArn=current["nodegroupArn"], tags=to_set)
        if to_remove:
            client.untag_resource(aws_retry=True, resourceArn=current["nodegroupArn"], tagKeys=to_remove)
        after = _describe(client, params)
    pending = {**update, **({"version": version} if version else {})}
    return {"changed": changed, "nodegroup": after, "update": pending,
            "diff": diff(current, after if not check_mode else {**current, "pending_update": pending})}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            node_role=dict(type="str"),
            subnets=dict(type="list", elements="str"),
            instance_types=dict(type="list", elements="str"),
            ami_type=dict(type="str", default="BOTTLEROCKET_x86_64"),
            capacity_type=dict(type="str", default="ON_DEMAND", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
            disk_size=dict(type="int", default=50),
            min_size=dict(type="int", default=1),
            max_size=dict(type="int", default=2),
            desired_size=dict(type="int", default=1),
            kubernetes_version=dict(type="str"),
            max_unavailable=dict(type="int", default=1),
            labels=dict(type="dict", default={}),
            taints=dict(type="list", elements="dict", default=[], options=dict(
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str"),
                effect=dict(type="str", required=True, choices=["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
            )),
            **resource_argument_spec(cluster=True, wait_timeout=1800),
        ),
        supports_check_mode=True,
    )
    result = run_ensure(module, "eks", ensure, f"managing node group {module.params['name']} failed")
    exit_with(module, result, "nodegroup")


if __name__ == "__main__":
    main()
