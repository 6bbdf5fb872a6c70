# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS pieces shared by the oui.platform EKS modules."""
from __future__ import annotations

import time

try:
    from botocore.exceptions import ClientError
    from botocore.exceptions import WaiterError
    from botocore.session import get_session
    from botocore.waiter import NormalizedOperationMethod
    from botocore.waiter import Waiter
    from botocore.waiter import xform_name
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing botocore
    ClientError = WaiterError = Exception


def not_found(exc) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def describe_or_none(call, key, **kwargs):
    """`call(**kwargs)[key]`, or None when EKS says the resource does not exist."""
    try:
        return call(aws_retry=True, **kwargs)[key]
    except ClientError as exc:
        if not_found(exc):
            return None
        raise


def pages(call, key, **kwargs):
    """The items under `key` of every page of a paginated EKS list call (nextToken)."""
    token = None
    while True:
        page = call(aws_retry=True, **kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return


def wait_for(describe, done, timeout, delay=15, what="resource"):
    """Poll `describe()` until `done(result)`; returns the last result. Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        current = describe()
        if done(current):
            return current
        if current is not None and str(current.get("status", "")).endswith("FAILED"):
            raise RuntimeError(f"{what} reached status {current['status']}: {current.get('health', '')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last status: "
                               f"{None if current is None else current.get('status')})")
        time.sleep(delay)


def wait_with(client, waiter_name, timeout, delay, what, key, **request):
    """Wait with botocore's own EKS waiter `waiter_name` (ClusterActive, NodegroupDeleted, ...): its
    success and failure states, its describe call made through `client` (retrying on throttling).

    Returns the resource (`key` of the last describe), or None once it is gone. Raises TimeoutError
    after `timeout` seconds, RuntimeError when the waiter reaches one of its failure states.
    """
    config = get_session().get_waiter_model("eks").get_waiter(waiter_name)
    describe = getattr(client, xform_name(config.operation))
    last = {}

    def call(**kwargs):
        last["response"] = None
        last["response"] = describe(aws_retry=True, **kwargs)
        return last["response"]

    waiter = Waiter(waiter_name, config, NormalizedOperationMethod(call))
    try:
        waiter.wait(**request, WaiterConfig={"Delay": delay, "MaxAttempts": max(1, -(-timeout // delay))})
    except WaiterError as exc:
        seen = (exc.last_response or {}).get(key, {}).get("status") or (exc.last_response or {}).get("Error", {}).get("Code")
        if "Max attempts exceeded" in str(exc):
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last status: {seen})") from exc
        raise RuntimeError(f"{what} reached status {seen}, which {waiter_name} does not wait through") from exc
    return (last.get("response") or {}).get(key)
