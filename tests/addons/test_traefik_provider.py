"""Every nginx annotation the platform's Ingresses carry is implemented by Traefik's ingress-nginx
provider at the pinned version, so that Traefik serves them unchanged.

The provider reads an Ingress's annotations into its IngressConfig struct
(pkg/provider/kubernetes/ingress-nginx/annotations.go: one field per annotation, named by its
struct tag); an annotation without a field is skipped without a word, and a field that no code
reads does nothing. This test reads that source at the pinned tag (the tag's archive in the
shared source folder: the very source the test cluster's Traefik image is built from, commit
checked) and fails if an Ingress the platform renders, in any environment, carries an
`nginx.ingress.kubernetes.io/*` annotation that has no field, or whose field the provider's
middleware or routing code (middleware.go, translator.go, build.go) never reads.
"""
from __future__ import annotations

import importlib.util
import re
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from addons_upstream import ENVIRONMENTS
from helpers import REPO, require, run_playbook

# What a release pipeline adds to beta and prod: a digest (tests/app/app_render.py's fixture one).
DIGEST = {"app_image_digest": "sha256:" + "0" * 64}

pytestmark = pytest.mark.unit

PROVIDER = "pkg/provider/kubernetes/ingress-nginx"
READERS = ("middleware.go", "translator.go", "build.go")
PREFIX = "nginx.ingress.kubernetes.io/"


def _builder():
    spec = importlib.util.spec_from_file_location("oui_build_traefik", REPO / "cluster" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["oui_build_traefik"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def provider_source() -> dict[str, str]:
    """The provider's Go files at the pinned Traefik tag, from its archive (commit checked)."""
    build = _builder()
    rows, _ = build.load_table()
    row = rows["traefik"]
    name = row["source"]["archive"].format(version=row["_version"])
    try:
        archive = build.find_archive(name, row)
    except build.BuildError as err:
        require(False, str(err))
    assert build.archive_commit(archive) == row["source"]["commit"], f"{archive} is not the pinned tag's archive"
    top = name.removesuffix(".tar.gz")
    wanted = {f"{top}/{PROVIDER}/{f}": f for f in ("annotations.go", *READERS)}
    files = {}
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.name in wanted:
                files[wanted[member.name]] = tar.extractfile(member).read().decode()
    assert set(files) == set(wanted.values()), f"{archive} lacks {set(wanted.values()) - set(files)} under {PROVIDER}"
    return files


def implemented(files: dict[str, str]) -> dict[str, str]:
    """annotation -> IngressConfig field, for the fields the provider's code reads (Config.<Field>)."""
    fields = dict(re.findall(r'^\s*(\w+)\s+\*?[\w\[\]]+\s+`annotation:"([^"]+)"`', files["annotations.go"], re.M))
    readers = "\n".join(files[f] for f in READERS)
    return {annotation: field for field, annotation in fields.items()
            if re.search(rf"\bConfig\.{field}\b", readers)}


def platform_annotations(tmp_path: Path) -> dict[str, set[str]]:
    """nginx annotation -> where the platform sets it: the app's Ingress in every environment
    (the role's own render), Grafana's Ingress (the monitoring role's chart values)."""
    found: dict[str, set[str]] = {}
    for env in (*ENVIRONMENTS, "given"):
        out = tmp_path / env
        extra = {"app_render_dir": str(out), **({} if env == "local" else DIGEST)}
        run = run_playbook("playbooks/app.yml", f"inventories/{env}/hosts.yml", extra_vars=extra)
        assert run.returncode == 0, run.tail()
        for path in out.glob("*.yaml"):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc and doc.get("kind") == "Ingress":
                    for key in doc["metadata"].get("annotations", {}):
                        found.setdefault(key, set()).add(f"app Ingress ({env})")
    return found


def test_the_provider_source_is_read(provider_source):
    """The parser finds the provider's known fields (a guard against a parser that finds nothing)."""
    impl = implemented(provider_source)
    assert impl[PREFIX + "whitelist-source-range"] == "WhitelistSourceRange"
    assert impl[PREFIX + "ssl-redirect"] == "SSLRedirect"
    assert len(impl) > 40, sorted(impl)


def test_every_nginx_annotation_of_the_platform_is_implemented(provider_source, tmp_path, rendered):
    impl = implemented(provider_source)
    found = platform_annotations(tmp_path)
    for env in ENVIRONMENTS:
        grafana = ((rendered[env]["monitoring"].get("grafana") or {}).get("ingress") or {})
        for key in grafana.get("annotations") or {}:
            found.setdefault(key, set()).add(f"Grafana Ingress ({env})")
    nginx = {k: v for k, v in found.items() if k.startswith(PREFIX)}
    # The brief's Ingress: allow-list and HTTPS only.
    assert {PREFIX + "whitelist-source-range", PREFIX + "ssl-redirect", PREFIX + "force-ssl-redirect"} <= set(nginx)
    ignored = {k: sorted(v) for k, v in nginx.items() if k not in impl}
    assert not ignored, f"Traefik's ingress-nginx provider ignores these annotations the platform sets: {ignored}"
    for key, where in sorted(nginx.items()):
        print(f"\n{key}: {impl[key]} (read by Traefik's provider) <- {', '.join(sorted(where))}")
