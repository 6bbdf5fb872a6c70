"""The upstream projects' own CRDs and chart schemas, at the versions vars/versions.yml pins.

They come from the projects' Go modules through the Go module proxy (`go mod download`),
cached outside the repository ($OUI_CACHE_DIR/addons/gomod), never from stand-ins.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from helpers import require  # noqa: F401  (re-exported for the add-on tests)
from testbed import RENDER_ACME_SERVER, RENDER_INGRESS_ADDRESS, render_testbed_env  # noqa: F401  (re-exported)

ENVIRONMENTS = ("local", "beta", "prod")
# Render-only stand-in for Grafana's password (beta/prod read it from AWS Secrets Manager: platform_secrets).
RENDER_PASSWORD = "render-only-password-0123456789"

CACHE = Path(os.environ.get("OUI_CACHE_DIR", Path.home() / ".cache" / "oui-platform")) / "addons" / "gomod"

# versions.yml `crds` key -> (Go module, directory of its CRDs inside the module)
CRD_MODULES = {
    "cert_manager": ("github.com/cert-manager/cert-manager", "deploy/crds"),
    "prometheus_operator": ("github.com/prometheus-operator/prometheus-operator", "example/prometheus-operator-crd"),
    "velero": ("github.com/vmware-tanzu/velero", "config/crd/v1/bases"),
}


def module_dir(module: str, version: str) -> tuple[Path | None, str]:
    """Download (once) a Go module; returns its directory, or None and the reason."""
    go = shutil.which("go")
    if not go:
        return None, "no Go toolchain on PATH (needed to fetch the upstream CRDs from the Go module proxy)"
    env = {**os.environ, "GOMODCACHE": str(CACHE), "GOFLAGS": "-modcacherw", "GO111MODULE": "on"}
    proc = subprocess.run([go, "mod", "download", "-json", f"{module}@{version}"], cwd="/", env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    try:
        info = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or not info.get("Dir"):
        return None, f"go mod download {module}@{version} failed: {info.get('Error') or proc.stderr.strip()[-300:]}"
    return Path(info["Dir"]), ""


def crd_files(key: str, version: str) -> tuple[list[Path], str]:
    module, sub = CRD_MODULES[key]
    root, reason = module_dir(module, version)
    if root is None:
        return [], reason
    files = sorted((root / sub).glob("*.yaml"))
    return files, "" if files else f"{module}@{version} has no CRDs under {sub}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads a bare `=` as the string it is (PyYAML takes it for the YAML 1.1 value tag;
    the prometheus-operator CRDs list "=" among the relabel actions)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all(text: str) -> list:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]


def load_crds(files: list[Path]) -> dict[tuple[str, str], dict]:
    """(group/version, kind) -> the openAPIV3Schema of that served version."""
    schemas = {}
    for path in files:
        for doc in load_all(path.read_text()):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for ver in spec["versions"]:
                if ver.get("served"):
                    schemas[(f"{spec['group']}/{ver['name']}", spec["names"]["kind"])] = ver["schema"]["openAPIV3Schema"]
    return schemas


def strict(schema):
    """The schema as the API server's strict field validation reads it: unknown fields are errors
    wherever the CRD lists its properties (and does not preserve unknown fields)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def validate(instance: dict, schema: dict) -> None:
    """Validate without checking the schema itself (CRDs use Go regular expressions)."""
    import jsonschema
    jsonschema.Draft7Validator(strict(schema)).validate(instance)
