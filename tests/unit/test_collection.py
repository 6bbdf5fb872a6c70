"""The collection's own shape: metadata, versions file, inventories, argument specs."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("local", "beta", "prod")


def load(path: Path):
    return yaml.safe_load(path.read_text())


def test_galaxy_metadata_names_the_collection():
    galaxy = load(REPO / "galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("oui", "platform")
    assert re.fullmatch(r"\d+\.\d+\.\d+", galaxy["version"])
    for ignored in ("tests", "inventories", "app", "docs", ".ci", "awx", "execution-environment.yml", "cluster", "image"):
        assert ignored in galaxy["build_ignore"], ignored


def test_collection_link_points_at_the_checkout():
    link = REPO / "collections" / "ansible_collections" / "oui" / "platform"
    assert link.is_symlink()
    assert link.resolve() == REPO


def test_versions_are_exact(versions):
    """Every version is exact: no ranges, no 'latest', no wildcard."""

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, str):
            yield path, node

    pins = list(walk(versions))
    assert pins, "the versions file is empty"
    for path, value in pins:
        assert value not in ("", "latest", "stable"), path
        assert not re.search(r"[\^~*<>=]|\.x\b", value), f"{path}={value} is not an exact pin"


def test_python_requirements_are_exact():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.\-+]*", line), line


def test_galaxy_requirements_match_the_bundled_collections():
    """requirements.yml (for Galaxy users) pins what the offline path actually bundles."""
    # ansible_collections is a namespace package: other tests may put ./collections first on sys.path.
    roots = [Path(p) for p in importlib.util.find_spec("ansible_collections").submodule_search_locations]
    for entry in load(REPO / "requirements.yml")["collections"]:
        namespace, name = entry["name"].split(".")
        manifests = [root / namespace / name / "MANIFEST.json" for root in roots]
        manifest = next((m for m in manifests if m.exists()), None)
        assert manifest, f"{entry['name']} is not bundled in the venv (looked in {roots})"
        bundled = json.loads(manifest.read_text())["collection_info"]["version"]
        assert bundled == entry["version"], f"{entry['name']}: requirements.yml {entry['version']} != bundled {bundled}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inventory_names_its_environment(env):
    platform = load(REPO / "inventories" / env / "group_vars" / "all" / "platform.yml")
    assert platform["platform_environment"] == env
    assert platform["platform_cluster_name"]
    hosts = load(REPO / "inventories" / env / "hosts.yml")
    assert "localhost" in hosts["all"]["children"]["platform"]["hosts"]


def _role_dirs():
    return sorted(p for p in (REPO / "roles").iterdir() if p.is_dir())


@pytest.mark.parametrize("role", _role_dirs(), ids=lambda p: p.name)
def test_argument_specs_match_defaults(role):
    """roles/<role>/meta/argument_specs.yml and roles/<role>/defaults/main.yml agree key for key."""
    specs = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"].get("options", {})
    defaults_file = role / "defaults" / "main.yml"
    defaults = (load(defaults_file) or {}) if defaults_file.exists() else {}
    assert set(defaults) <= set(specs), f"defaults without a spec: {sorted(set(defaults) - set(specs))}"
    for key, spec in specs.items():
        assert spec.get("description"), f"{role.name}: {key} has no description"
        if role.name == "preflight" and key.startswith("platform_"):
            # the inventory's platform_* variables, declared where every playbook validates them first
            assert key in defaults or spec.get("required") or "default" not in spec, key
            continue
        assert key.startswith(role.name + "_"), f"{role.name}: public variable {key} is not prefixed with the role name"
        if not spec.get("required"):
            assert key in defaults, f"{role.name}: optional {key} has no default in defaults/main.yml"
            if "default" in spec:
                assert spec["default"] == defaults[key], f"{role.name}: {key} spec default != defaults/main.yml"


def test_preflight_declares_every_platform_variable_roles_read():
    """The platform_* variables roles and playbooks read are declared in preflight's argument spec,
    except those the preflight itself sets (platform_labels) or loads (platform_versions)."""
    specs = load(REPO / "roles" / "preflight" / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    read = set()
    for path in [*(REPO / "roles").rglob("*.yml"), *(REPO / "roles").rglob("*.j2"), *(REPO / "playbooks").glob("*.yml")]:
        if "/meta/" not in str(path):
            read |= set(re.findall(r"\bplatform_[a-z_]+\b", path.read_text()))
    undeclared = sorted(read - set(specs) - {"platform_labels", "platform_versions"})
    assert not undeclared, f"platform_* variables read but not declared in roles/preflight/meta/argument_specs.yml: {undeclared}"


@pytest.mark.parametrize("role", [r for r in _role_dirs() if (r / "vars" / "main.yml").exists()], ids=lambda p: p.name)
def test_internal_constants_are_used(role):
    """Every _<role>_ constant of vars/main.yml is read somewhere in the role (no declared-but-hard-coded value)."""
    vars_file = role / "vars" / "main.yml"
    names = list(load(vars_file) or {})
    texts = [p.read_text() for p in role.rglob("*") if p.is_file() and p != vars_file]
    texts.append(vars_file.read_text())
    for name in names:
        uses = sum(len(re.findall(rf"\b{re.escape(name)}\b", text)) for text in texts)
        assert uses > 1, f"{role.name}: {name} is declared in vars/main.yml but never read"


def test_requires_ansible_is_the_floor_the_preflight_checks_and_ansible_test_runs(versions):
    """meta/runtime.yml claims the ansible-core that `scripts/ansible-test.sh --core-floor` tests and
    the preflight accepts (vars/versions.yml ansible_core_min)."""
    runtime = load(REPO / "meta" / "runtime.yml")
    assert runtime["requires_ansible"] == f">={versions['ansible_core_min']}"
