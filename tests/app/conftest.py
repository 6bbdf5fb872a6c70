"""Fixtures of the app role's tests: the role's real templates rendered by Ansible itself.

`render(env, **extra_vars)` runs playbooks/app.yml with app_render_dir (the role's
render-only switch: same templates and variables as a real apply, no cluster) and
returns the objects it wrote. beta and prod deploy by digest only; the tests hand them
FIXTURE_DIGEST, the sha256 of a fixed string, which names no real image.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from helpers import run_playbook

ENVIRONMENTS = ("local", "beta", "prod")
FIXTURE_DIGEST = "sha256:" + hashlib.sha256(b"oui-platform test fixture, not an image").hexdigest()


def inventory(env: str) -> str:
    return f"inventories/{env}/hosts.yml"


def env_vars(env: str) -> dict:
    """What a release pipeline adds to an inventory: the digest where one is required."""
    return {} if env == "local" else {"app_image_digest": FIXTURE_DIGEST}


class Rendered(list):
    """The objects of one render, in apply order, with lookups by kind and name."""

    def of(self, kind: str) -> list[dict]:
        return [o for o in self if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict:
        found = [o for o in self.of(kind) if name is None or o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]


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
