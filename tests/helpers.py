"""Helpers shared by the integration tiers: running playbooks the way a user does."""
from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

from skips import design_limit, require  # noqa: F401  (re-exported: the tests import them from here)

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


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
    """Run ansible-playbook through ansible-runner (the engine AWX runs jobs with), from the repository
    root with the repository's ansible.cfg.

    The play results per host come from ansible-runner's stats (the playbook_on_stats event), not
    from parsing the recap. Never raises on a failed play, so that a test can assert on the failure
    (e.g. the environment guard's message).
    """
    playbook, inventory = (Path(p) if Path(p).is_absolute() else REPO / p for p in (playbook, inventory))
    cmdline = []
    if extra_vars:
        cmdline += ["-e", json.dumps(extra_vars)]
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    cmdline += extra_args or []
    run_env = {"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1",
               "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", **(env or {})}
    with tempfile.TemporaryDirectory(prefix="oui-runner-") as private:
        runner = ansible_runner.run(private_data_dir=private, project_dir=str(REPO), playbook=str(playbook),
                                    inventory=str(inventory), cmdline=shlex.join(cmdline), envvars=run_env,
                                    timeout=timeout, quiet=True, suppress_env_files=True)
        output = runner.stdout.read().replace("\r\n", "\n")
        stats = runner.stats or {}  # read from the run's events, in the private directory
    if runner.status == "timeout":
        output += f"\nansible-runner: the play did not finish within {timeout} s\n"
    recap = {host: {"ok": stats.get("ok", {}).get(host, 0), "changed": stats.get("changed", {}).get(host, 0),
                    "unreachable": stats.get("dark", {}).get(host, 0), "failed": stats.get("failures", {}).get(host, 0)}
             for host in stats.get("processed", {})}
    args = ["ansible-playbook", "-i", str(inventory), str(playbook), *cmdline]
    return PlaybookRun(args=args, returncode=runner.rc, output=output, recap=recap)
