"""Shared by the app role's tests: environments, the fixture digest, rendered objects.

beta and prod deploy by digest only; the tests hand them FIXTURE_DIGEST, the sha256 of a
fixed string, which names no real image.
"""
from __future__ import annotations

import hashlib

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
