"""The image maker (cluster/modules/oci-image, outputs.image of cluster/components.yml): a
component built from source becomes a minimal OCI image archive (no shell, no package manager,
user 65532, CA certificates, /tmp, OCI labels) that Docker loads and runs. The same image runs
as a locked-down pod on the test cluster's real node: tests/node/test_images.py.
CoreDNS is the proof (its row has an image output).
"""
from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from helpers import REPO, require
from testbed import component

# What the image holds, all of it: the binary, the user database, the CA bundle, /tmp, a home.
EXPECTED_FILES = {"coredns", "etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/",
                  "etc/ssl/certs/ca-certificates.crt", "home/", "home/nonroot/", "tmp/"}


def _image_archive(archive: Path) -> tuple[dict, dict[str, tarfile.TarInfo], tarfile.TarFile, list]:
    """(config, {path: member} of the one layer, the layer's tar, manifest) of an image archive."""
    outer = tarfile.open(archive)
    manifest = json.load(outer.extractfile("manifest.json"))
    config = json.load(outer.extractfile(manifest[0]["Config"]))
    assert len(manifest[0]["Layers"]) == 1, manifest
    layer = tarfile.open(fileobj=outer.extractfile(manifest[0]["Layers"][0]))
    return config, {m.name: m for m in layer.getmembers()}, layer, manifest


@pytest.fixture(scope="module")
def coredns_image() -> dict:
    """The CoreDNS image, built (or found in the cache) by the builder; not loaded anywhere yet."""
    info = component("coredns")
    require("IMAGE_ARCHIVE" in info, "the coredns row has no image output")
    return info


@pytest.mark.unit
def test_the_image_is_minimal_and_runs_as_nonroot(coredns_image, versions):
    config, files, layer, manifest = _image_archive(Path(coredns_image["IMAGE_ARCHIVE"]))
    names = {n + ("/" if m.isdir() else "") for n, m in files.items()}
    assert names == EXPECTED_FILES, f"unexpected content: {sorted(names ^ EXPECTED_FILES)}"
    assert not any(n.startswith(("bin/", "usr/", "sbin/")) for n in names), "a shell or tools in the image"
    assert config["config"]["User"] == "65532:65532"
    assert config["config"]["Entrypoint"] == ["/coredns"]
    assert manifest[0]["RepoTags"] == [f"localhost/oui/coredns:{versions['coredns']}"]
    passwd = layer.extractfile("etc/passwd").read().decode()
    assert "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" in passwd.splitlines()
    assert layer.extractfile("etc/group").read().decode().splitlines()[-1] == "nonroot:x:65532:"
    assert files["tmp"].mode == 0o1777 and files["home/nonroot"].uid == 65532
    assert files["coredns"].uid == 0 and files["coredns"].mode == 0o755, "the binary is root's, not writable by the user"
    labels = config["config"]["Labels"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/coredns/coredns"
    assert labels["org.opencontainers.image.version"] == versions["coredns"]
    # Static: no program interpreter in the ELF header (what the image maker checks before).
    elf = layer.extractfile("coredns").read(64 * 1024)
    assert b"/lib64/ld-linux" not in elf and b"ld-linux-x86-64.so" not in elf
    print(f"\nimage {coredns_image['IMAGE_REF']} {coredns_image['IMAGE_ID'][:19]}: "
          f"{Path(coredns_image['IMAGE_ARCHIVE']).stat().st_size / 1e6:.1f} MB, {len(names)} entries, user 65532")


@pytest.mark.image
def test_docker_loads_and_runs_the_image(coredns_image, versions):
    docker = subprocess.run(["bash", str(REPO / "image" / "docker-engine.sh")], capture_output=True, text=True,
                            timeout=900, check=False)
    require(docker.returncode == 0, f"no Docker engine (image/docker-engine.sh): {docker.stderr[-400:]}")
    cli = docker.stdout.strip().splitlines()[-1]
    ref = coredns_image["IMAGE_REF"]
    load = subprocess.run([cli, "load", "-i", coredns_image["IMAGE_ARCHIVE"]], capture_output=True, text=True, check=False)
    assert load.returncode == 0, load.stderr
    user = subprocess.run([cli, "image", "inspect", "-f", "{{.Config.User}}", ref], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert user == "65532:65532"
    run = subprocess.run([cli, "run", "--rm", "--network", "none", ref, "-version"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0 and f"CoreDNS-{versions['coredns']}" in run.stdout, run.stdout + run.stderr
    whoami = subprocess.run([cli, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", ref, "-c", "id"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert whoami.returncode != 0, "the image has a shell"
    print(f"\ndocker: loaded {ref}, user {user}, `coredns -version`: {run.stdout.strip().splitlines()[0]}; "
          f"/bin/sh: {whoami.stderr.strip()[-120:]}")
