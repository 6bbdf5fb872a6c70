#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_vpc_flow_log
short_description: Manage a VPC flow log
version_added: 0.1.0
description:
  - Creates, updates (by replacement, as AWS flow logs are immutable) or deletes the flow log of a VPC, subnet or
    network interface. Neither amazon.aws nor community.aws has a module for flow logs.
  - A flow log is identified by its resource, traffic type and destination; the module is idempotent and supports
    check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  resource_id:
    description: ID of the VPC, subnet or network interface.
    type: str
    required: true
  resource_type:
    description: Kind of O(resource_id).
    type: str
    choices: [VPC, Subnet, NetworkInterface]
    default: VPC
  traffic_type:
    description: Which traffic to log.
    type: str
    choices: [ACCEPT, REJECT, ALL]
    default: ALL
  log_destination_type:
    description: Where the records go.
    type: str
    choices: [cloud-watch-logs, s3]
    default: cloud-watch-logs
  log_group_name:
    description: CloudWatch Logs group, with O(log_destination_type=cloud-watch-logs).
    type: str
  log_destination:
    description: ARN of the S3 bucket (or folder), with O(log_destination_type=s3).
    type: str
  deliver_logs_permission_arn:
    description: IAM role that lets the flow-log service write to CloudWatch Logs.
    type: str
  max_aggregation_interval:
    description: Seconds over which a record aggregates packets.
    type: int
    choices: [60, 600]
    default: 600
  log_format:
    description: Record format; the AWS default format when omitted.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
"""

EXAMPLES = r"""
- name: Log all traffic of a VPC to CloudWatch Logs
  oui.platform.ec2_vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /oui/oui-prod/vpc-flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/oui-prod-vpc-flow-logs
    max_aggregation_interval: 60
    tags:
      Name: oui-prod

- name: Stop logging a VPC's traffic
  oui.platform.ec2_vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    state: absent
"""

RETURN = r"""
flow_log:
  description: The flow log as EC2 describes it (absent after deletion).
  returned: always
  type: dict
  sample: {flow_log_id: fl-0123456789abcdef0, traffic_type: ALL, log_group_name: /oui/oui-prod/vpc-flow-logs}
  contains:
    flow_log_id:
      description: ID of the flow log.
      type: str
    resource_id:
      description: ID of the VPC (or subnet, or interface) logged.
      type: str
    traffic_type:
      description: Traffic logged (C(ACCEPT), C(REJECT) or C(ALL)).
      type: str
    log_destination_type:
      description: Where the records go (C(cloud-watch-logs) or C(s3)).
      type: str
    log_group_name:
      description: CloudWatch Logs group of the records.
      type: str
    deliver_logs_permission_arn:
      description: IAM role that delivers the records.
      type: str
    max_aggregation_interval:
      description: Seconds over which packets are aggregated into one record.
      type: int
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure

# The fields that make a flow log what it is; a difference in any means replacement.
IDENTITY = ("TrafficType", "LogDestinationType", "LogGroupName", "LogDestination",
            "DeliverLogsPermissionArn", "MaxAggregationInterval", "LogFormat")


def desired_request(params):
    """The CreateFlowLogs request the parameters ask for."""
    request = {
        "ResourceIds": [params["resource_id"]],
        "ResourceType": params["resource_type"],
        "TrafficType": params["traffic_type"],
        "LogDestinationType": params["log_destination_type"],
        "MaxAggregationInterval": params["max_aggregation_interval"],
    }
    for option, key in (("log_group_name", "LogGroupName"), ("log_destination", "LogDestination"),
                        ("deliver_logs_permission_arn", "DeliverLogsPermissionArn"), ("log_format", "LogFormat")):
        if params.get(option):
            request[key] = params[option]
    if params.get("tags"):
        request["TagSpecifications"] = [{"ResourceType": "vpc-flow-log",
                                         "Tags": ansible_dict_to_boto3_tag_list(params["tags"])}]
    return request


def find(client, params):
    """Flow logs of the resource with the same destination (the ones this module manages)."""
    found = client.describe_flow_logs(
        aws_retry=True, Filters=[{"Name": "resource-id", "Values": [params["resource_id"]]}])["FlowLogs"]
    wanted = params.get("log_group_name") or params.get("log_destination")
    return [f for f in found if wanted in (f.get("LogGroupName"), f.get("LogDestination"))]


def matches(current, request):
    """Same identity fields; fields left to AWS defaults (format, derived ARNs) are not compared."""
    return all(current.get(key) == request[key] for key in IDENTITY if key in request)


def ensure(client, params, check_mode):
    existing = find(client, params)
    before = existing[0] if existing else None
    if params["state"] == "absent":
        if existing and not check_mode:
            client.delete_flow_logs(aws_retry=True, FlowLogIds=[f["FlowLogId"] for f in existing])
        return {"changed": bool(existing), "flow_log": {}, "diff": diff(before, None)}

    request = desired_request(params)
    keep = [f for f in existing if matches(f, request)]
    stale = [f for f in existing if f not in keep[:1]]
    changed = False
    if stale:
        changed = True
        if not check_mode:
            client.delete_flow_logs(aws_retry=True, FlowLogIds=[f["FlowLogId"] for f in stale])
    if keep:
        current = keep[0]
        to_set, to_remove = compare_aws_tags(boto3_tag_list_to_ansible_dict(current.get("Tags", [])),
                                             params["tags"], params["purge_tags"]) \
            if params.get("tags") is not None else ({}, [])
        if to_set or to_remove:
            changed = True
            if not check_mode and to_set:
                client.create_tags(aws_retry=True, Resources=[current["FlowLogId"]],
                                   Tags=ansible_dict_to_boto3_tag_list(to_set))
            if not check_mode and to_remove:
                client.delete_tags(aws_retry=True, Resources=[current["FlowLogId"]],
                                   Tags=[{"Key": k} for k in to_remove])
    else:
        changed = True
        if not check_mode:
            created = client.create_flow_logs(aws_retry=True, **request)
            if created.get("Unsuccessful"):
                raise RuntimeError(f"CreateFlowLogs refused: {created['Unsuccessful']}")
    after = find(client, params) if changed and not check_mode else (keep[:1] or [request])
    result = after[0] if after else {}
    return {"changed": changed, "flow_log": result, "diff": diff(before, result)}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            resource_id=dict(type="str", required=True),
            resource_type=dict(type="str", default="VPC", choices=["VPC", "Subnet", "NetworkInterface"]),
            traffic_type=dict(type="str", default="ALL", choices=["ACCEPT", "REJECT", "ALL"]),
            log_destination_type=dict(type="str", default="cloud-watch-logs", choices=["cloud-watch-logs", "s3"]),
            log_group_name=dict(type="str"),
            log_destination=dict(type="str"),
            deliver_logs_permission_arn=dict(type="str"),
            max_aggregation_interval=dict(type="int", default=600, choices=[60, 600]),
            log_format=dict(type="str"),
            **resource_argument_spec(),
        ),
        supports_check_mode=True,
    )
    p = module.params
    needs = {"cloud-watch-logs": ["log_group_name"] + (["deliver_logs_permission_arn"] if p["state"] == "present" else []),
             "s3": ["log_destination"]}[p["log_destination_type"]]
    missing = [name for name in needs if not p.get(name)]
    if missing:
        module.fail_json(msg=f"log_destination_type={p['log_destination_type']} state={p['state']} needs: {', '.join(missing)}")
    result = run_ensure(module, "ec2", ensure, "managing the flow log failed")
    exit_with(module, result, "flow_log")


if __name__ == "__main__":
    main()
