"""The table of components built from source (cluster/components.yml) and its one builder
(cluster/build.py): the table is consistent with vars/versions.yml, each component's cache key
moves only when that component changes, the shared source folder is found (or the error names
the archive and the variable), and a failed build shows the failing command and its log tail.
No component is compiled here: builds run in the cluster, node, backup and alert tests."""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, require
from testbed import key_values

pytestmark = pytest.mark.unit

_spec = importlib.util.spec_from_file_location("oui_build", REPO / "cluster" / "build.py")
build = importlib.util.module_from_spec(_spec)
sys.modules["oui_build"] = build  # dataclasses look their module up there
_spec.loader.exec_module(build)
TABLE = yaml.safe_load((REPO / "cluster" / "components.yml").read_text())


@pytest.fixture
def builder_for(tmp_path, monkeypatch):
    """builder_for(table_dict) -> a Builder over that table, with a cache in tmp_path."""
    require(shutil.which("go") is not None, "no Go toolchain on PATH (the keys include the Go version)")
    monkeypatch.setenv("OUI_CACHE_DIR", str(tmp_path / "cache"))

    def make(table: dict):
        path = tmp_path / "components.yml"
        path.write_text(yaml.safe_dump(table))
        rows, _ = build.load_table(path)
        return build.Builder(rows, build.read_paths())
    return make


def keys(builder) -> dict[str, str]:
    return {n: builder.key(n) for n in builder.rows}


def test_the_table_is_consistent_with_the_versions_file(versions):
    rows, groups = build.load_table()
    assert {"cluster", "node", "backup", "tools"} <= set(groups)
    assert groups["cluster"][:3] == ["kubernetes", "etcd", "kwok"], "the control plane builds first"
    for name, row in rows.items():
        pin = build.lookup(versions, row["version"])
        assert build.bare(pin) == row["_version"], name
        assert row["repository"].startswith("https://"), name
    # Every row is in a group, except the builder's own image maker.
    assert {n for g in groups.values() for n in g} == set(rows) - {"oci-image"}


def test_one_rows_change_moves_only_its_key(builder_for):
    base = keys(builder_for(TABLE))
    changed = copy.deepcopy(TABLE)
    changed["components"]["coredns"]["ldflags"] = ["-X github.com/coredns/coredns/coremain.GitCommit=other"]
    after = keys(builder_for(changed))
    assert {n for n in base if base[n] != after[n]} == {"coredns"}


def test_adding_a_row_moves_no_other_key(builder_for):
    base = keys(builder_for(TABLE))
    added = copy.deepcopy(TABLE)
    added["components"]["crane"] = {"version": "kubernetes", "module": "github.com/google/go-containerregistry",
                                    "repository": "https://github.com/google/go-containerregistry", "source": {"kind": "install"},
                                    "packages": {"crane": "github.com/google/go-containerregistry/cmd/crane"}}
    after = keys(builder_for(added))
    assert {n: after[n] for n in base} == base
    assert "crane" in after


def test_a_recipe_change_moves_only_the_keys_of_its_kind(builder_for, monkeypatch):
    base = keys(builder_for(TABLE))
    monkeypatch.setitem(build.RECIPES, "install", build.RECIPES["install"] + 1)
    after = keys(builder_for(TABLE))
    moved = {n for n in base if base[n] != after[n]}
    assert moved == {n for n, r in TABLE["components"].items() if r["source"]["kind"] == "install"}


def test_a_wrapper_file_moves_the_keys_of_its_rows_only(builder_for, tmp_path, monkeypatch):
    base = keys(builder_for(TABLE))
    fake_repo = tmp_path / "repo"
    shutil.copytree(REPO / "cluster" / "modules", fake_repo / "cluster" / "modules")
    (fake_repo / "cluster" / "modules" / "coredns" / "extra.go").write_text("package main\n")
    monkeypatch.setattr(build, "REPO", fake_repo)
    after = keys(builder_for(TABLE))
    assert {n for n in base if base[n] != after[n]} == {"coredns"}


def test_a_bad_row_is_refused_with_its_name(tmp_path):
    bad = copy.deepcopy(TABLE)
    bad["components"]["etcd"]["version"] = "no_such_pin"
    path = tmp_path / "components.yml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(build.BuildError, match=r"components\.etcd: version key `no_such_pin` is not in vars/versions.yml"):
        build.load_table(path)
    bad = copy.deepcopy(TABLE)
    bad["groups"]["node"].append("no-such-row")
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(build.BuildError, match=r"group `node` names `no-such-row`, which has no row"):
        build.load_table(path)


