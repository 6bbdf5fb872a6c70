"""Fixtures of the app role's tests: the role's real templates rendered by Ansible itself.

`render(env, **extra_vars)` runs playbooks/app.yml with app_render_dir (the role's
render-only switch: same templates and variables as a real apply, no cluster) and
returns the objects it wrote.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from app_render import Rendered, env_vars, inventory
from helpers import run_playbook


@pytest.fixture(scope="session")
def render(tmp_path_factory):
    cache: dict[str, Rendered] = {}

    def _render(env: str, **extra) -> Rendered:
        key = json.dumps([env, extra], sort_keys=True)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"render-{env}")
            run = run_playbook("playbooks/app.yml", inventory(env),
                               extra_vars={**env_vars(env), **extra, "app_render_dir": str(out)})
            assert run.returncode == 0, run.tail()
            objects = Rendered()
            for path in sorted(Path(out).glob("*.yaml")):
                objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
            assert objects, f"nothing rendered in {out}"
            cache[key] = objects
        return cache[key]

    return _render
