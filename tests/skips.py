"""Why a test may be skipped: a documented design limit, or the machine.

A design limit is something the offline test bed cannot do by design (no internet, an API the
local AWS endpoint lacks, another cluster than the project's own). Each one is declared here with
its reason and the page that describes it, and listed in docs/testing.md#design-limits (a unit
test keeps the two in step). A test skips for one with `design_limit(key, detail)`.

Every other skip is a machine skip: something this machine lacks (a tool, a package, a component
that did not start). `require(condition, reason)` raises one. `make test` sets
OUI_MACHINE_SKIPS=fail, and the session then fails when any machine skip happened
(tests/harness_plugin.py); a developer running one file without it gets a loud skip.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import NoReturn

import pytest

MODE_VARIABLE = "OUI_MACHINE_SKIPS"
MODES = ("report", "fail")
DESIGN_PREFIX = "DESIGN LIMIT"
MACHINE_PREFIX = "MACHINE SKIP"
_DESIGN = re.compile(rf"^(?:Skipped: )?{DESIGN_PREFIX} \[(?P<key>[a-z0-9-]+)\]")


@dataclass(frozen=True)
class DesignLimit:
    reason: str
    docs: str  # the page (and anchor) that describes the limit


DESIGN_LIMITS: dict[str, DesignLimit] = {
    "external-cluster": DesignLimit(
        "OUI_TEST_KUBECONFIG points the tests at another cluster: the project's own build (its figures, its "
        "helm and helm-diff) is not there to check",
        "docs/testing.md#against-another-cluster"),
    "moto-lacks-api": DesignLimit(
        "the local AWS endpoint (moto 5.2.5) lacks some APIs; the steps that call them are skipped by tag inside "
        "passing tests, and a test fails when moto gains them",
        "docs/adr/0303-local-aws-endpoint-for-tests.md"),
}


def mode() -> str:
    value = os.environ.get(MODE_VARIABLE, "report") or "report"
    if value not in MODES:
        raise pytest.UsageError(f"{MODE_VARIABLE}={value!r}: expected one of {', '.join(MODES)}")
    return value


def design_limit_reason(key: str, detail: str = "") -> str:
    """The skip message of a design limit (also for `pytest.mark.skipif(..., reason=...)`)."""
    if key not in DESIGN_LIMITS:
        raise KeyError(f"design limit {key!r} is not declared in tests/skips.py (known: {', '.join(DESIGN_LIMITS)})")
    limit = DESIGN_LIMITS[key]
    return f"{DESIGN_PREFIX} [{key}]: {detail + '; ' if detail else ''}{limit.reason} ({limit.docs})"


def design_limit(key: str, detail: str = "") -> NoReturn:
    """Skip because of a declared design limit; never fails `make test`."""
    pytest.skip(design_limit_reason(key, detail))


def require(condition: bool, reason: str) -> None:
    """Skip loudly when this machine lacks a prerequisite (`make test` then fails: OUI_MACHINE_SKIPS=fail)."""
    if condition:
        return
    pytest.skip(f"{MACHINE_PREFIX}: {reason}")


def classify(message: str) -> str | None:
    """The design limit a skip message declares, or None for a machine skip."""
    match = _DESIGN.match(message.strip())
    return match["key"] if match and match["key"] in DESIGN_LIMITS else None
