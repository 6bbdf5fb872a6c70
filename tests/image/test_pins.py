"""The image's pins agree with the one versions file: the Dockerfile's two bases (tag and
digest) and the app's direct dependencies. Static: needs nothing running."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from helpers import REPO

pytestmark = pytest.mark.unit

VERSIONS = yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]
DOCKERFILE = (REPO / "Dockerfile").read_text()


@pytest.mark.parametrize("arg, key", [("NODE_IMAGE", "node_image"), ("RUNTIME_IMAGE", "runtime_image")])
def test_dockerfile_bases_are_the_pinned_ones(arg, key):
    found = re.search(rf"^ARG {arg}=(\S+)$", DOCKERFILE, re.M)
    assert found, f"Dockerfile: no default for ARG {arg}"
    assert found.group(1) == f"{VERSIONS[key]}@{VERSIONS[key + '_digest']}"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", VERSIONS[key + "_digest"])
    assert re.search(rf"^FROM \${{{arg}}} AS ", DOCKERFILE, re.M), f"no stage is built FROM ${{{arg}}}"


def test_node_image_carries_the_pinned_node():
    assert VERSIONS["node_image"].startswith(f"node:{VERSIONS['node']}-{VERSIONS['debian']}-slim")


def test_app_dependencies_are_the_pinned_ones():
    deps = json.loads((REPO / "app" / "package.json").read_text())["dependencies"]
    assert deps == {"express": VERSIONS["express"], "pino": VERSIONS["pino"], "prom-client": VERSIONS["prom_client"]}
