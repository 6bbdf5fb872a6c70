# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the oui.platform AWS modules.

The modules follow the amazon.aws conventions (AnsibleAWSModule, AWSRetry, check mode,
diff). Each module keeps its API logic in plain functions that take a boto3 client wrapped
for retries, so unit tests can drive them with botocore's Stubber and assert the exact
requests; this file holds what they have in common.
"""
from __future__ import annotations

import copy
import json

try:
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing collection
    AWSRetry = None
    RetryingBotoClientWrapper = None


def resource_argument_spec(cluster=False, tags=True, purge_tags=True, wait_timeout=None):
    """argument_spec entries shared by the modules that manage one AWS resource.

    Documented by the oui.platform.aws_resource fragment (state, and its .cluster and .wait
    sections) and amazon.aws.tags.modules (tags, purge_tags). Spread into a module's own
    options with ``dict(..., **resource_argument_spec(...))``, so a clash is a TypeError.

    cluster: add ``cluster_name`` (resources that belong to one EKS cluster).
    tags: add ``tags``; purge_tags: add ``purge_tags`` too (tags converged, not only set at creation).
    wait_timeout: add ``wait`` and ``wait_timeout`` with this default, in seconds; None when the
    module does not wait.
    """
    spec = {}
    if cluster:
        spec["cluster_name"] = dict(type="str", required=True)
    if tags:
        spec["tags"] = dict(type="dict", aliases=["resource_tags"])
        if purge_tags:
            spec["purge_tags"] = dict(type="bool", default=True)
    if wait_timeout is not None:
        spec["wait"] = dict(type="bool", default=True)
        spec["wait_timeout"] = dict(type="int", default=wait_timeout)
    spec["state"] = dict(type="str", default="present", choices=["present", "absent"])
    return spec


def retry_decorator():
    """Jittered back-off on throttling and the transient errors AWSRetry knows."""
    return AWSRetry.jittered_backoff(retries=10, delay=3, max_delay=30)


def retrying_client(client):
    """Wrap a plain boto3 client the way AnsibleAWSModule.client(retry_decorator=...) does."""
    return RetryingBotoClientWrapper(client, retry_decorator())


def differs(current, desired):
    """True when a desired (sub)structure is not what the API reports.

    Only keys present in `desired` are compared; lists of scalars compare as sets,
    since AWS returns them in no particular order; JSON strings compare parsed.
    """
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return True
        return any(differs(current.get(key), value) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return True
        if all(not isinstance(item, (dict, list)) for item in desired):
            return sorted(map(str, current)) != sorted(map(str, desired))
        return any(differs(c, d) for c, d in zip(current, desired))
    if isinstance(desired, str) and isinstance(current, str) and desired[:1] in "{[":
        try:
            return json.loads(current) != json.loads(desired)
        except ValueError:
            pass
    return current != desired


def without_none(value):
    """Drop None values recursively, so omitted options are not sent to the API."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value


def diff(before, after):
    """The dict Ansible shows with --diff."""
    return {"before": copy.deepcopy(before) if before else {}, "after": copy.deepcopy(after) if after else {}}


def exit_with(module, result, key, ignore_list=None):
    """Exit the module with `result`, its `key` resource in snake_case and datetimes as ISO strings."""
    from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result

    result = normalize_boto3_result(result)
    result[key] = camel_dict_to_snake_dict(result.get(key) or {}, ignore_list=ignore_list or ["Tags", "tags"])
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


def run_ensure(module, service, ensure, failure):
    """Call `ensure(client, params, check_mode)` with a retrying client; fail the module readably."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = module.client(service, retry_decorator=retry_decorator())
    try:
        return ensure(client, module.params, module.check_mode)
    except (BotoCoreError, ClientError) as exc:
        module.fail_json_aws(exc, msg=failure)
    except (ValueError, RuntimeError, TimeoutError) as exc:
        module.fail_json(msg=f"{failure}: {exc}")
