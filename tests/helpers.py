"""Helpers shared by the integration tiers: running playbooks the way a user does."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                    r"\s+failed=(?P<failed>\d+)", re.M)


def require(condition: bool, reason: str) -> None:
    """Skip loudly (or fail, with OUI_REQUIRE_ALL=1) when a prerequisite is missing."""
    if condition:
        return
    if os.environ.get("OUI_REQUIRE_ALL") == "1":
        pytest.fail(f"prerequisite missing (OUI_REQUIRE_ALL=1): {reason}")
    pytest.skip(f"SKIPPED, prerequisite missing: {reason}")


@dataclass
class PlaybookRun:
    args: list[str]
    returncode: int
    output: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    @property
    def failed(self) -> int:
        return sum(h["failed"] + h["unreachable"] for h in self.recap.values())

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_playbook(playbook: str | Path, inventory: str | Path = "inventories/local/hosts.yml", *,
                 extra_vars: dict | None = None, check: bool = False, diff: bool = False,
                 env: dict | None = None, extra_args: list[str] | None = None, timeout: int = 1800) -> PlaybookRun:
    """Run ansible-playbook from the repository root with the repository's ansible.cfg.

    Returns the run with its PLAY RECAP parsed; never raises on a failed play, so that a
    test can assert on the failure (e.g. the environment guard's message).
    """
    import json

    args = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        args += ["-e", json.dumps(extra_vars)]
    if check:
        args.append("--check")
    if diff:
        args.append("--diff")
    args += extra_args or []
    run_env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0",
               "ANSIBLE_NOCOLOR": "1", "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    run_env.update(env or {})
    proc = subprocess.run(args, cwd=REPO, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)
    recap = {m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
             for m in _RECAP.finditer(proc.stdout)}
    return PlaybookRun(args=args, returncode=proc.returncode, output=proc.stdout, recap=recap)
