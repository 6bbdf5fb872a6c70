"""execution-environment.yml: `ansible-builder create` succeeds offline (tests/ci/ee-context.sh,
the same script as `make ee-context`) and its build context carries what AWX jobs need, at the
versions the rest of the repository pins."""
from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
EE = yaml.safe_load((REPO / "execution-environment.yml").read_text())


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[re.sub(r"\[.*\]", "", name).strip().lower()] = version.split(";")[0].strip()
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ee")
    proc = subprocess.run(["bash", str(REPO / "tests" / "ci" / "ee-context.sh"), str(out)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path == out / "context"
    return path


def test_definition_is_v3_with_a_base_image_pinned_by_digest():
    assert EE["version"] == 3
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", EE["images"]["base_image"]["name"])


def test_containerfile_builds_from_the_pinned_base(context):
    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{EE["images"]["base_image"]["name"]}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.12"' in containerfile
    # the final image does not run as root, and its entrypoint is builder's (AWX expects it)
    final = containerfile.split("# Final build stage", 1)[1]
    assert re.search(r"^USER 1000$", final, re.M)
    assert 'ENTRYPOINT ["/opt/builder/bin/entrypoint", "dumb-init"]' in final


def test_ansible_core_and_runner_match_requirements(context):
    containerfile = (context / "Containerfile").read_text()
    req = pins(REPO / "requirements.txt")
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]+)"', containerfile, re.M).group(1).split()
    assert sorted(refs) == sorted([f"ansible-core=={req['ansible-core']}", f"ansible-runner=={req['ansible-runner']}"])


def test_python_dependencies_come_from_the_collection(context):
    """No Python list of its own: ansible-builder takes the collection's (meta/execution-environment.yml,
    checked by tests/collection/test_artifact.py with `ansible-builder introspect`)."""
    assert "python" not in EE["dependencies"]
    assert not (context / "_build" / "requirements.txt").exists()


def test_collections_match_requirements_yml_and_include_this_one(context):
    built = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    pinned = {c["name"]: c["version"] for c in yaml.safe_load((REPO / "requirements.yml").read_text())["collections"]}
    assert {c["name"]: c["version"] for c in built if c.get("type") != "file"} == pinned
    (own,) = [c for c in built if c.get("type") == "file"]
    tarball = context / "_build" / own["name"]
    assert tarball.is_file(), f"{own['name']} is not in the build context"
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("oui", "platform", galaxy["version"])
    assert any(n.startswith("roles/preflight/") for n in names) and any(n.startswith("playbooks/") for n in names)
    for ignored in ("tests/", "inventories/", "app/", ".github/", "awx/", "execution-environment.yml", "image/", "cluster/"):
        assert not any(n.startswith(ignored) for n in names), f"{ignored} leaked into the collection artifact"
    print(f"collection artifact: {tarball.stat().st_size} bytes, {len(names)} entries")


def test_binaries_match_the_versions_file(context, versions):
    containerfile = (context / "Containerfile").read_text()
    for arg, key in (("KUBECTL_VERSION", "kubernetes"), ("HELM_VERSION", "helm"), ("HELM_DIFF_VERSION", "helm_diff")):
        assert re.search(rf"^ARG {arg}={re.escape(versions[key])}$", containerfile, re.M), f"{arg} != versions.yml {key}"
    # each download is checked against its publisher's checksum before it is installed
    assert containerfile.count("sha256sum -c -") == 2
    assert "install -m 0755 kubectl /usr/local/bin/kubectl" in containerfile
    assert 'install -m 0755 "linux-${TARGETARCH}/helm" /usr/local/bin/helm' in containerfile
    assert "helm diff version" in containerfile


def test_system_packages(context):
    bindep = (context / "_build" / "bindep.txt").read_text()
    assert "git-core [platform:rpm]" in bindep  # helm plugin install and AWX project checkouts