def test_a_failed_build_shows_the_command_and_the_log_tail(builder_for, capsys):
    broken = copy.deepcopy(TABLE)
    broken["components"]["oci-image"]["packages"] = {"oci-image": "./no-such-package"}
    builder = builder_for(broken)
    with pytest.raises(build.BuildError) as err:
        builder.build("oci-image")
    message = str(err.value)
    assert "go build" in message and "./no-such-package" in message and "full log:" in message, message
    assert "---- last lines of" in capsys.readouterr().err
    assert not builder.built("oci-image"), "a failed build must leave no output that counts as built"


def test_the_shared_folder_is_found_beside_the_checkout_or_its_origin(tmp_path, monkeypatch):
    monkeypatch.delenv("OUI_SHARED_DIR", raising=False)
    origin = tmp_path / "a" / "origin"
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    subprocess.run(["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    clone = tmp_path / "b" / "c" / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    found = build.shared_dirs(clone)
    assert found[:3] == [tmp_path / "b" / "c" / "shared", tmp_path / "b" / "shared", tmp_path / "shared"]
    assert tmp_path / "a" / "shared" in found, "beside the origin of a clone of a local path"
    monkeypatch.setenv("OUI_SHARED_DIR", str(tmp_path / "elsewhere"))
    assert build.shared_dirs(clone) == [tmp_path / "elsewhere"], "the variable alone, when set"


def test_a_missing_archive_names_the_archive_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("OUI_SHARED_DIR", str(tmp_path))
    rows, _ = build.load_table()
    with pytest.raises(build.BuildError) as err:
        build.find_archive("helm-diff-v3.15.11.tar.gz", rows["helm-diff"])
    message = str(err.value)
    assert "helm-diff-v3.15.11.tar.gz" in message and "OUI_SHARED_DIR" in message and str(tmp_path / "src") in message
    assert "d01cb21d1bd4c102e8eeaa69d456af9934739d84" in message


def test_the_shared_helm_diff_archive_is_the_pinned_commit():
    """The archive the build falls back to (../shared/src, the test harness's shared folder) is the
    `git archive` of the commit the row pins."""
    rows, _ = build.load_table()
    row = rows["helm-diff"]
    archive = build.find_archive(row["source"]["archive"].format(version=row["_version"]), row)
    assert build.archive_commit(archive) == row["source"]["commit"]


def test_bin_dir_names_the_selection_without_building(tmp_path):
    env = {**os.environ, "OUI_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(["bash", "cluster/build.sh", "bin-dir", "-g", "cluster"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    info = key_values(out)
    assert info["OUI_BIN_DIR"].startswith(f"{tmp_path}/components/sets/cluster-")
    assert info["HELM_PLUGINS"] == str(Path(info["OUI_BIN_DIR"]).parent / "helm-plugins")
    assert not Path(info["OUI_BIN_DIR"]).exists()
    listing = subprocess.run(["bash", "cluster/build.sh", "list"], cwd=REPO, env=env, capture_output=True, text=True,
                             check=True).stdout
    assert all(line.split("\t")[5] == "not built" for line in listing.splitlines())


def test_the_versions_reader(tmp_path):
    def get(*args):
        return subprocess.run(["bash", "scripts/versions.sh", "get", *args], cwd=REPO, capture_output=True, text=True,
                              check=False)
    versions = yaml.safe_load((REPO / "vars" / "versions.yml").read_text())["platform_versions"]
    assert get("kubernetes").stdout.strip() == versions["kubernetes"]
    assert get("charts.velero.version").stdout.strip() == versions["charts"]["velero"]["version"]
    assert get("images.velero_plugin_for_aws", "--tag").stdout.strip() == \
        versions["images"]["velero_plugin_for_aws"].rsplit(":v", 1)[1]
    missing = get("charts.nope")
    assert missing.returncode == 1 and "platform_versions.charts.nope" in missing.stderr


@pytest.mark.parametrize(("env", "expected"), [
    ({"OUI_CACHE_DIR": "/x/cache", "XDG_CACHE_HOME": "/y"}, "/x/cache"),
    ({"XDG_CACHE_HOME": "/y"}, "/y/oui-platform"),
    ({"HOME": "/h"}, "/h/.cache/oui-platform"),
])
def test_paths_honour_the_cache_variables_in_order(env, expected):
    base = {k: v for k, v in os.environ.items() if k not in ("OUI_CACHE_DIR", "XDG_CACHE_HOME")}
    out = subprocess.run(["bash", "cluster/paths.sh"], cwd=REPO, env={**base, **env}, capture_output=True, text=True,
                         check=True).stdout
    paths = key_values(out)
    assert paths["OUI_CACHE_DIR"] == expected
    assert paths["OUI_GOCACHE"] == f"{expected}/cluster/gocache"
    assert paths["OUI_NODE_NAME"] == "oui-real-a" and paths["OUI_NODE_ROOT"] == "/var/lib/oui-node"
    assert json.dumps(paths)  # every value printable
