#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecr_pull_through_cache_rule
short_description: Manage an ECR pull-through cache rule
version_added: 0.1.0
description:
  - Creates, updates or deletes the ECR pull-through cache rule of one repository prefix, so that nodes without
    internet egress pull upstream images (Docker Hub, quay.io, registry.k8s.io, ghcr.io, ...) through the
    account's private registry. Neither amazon.aws nor community.aws manages these rules.
  - The credential of a rule is updated in place; a change of upstream replaces the rule.
  - Idempotent, with check mode and diff.
author:
  - OUI platform team (@oui-team)
options:
  ecr_repository_prefix:
    description: Prefix of the cached repositories (C(<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/...)).
    type: str
    required: true
  upstream_registry_url:
    description: Registry to cache, for example C(registry-1.docker.io), C(quay.io), C(registry.k8s.io), C(ghcr.io).
    type: str
  upstream_registry:
    description: The upstream's kind as ECR names it (C(docker-hub), C(quay), C(k8s), C(github-container-registry), ...).
    type: str
  credential_arn:
    description:
      - Secrets Manager secret (name prefixed C(ecr-pullthroughcache/)) with the upstream's credentials;
        required by ECR for Docker Hub and GitHub.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - oui.platform.aws_resource
"""

EXAMPLES = r"""
- name: Cache registry.k8s.io
  oui.platform.ecr_pull_through_cache_rule:
    ecr_repository_prefix: registry-k8s-io
    upstream_registry_url: registry.k8s.io

- name: Stop caching registry.k8s.io
  oui.platform.ecr_pull_through_cache_rule:
    ecr_repository_prefix: registry-k8s-io
    state: absent
"""

RETURN = r"""
rule:
  description: The rule as ECR describes it (empty after deletion).
  returned: always
  type: dict
  sample: {ecr_repository_prefix: registry-k8s-io, upstream_registry_url: registry.k8s.io}
  contains:
    ecr_repository_prefix:
      description: ECR repository prefix of the cached images.
      type: str
    upstream_registry_url:
      description: URL of the upstream registry.
      type: str
    credential_arn:
      description: Secrets Manager secret with the upstream registry's credentials.
      type: str
    registry_id:
      description: Account ID of the registry.
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.oui.platform.plugins.module_utils.oui_aws import diff
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import exit_with
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import resource_argument_spec
from ansible_collections.oui.platform.plugins.module_utils.oui_aws import run_ensure


def describe(client, prefix):
    try:
        rules = client.describe_pull_through_cache_rules(aws_retry=True, ecrRepositoryPrefixes=[prefix])
    except is_boto3_error_code("PullThroughCacheRuleNotFoundException"):
        return None
    found = rules.get("pullThroughCacheRules", [])
    return found[0] if found else None


def _view(rule):
    if not rule:
        return {}
    return {k: rule[k] for k in ("ecrRepositoryPrefix", "upstreamRegistryUrl", "upstreamRegistry", "credentialArn")
            if rule.get(k)}


def ensure(client, params, check_mode):
    prefix = params["ecr_repository_prefix"]
    current = describe(client, prefix)
    if params["state"] == "absent":
        if current and not check_mode:
            client.delete_pull_through_cache_rule(aws_retry=True, ecrRepositoryPrefix=prefix)
        return {"changed": bool(current), "rule": {}, "diff": diff(_view(current), None)}

    wanted = {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": params["upstream_registry_url"]}
    if params.get("upstream_registry"):
        wanted["upstreamRegistry"] = params["upstream_registry"]
    if params.get("credential_arn"):
        wanted["credentialArn"] = params["credential_arn"]

    replace = current is not None and any(
        current.get(k) != wanted.get(k) for k in ("upstreamRegistryUrl", "upstreamRegistry") if k in wanted)
    if current is not None and not replace:
        if current.get("credentialArn") == wanted.get("credentialArn"):
            return {"changed": False, "rule": current, "diff": diff(_view(current), _view(current))}
        if not check_mode:
            client.update_pull_through_cache_rule(aws_retry=True, ecrRepositoryPrefix=prefix,
                                                  credentialArn=wanted.get("credentialArn", ""))
        return {"changed": True, "rule": {**current, **wanted}, "diff": diff(_view(current), _view(wanted))}
    if not check_mode:
        if replace:
            client.delete_pull_through_cache_rule(aws_retry=True, ecrRepositoryPrefix=prefix)
        created = client.create_pull_through_cache_rule(aws_retry=True, **wanted)
        created.pop("ResponseMetadata", None)
        wanted = created
    return {"changed": True, "rule": wanted, "diff": diff(_view(current), _view(wanted))}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            ecr_repository_prefix=dict(type="str", required=True),
            upstream_registry_url=dict(type="str"),
            upstream_registry=dict(type="str"),
            credential_arn=dict(type="str"),
            **resource_argument_spec(tags=False),
        ),
        required_if=[("state", "present", ["upstream_registry_url"])],
        supports_check_mode=True,
    )
    result = run_ensure(module, "ecr", ensure, f"managing the pull-through cache rule {module.params['ecr_repository_prefix']} failed")
    exit_with(module, result, "rule")


if __name__ == "__main__":
    main()
