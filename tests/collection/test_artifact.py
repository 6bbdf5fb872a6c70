"""The collection as a user gets it: `ansible-galaxy collection build`, installed into an empty
collections path, then used from that installed copy only (no checkout on the search path):
its file list, ansible-doc of every module and role, the site playbook's syntax, a render of
the app role. The collections it depends on come from the pinned `ansible` package, as they
would for a user who installed it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from helpers import REPO


def pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.split("[")[0].strip().lower()] = version.strip()
    return found

pytestmark = pytest.mark.unit

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
# What the artifact holds at its top level, and nothing else.
TOP_LEVEL = {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.rst",
             "changelogs", "meta", "playbooks", "plugins", "roles", "vars"}
# Tracked files inside those that stay out: changelog fragments are released into changelog.yaml.
NOT_SHIPPED = ("changelogs/fragments/",)


def run(args, cwd, env, timeout=300):
    start = time.monotonic()
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    print(f"{Path(str(args[0])).name} {' '.join(str(a) for a in args[1:3])}...: {time.monotonic() - start:.1f} s")
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(tarball, environment that sees only the installed copy of oui.platform, working directory)."""
    work = tmp_path_factory.mktemp("artifact")
    (work / "ansible.cfg").write_text("[defaults]\n")  # not the checkout's (which puts ./collections first)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
               ANSIBLE_HOME=str(work / "home"), ANSIBLE_NOCOLOR="1", PATH=f"{BIN}:{os.environ['PATH']}")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", work, REPO], work, env)
    tarball = work / f"oui-platform-{GALAXY['version']}.tar.gz"
    assert tarball.is_file()
    # --no-deps: Galaxy is not reachable; the dependencies are those the `ansible` package bundles.
    run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", work / "collections", tarball], work, env)
    listed = run([BIN / "ansible-galaxy", "collection", "list", "oui.platform", "--format", "json"], work, env)
    paths = {path for path, found in json.loads(listed.stdout).items() if "oui.platform" in found}
    assert paths == {str(work / "collections" / "ansible_collections")}, f"oui.platform seen in {paths}"
    return tarball, env, work


def test_the_artifact_holds_what_users_need_and_nothing_else(installed):
    tarball, _, _ = installed
    with tarfile.open(tarball) as tar:
        shipped = {m.name for m in tar.getmembers() if m.isfile()}
    print(f"{tarball.name}: {tarball.stat().st_size} bytes, {len(shipped)} files")
    assert {name.split("/")[0] for name in shipped} == TOP_LEVEL
    tracked = set(subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                                 check=True).stdout.splitlines())
    wanted = {name for name in tracked if name.split("/")[0] in TOP_LEVEL and not name.startswith(NOT_SHIPPED)}
    assert not wanted - shipped, f"tracked files left out of the artifact: {sorted(wanted - shipped)}"
    untracked = shipped - tracked - {"MANIFEST.json", "FILES.json"}
    assert not untracked, f"files no commit holds went into the artifact: {sorted(untracked)}"


def test_ansible_doc_reads_every_module_from_the_installed_copy(installed):
    tarball, env, work = installed
    with tarfile.open(tarball) as tar:
        modules = sorted(Path(n).stem for n in tar.getnames() if n.startswith("plugins/modules/") and n.endswith(".py"))
    assert modules
    docs = json.loads(run([BIN / "ansible-doc", "-t", "module", "--json", *(f"oui.platform.{m}" for m in modules)],
                          work, env).stdout)
    assert sorted(docs) == [f"oui.platform.{m}" for m in modules]
    for name, doc in docs.items():
        assert str(work / "collections") in doc["doc"]["filename"], f"{name} documented from {doc['doc']['filename']}"
        assert doc["doc"]["short_description"] and doc["examples"].strip() and doc["return"], name
        assert {"check_mode", "diff_mode"} <= set(doc["doc"].get("attributes", {})), f"{name}: no check/diff attributes"


def test_ansible_doc_reads_every_role_from_the_installed_copy(installed):
    tarball, env, work = installed
    with tarfile.open(tarball) as tar:
        roles = sorted({n.split("/")[1] for n in tar.getnames() if n.startswith("roles/") and n.count("/") > 1})
    docs = json.loads(run([BIN / "ansible-doc", "-t", "role", "--json", *(f"oui.platform.{r}" for r in roles)],
                          work, env).stdout)
    assert sorted(docs) == [f"oui.platform.{r}" for r in roles]
    for name, doc in docs.items():
        assert doc["entry_points"]["main"]["short_description"], name
        assert str(work / "collections") in doc["path"], f"{name} documented from {doc['path']}"


def test_site_playbook_parses_from_the_installed_copy(installed):
    _, env, work = installed
    proc = run([BIN / "ansible-playbook", "oui.platform.site", "--syntax-check",
                "-i", REPO / "inventories" / "local" / "hosts.yml"], work, env)
    installed_site = work / "collections" / "ansible_collections" / "oui" / "platform" / "playbooks" / "site.yml"
    assert f"playbook: {installed_site}" in proc.stdout, proc.stdout


def test_app_role_renders_from_the_installed_copy(installed):
    _, env, work = installed
    out = work / "rendered"
    run([BIN / "ansible-playbook", "oui.platform.app", "-i", REPO / "inventories" / "local" / "hosts.yml",
         "-e", f"app_render_dir={out}"], work, env)
    kinds = [doc["kind"] for path in sorted(out.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]
    for kind in ("Namespace", "Deployment", "Service", "Ingress", "NetworkPolicy", "PodDisruptionBudget"):
        assert kind in kinds, f"the installed app role rendered no {kind}: {kinds}"


def test_execution_environment_dependencies_are_read_from_the_installed_copy(installed):
    """ansible-builder finds the collection's Python dependencies (meta/execution-environment.yml) in
    the installed copy: the run-time subset of requirements.txt at its pins, and the AWS CLI."""
    _, env, work = installed
    proc = run([BIN / "ansible-builder", "introspect", "--sanitize", work / "collections"], work, env)
    found = yaml.safe_load(proc.stdout)
    python = {line.split("#", 1)[0].strip() for line in found["python"] if line.endswith("from collection oui.platform")}
    wanted = pins((REPO / "meta" / "ee-requirements.txt").read_text())
    assert pins("\n".join(python)) == wanted
    requirements = pins((REPO / "requirements.txt").read_text())
    assert {"kubernetes", "boto3", "botocore"} <= set(wanted)
    for name, version in wanted.items():
        if name in requirements:
            assert version == requirements[name], f"{name}: meta/ee-requirements.txt {version} != requirements.txt"
    assert set(wanted) - set(requirements) == {"awscli"}, "only the AWS CLI is not in requirements.txt"
