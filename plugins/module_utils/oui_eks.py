# -*- coding: utf-8 -*-
# Copyright (c) 2026 OUI platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS pieces shared by the oui.platform EKS modules."""
from __future__ import annotations

import time

try:
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing botocore
    ClientError = Exception


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
