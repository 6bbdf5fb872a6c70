#!/usr/bin/env python3
"""The one builder of the components the test bed builds from source (cluster/components.yml).

    cluster/build.sh build [-g GROUP]... [COMPONENT]...   build what is missing, print the timing table
    cluster/build.sh bin-dir [-g GROUP]... [COMPONENT]... the callers' directory of links (builds nothing)
    cluster/build.sh info COMPONENT                       build it if missing; print its outputs
    cluster/build.sh list                                 every component: groups, version, key, built?
    cluster/build.sh timings [-g GROUP]... [COMPONENT]... the recorded build times of the current keys
    cluster/build.sh shared PATH                          the shared folder's PATH (e.g. charts/index.yaml)

Data goes to stdout as KEY=value lines (the only thing on stdout); progress, the timing table
and errors go to stderr. `build` and `bin-dir` print OUI_BIN_DIR (the binaries of the selection,
as links) and, where a Helm plugin is selected, HELM_PLUGINS. `info` prints NAME, VERSION, KEY,
OUT_DIR, BIN_DIR, SOURCE_DIR (where the source was built), and IMAGE_REF, IMAGE_ID, IMAGE_ARCHIVE
for a component with an image.

Each component has its own cache key (its row, its version, its wrapper module's files, the Go
version and its kind's recipe number below) and its own output directory
<cache>/components/<name>/<version>-<key>/; nothing else decides whether it is rebuilt. Editing
this file changes no key unless a RECIPES number is raised, which is what to do when the steps
of a kind change. Paths come from cluster/lib/paths.sh (`bash cluster/paths.sh`).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "cluster" / "components.yml"
VERSIONS = REPO / "vars" / "versions.yml"
PATHS_SH = REPO / "cluster" / "paths.sh"

# The build steps of each kind, numbered: raise a number when that kind's steps change, and only
# the components of that kind get new keys.
RECIPES = {"wrapper": 1, "install": 1, "module": 1, "archive": 1, "c-static": 1, "image": 1, "helm_plugin": 1}
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
HEARTBEAT_SECONDS = 60
LOG_TAIL = 30


class BuildError(Exception):
    """A build that cannot go on; the message says what and what to do."""


def log(msg: str) -> None:
    print(f"[build {time.strftime('%H:%M:%S', time.gmtime())}] {msg}", file=sys.stderr, flush=True)


def sha(data: object) -> str:
    text = data if isinstance(data, (bytes, str)) else json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def read_paths() -> dict[str, str]:
    out = subprocess.run(["bash", str(PATHS_SH)], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def bare(value: object) -> str:
    """A pin as a bare version: the tag of an image reference, without a leading v."""
    text = str(value)
    if "/" in text or ":" in text:
        text = text.rsplit(":", 1)[-1]
    return text[1:] if text.startswith("v") else text


def lookup(versions: dict, key: str) -> object:
    node: object = versions
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


# --------------------------------------------------------------------------------------------
# The table


def load_table(path: Path = TABLE, versions_path: Path = VERSIONS) -> tuple[dict, dict]:
    """(rows with the defaults merged in, groups); every mistake is an error naming the row."""
    try:
        doc = yaml.safe_load(path.read_text())
        versions = yaml.safe_load(versions_path.read_text())["platform_versions"]
    except yaml.YAMLError as err:
        raise BuildError(f"{path.name} or {versions_path.name} is not valid YAML: {err}") from None
    defaults = doc.get("defaults") or {}
    rows: dict[str, dict] = {}
    for name, row in (doc.get("components") or {}).items():
        where = f"{path.name}: components.{name}"
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise BuildError(f"{where}: a component name is lower-case letters, digits and dashes")
        merged = {
            "goflags": list(defaults.get("goflags", [])) + list(row.get("goflags", [])),
            "ldflags": list(defaults.get("ldflags", [])) + list(row.get("ldflags", [])),
            "env": {**defaults.get("env", {}), **row.get("env", {})},
            "tags": list(row.get("tags", [])),
            "cflags": list(row.get("cflags", [])),
        }
        merged.update({k: v for k, v in row.items() if k not in merged})
        for required in ("version", "module", "repository", "source", "packages"):
            if required not in merged:
                raise BuildError(f"{where}: `{required}` is missing")
        try:
            merged["_version"] = bare(lookup(versions, merged["version"]))
        except KeyError:
            raise BuildError(f"{where}: version key `{merged['version']}` is not in vars/versions.yml") from None
        kind = merged["source"].get("kind")
        if kind not in RECIPES or kind in ("image", "helm_plugin"):
            raise BuildError(f"{where}: source.kind `{kind}` is not one of wrapper, install, module, archive, c-static")
        if kind in ("wrapper", "c-static") and not (REPO / merged["source"].get("dir", "-")).is_dir():
            raise BuildError(f"{where}: source.dir `{merged['source'].get('dir')}` is not a directory of the repository")
        if kind == "archive" and not merged["source"].get("archive"):
            raise BuildError(f"{where}: source.archive (the archive's file name) is missing")
        if not isinstance(merged["packages"], dict) or not merged["packages"]:
            raise BuildError(f"{where}: packages must map binary names to packages")
        outputs = merged.setdefault("outputs", {})
        outputs.setdefault("bin", list(merged["packages"]))
        for b in outputs["bin"]:
            if b not in merged["packages"]:
                raise BuildError(f"{where}: outputs.bin names `{b}`, which is not in packages")
        for out in ("image", "helm_plugin"):
            if out in outputs and outputs[out].get("binary") not in merged["packages"]:
                raise BuildError(f"{where}: outputs.{out}.binary `{outputs[out].get('binary')}` is not in packages")
        rows[name] = merged
    if "image" in {o for r in rows.values() for o in r["outputs"]} and "oci-image" not in rows:
        raise BuildError(f"{path.name}: images need the row `oci-image` (the image maker)")
    groups = doc.get("groups") or {}
    for group, members in groups.items():
        for m in members:
            if m not in rows:
                raise BuildError(f"{path.name}: group `{group}` names `{m}`, which has no row")
    return rows, groups


def select(rows: dict, groups: dict, group_names: list[str], names: list[str]) -> list[str]:
    chosen: list[str] = []
    for g in group_names:
        if g not in groups:
            raise BuildError(f"no group `{g}` in cluster/components.yml (groups: {', '.join(groups)})")
        chosen += [m for m in groups[g] if m not in chosen]
    for n in names:
        if n not in rows:
            raise BuildError(f"no component `{n}` in cluster/components.yml (components: {', '.join(rows)})")
        if n not in chosen:
            chosen.append(n)
    if not chosen:
        raise BuildError("name at least one group (-g) or component")
    return chosen


# --------------------------------------------------------------------------------------------
# One component


@dataclass
class Builder:
    rows: dict
    paths: dict
    go_version: str = ""
    cold: bool = False
    results: list = field(default_factory=list)  # (what, seconds, cold|warm|cached)

    def __post_init__(self) -> None:
        self.components = Path(self.paths["OUI_COMPONENTS_DIR"])
        self.gocache = Path(self.paths["OUI_GOCACHE"])
        if shutil.which("go") is None:
            raise BuildError("no Go toolchain on PATH: the components are built from their Go modules "
                             "(install Go >= 1.26, e.g. https://go.dev/dl)")
        self.go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True,
                                         check=True).stdout.strip()
        self.cold = not (self.gocache.is_dir() and any(self.gocache.iterdir()))
        self._keys: dict[str, str] = {}

    # -- keys and places ------------------------------------------------------------------

    def key(self, name: str) -> str:
        if name not in self._keys:
            row = self.rows[name]
            kind = row["source"]["kind"]
            parts = {"row": {k: v for k, v in row.items() if not k.startswith("_")}, "version": row["_version"],
                     "go": self.go_version, "recipe": RECIPES[kind]}
            if kind in ("wrapper", "c-static"):
                parts["files"] = wrapper_digest(REPO / row["source"]["dir"])
            if "helm_plugin" in row["outputs"]:
                parts["helm_plugin"] = RECIPES["helm_plugin"]
            self._keys[name] = sha(parts)[:12]
        return self._keys[name]

    def image_key(self, name: str) -> str:
        row = self.rows[name]
        ca = Path(CA_BUNDLE)
        return sha({"component": self.key(name), "image": row["outputs"]["image"], "maker": self.key("oci-image"),
                    "recipe": RECIPES["image"], "ca": sha(ca.read_bytes()) if ca.is_file() else "none",
                    "epoch": os.environ.get("SOURCE_DATE_EPOCH", "0")})[:12]

    def out_dir(self, name: str) -> Path:
        return self.components / name / f"{self.rows[name]['_version']}-{self.key(name)}"

    def image_dir(self, name: str) -> Path:
        return self.out_dir(name) / f"image-{self.image_key(name)}"

    def built(self, name: str) -> bool:
        out = self.out_dir(name)
        return (out / "build.json").is_file() and all((out / "bin" / b).is_file() for b in self.rows[name]["packages"])

    def image_ref(self, name: str) -> str:
        return f"localhost/oui/{name}:{self.rows[name]['_version']}"

    # -- the environment of every go command -----------------------------------------------

    def env(self, row: dict, **extra: str) -> dict:
        env = {**os.environ, "GOCACHE": str(self.gocache), "GOMODCACHE": self.paths["OUI_GOMODCACHE"],
               "GOFLAGS": "-buildvcs=false", "GOWORK": "off",
               "GOMAXPROCS": os.environ.get("OUI_BUILD_PROCS", str(os.cpu_count() or 1))}
        env.update({k: str(v) for k, v in row["env"].items()})
        env.update(extra)
        return env

    # -- building ------------------------------------------------------------------------

    def build(self, name: str) -> None:
        """Build one component (and its image) unless its output for this key exists."""
        row = self.rows[name]
        if "image" in row["outputs"] and name != "oci-image":
            self.build("oci-image")
        out = self.out_dir(name)
        out.parent.mkdir(parents=True, exist_ok=True)
        with locked(out.parent / ".lock"):
            if self.built(name):
                if not any(r[0] == name for r in self.results):
                    self.results.append((name, 0.0, "cached"))
            else:
                self._build(name, out)
        if "image" in row["outputs"]:
            with locked(out.parent / ".lock"):
                if (self.image_dir(name) / "image.env").is_file():
                    self.results.append((f"{name} (image)", 0.0, "cached"))
                else:
                    self._image(name)

    def _build(self, name: str, out: Path) -> None:
        row = self.rows[name]
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        (tmp / "bin").mkdir(parents=True)
        kind = row["source"]["kind"]
        log(f"{name} {row['_version']}: building ({kind}, key {self.key(name)}) into {out}")
        t0 = time.monotonic()
        step = Step(name, tmp / "build.log")
        with step.heartbeat():
            source_dir = getattr(self, "_kind_" + kind.replace("-", "_"))(name, row, tmp, step)
            if "helm_plugin" in row["outputs"]:
                self._helm_plugin(name, row, tmp, source_dir)
        seconds = time.monotonic() - t0
        mode = "cold" if self.cold else "warm"
        record = {"component": name, "version": row["_version"], "key": self.key(name), "seconds": round(seconds, 1),
                  "mode": mode, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "go": self.go_version, "source_dir": str(source_dir or "")}
        (tmp / "build.json").write_text(json.dumps(record, indent=2) + "\n")
        tmp.rename(out)
        with open(self.components / "timings.tsv", "a") as f:
            f.write(f"{record['finished']}\t{name}\t{row['_version']}\t{record['key']}\t{seconds:.1f}\t{mode}\n")
        self.results.append((name, seconds, mode))
        log(f"{name}: built in {seconds / 60:.1f} min ({mode})")

    def _stamp(self, row: dict, extra: dict | None = None) -> str:
        version = row["_version"]
        parts = (version.split(".") + ["", ""])[:2]
        values = {"version": version, "tag": f"v{version}", "major": parts[0], "minor": parts[1],
                  "build_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "commit": row["source"].get("commit", ""), **(extra or {})}
        try:
            return " ".join(flag.format(**values) for flag in row["ldflags"])
        except KeyError as err:
            raise BuildError(f"ldflags of `{row['module']}` use {{{err.args[0]}}}, which is not known") from None

    def _go_build(self, row: dict, step: Step, cwd: Path, tmp: Path, mod_args: list[str], stamp: str) -> None:
        tags = ["-tags", ",".join(row["tags"])] if row["tags"] else []
        for binary, package in row["packages"].items():
            step.run(["go", "build", *mod_args, *row["goflags"], *tags, "-ldflags", stamp,
                      "-o", str(tmp / "bin" / binary), package], cwd=cwd, env=self.env(row), what=binary)

    def _kind_wrapper(self, name: str, row: dict, tmp: Path, step: Step) -> Path:
        wrapper = REPO / row["source"]["dir"]
        check_wrapper_pin(name, row, wrapper)
        self._go_build(row, step, wrapper, tmp, ["-mod=readonly"], self._stamp(row))
        return wrapper

    def _kind_install(self, name: str, row: dict, tmp: Path, step: Step) -> None:
        gobin = tmp / "gobin"
        gobin.mkdir()
        packages = [f"{p}@v{row['_version']}" for p in row["packages"].values()]
        step.run(["go", "install", *row["goflags"], "-ldflags", self._stamp(row), *packages], cwd=tmp,
                 env=self.env(row, GOBIN=str(gobin)), what=" ".join(row["packages"]))
        for binary, package in row["packages"].items():
            (gobin / package.rstrip("/").rsplit("/", 1)[-1]).rename(tmp / "bin" / binary)
        gobin.rmdir()

    def _kind_module(self, name: str, row: dict, tmp: Path, step: Step) -> Path:
        return self._build_inside(name, row, tmp, step, self._download(row, step))

    def _kind_archive(self, name: str, row: dict, tmp: Path, step: Step) -> Path:
        source = None
        if row["source"].get("proxy", True):
            source = self._download(row, step, may_fail=True)
        source = source or self._from_archive(name, row, step, row["source"])
        return self._build_inside(name, row, tmp, step, source)

    def _kind_c_static(self, name: str, row: dict, tmp: Path, step: Step) -> Path:
        check_wrapper_pin(name, row, REPO / row["source"]["dir"])
        root = self._download(row, step)
        if shutil.which("gcc") is None:
            step.run(["bash", str(REPO / "image" / "apt-install.sh"), "gcc", "gcc", "libc6-dev"], cwd=tmp,
                     env=dict(os.environ), what="gcc", nice=False)
        flags = self._stamp({**row, "ldflags": row["cflags"]}).split()
        for binary in row["packages"]:
            src = root / row["source"]["file"]
            if not src.is_file():
                raise BuildError(f"{name}: {row['source']['file']} is not in {row['module']} v{row['_version']}")
            step.run(["gcc", *flags, "-o", str(tmp / "bin" / binary), str(src)], cwd=tmp, env=dict(os.environ),
                     what=binary)
        return root

    def _download(self, row: dict, step: Step, may_fail: bool = False) -> Path | None:
        """The module's directory in the module cache, from the Go proxy."""
        ref = f"{row['module']}@v{row['_version']}"
        proc = subprocess.run(["go", "mod", "download", "-json", ref], cwd=self.components, env=self.env(row),
                              capture_output=True, text=True, check=False)
        info = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
        if proc.returncode == 0 and info.get("Dir"):
            return Path(info["Dir"])
        reason = info.get("Error") or proc.stderr.strip()
        step.note(f"go mod download {ref}: {reason}")
        if may_fail:
            log(f"the Go module proxy does not serve {ref}: {reason.splitlines()[0].removeprefix(ref + ': ')}; "
                "using the archive")
            return None
        raise BuildError(f"go mod download {ref} failed: {reason}")

    def _from_archive(self, name: str, row: dict, step: Step, spec: dict, module: str = "", version: str = "") -> Path:
        """The source from the tag's archive in the shared source folder, extracted into the cache.
        spec is the row's source, or one of its replace_archives (module and version then given)."""
        module, version = module or row["module"], version or row["_version"]
        archive_name = spec["archive"].format(version=version)
        archive = find_archive(archive_name, {**row, "module": module, "_version": version, "source": spec})
        commit = archive_commit(archive)
        want = spec.get("commit")
        if want and commit != want:
            raise BuildError(f"{name}: {archive} is commit {commit or '(none recorded)'}, the row pins {want}: "
                             "not the archive of the pinned tag")
        dest = Path(self.paths["OUI_SRC_DIR"]) / archive_name.removesuffix(".tar.gz").removesuffix(".tgz")
        if not (dest / ".complete").is_file():
            shutil.rmtree(dest, ignore_errors=True)
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            tops = [p for p in tmp.iterdir()]
            top = tops[0] if len(tops) == 1 and tops[0].is_dir() else tmp
            (top / ".complete").write_text(f"{archive}\n{commit}\n")
            if top is tmp:
                tmp.rename(dest)
            else:
                top.rename(dest)
                shutil.rmtree(tmp)
            step.note(f"extracted {archive} (commit {commit}) into {dest}")
        gomod = (dest / "go.mod").read_text() if (dest / "go.mod").is_file() else ""
        if not re.search(rf"^module {re.escape(module)}\s*$", gomod, re.M):
            raise BuildError(f"{name}: {dest}/go.mod does not declare module {module}: not its source")
        log(f"{name}: source from {archive} (commit {commit})")
        return dest

    def _build_inside(self, name: str, row: dict, tmp: Path, step: Step, source: Path) -> Path:
        """Build inside the module's own tree with a copy of its go.mod (-modfile) that `edits` change."""
        cwd = source / row["source"].get("subdir", ".")
        modfile = tmp / "modfile"
        modfile.mkdir()
        shutil.copy(cwd / "go.mod", modfile / "go.mod")
        if (cwd / "go.sum").is_file():
            shutil.copy(cwd / "go.sum", modfile / "go.sum")
        for f in modfile.iterdir():
            f.chmod(0o644)
        edits = [e.format(version=row["_version"], tag=f"v{row['_version']}") for e in row["source"].get("edits") or []]
        for module, spec in (row["source"].get("replace_archives") or {}).items():
            required = required_version(cwd / "go.mod", module)
            if not required:
                raise BuildError(f"{name}: replace_archives names {module}, which {cwd}/go.mod does not require")
            edits.append(f"-replace={module}={self._from_archive(name, row, step, spec, module, bare(required))}")
        if edits:
            step.run(["go", "mod", "edit", *edits, str(modfile / "go.mod")], cwd=cwd, env=self.env(row), what="go.mod edits")
        extra = {}
        version_file = row["source"].get("app_version_file")
        if version_file:
            extra["app_version"] = (source / version_file).read_text().strip()
        mod = ["-mod=mod" if edits else "-mod=readonly", f"-modfile={modfile / 'go.mod'}"]
        self._go_build(row, step, cwd, tmp, mod, self._stamp(row, extra))
        return source

    def _helm_plugin(self, name: str, row: dict, tmp: Path, source: Path | None) -> None:
        spec = row["outputs"]["helm_plugin"]
        manifest = (source or Path("/nonexistent")) / "plugin.yaml"
        if not manifest.is_file():
            raise BuildError(f"{name}: no plugin.yaml in its source ({manifest})")
        found = str((yaml.safe_load(manifest.read_text()) or {}).get("version", ""))
        if bare(found) != row["_version"]:
            raise BuildError(f"{name}: {manifest} says version {found}, the pin is {row['_version']}")
        plugin = tmp / "helm-plugin" / spec["name"]
        (plugin / "bin").mkdir(parents=True)
        shutil.copy(manifest, plugin / "plugin.yaml")
        shutil.copy(tmp / "bin" / spec["binary"], plugin / "bin" / spec["name"])

    def _image(self, name: str) -> None:
        row = self.rows[name]
        spec = row["outputs"]["image"]
        if not Path(CA_BUNDLE).is_file():  # the images carry Debian's CA bundle
            Step(f"{name} (image)", self.out_dir(name) / "build.log").run(
                ["bash", str(REPO / "image" / "apt-install.sh"), CA_BUNDLE, "ca-certificates"], cwd=self.out_dir(name),
                env=dict(os.environ), what="ca-certificates", nice=False)
        dest = self.image_dir(name)
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        binary = spec["binary"]
        labels = {"org.opencontainers.image.source": row["repository"], "org.opencontainers.image.version": row["_version"],
                  "org.opencontainers.image.title": name, "io.oui.build-key": self.key(name)}
        if row["source"].get("commit"):
            labels["org.opencontainers.image.revision"] = row["source"]["commit"]
        maker = self.out_dir("oci-image") / "bin" / "oci-image"
        cmd_ca = ["-ca-certs", CA_BUNDLE]
        cmd = [str(maker), "-binary", str(self.out_dir(name) / "bin" / binary), "-path", spec.get("path", f"/{binary}"),
               "-ref", self.image_ref(name), "-out", str(tmp / "image.tar"),
               "-entrypoint", json.dumps(spec.get("entrypoint") or [spec.get("path", f"/{binary}")]),
               "-args", json.dumps(spec.get("args") or []), "-epoch", os.environ.get("SOURCE_DATE_EPOCH", "0"), *cmd_ca]
        for k, v in sorted(labels.items()):
            cmd += ["-label", f"{k}={v}"]
        t0 = time.monotonic()
        step = Step(f"{name} (image)", tmp / "image.log")
        out = step.run(cmd, cwd=tmp, env=dict(os.environ), what="oci-image", nice=False)
        info = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        info["IMAGE_ARCHIVE"] = str(dest / "image.tar")
        (tmp / "image.env").write_text("".join(f"{k}={v}\n" for k, v in info.items()))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        seconds = time.monotonic() - t0
        self.results.append((f"{name} (image)", seconds, "built"))
        log(f"{name}: image {info['IMAGE_REF']} ({info['IMAGE_ID'][:19]}) in {seconds:.1f} s: {dest / 'image.tar'}")

    # -- what callers get -----------------------------------------------------------------

    def link_dir(self, names: list[str], label: str) -> Path:
        """The selection's binaries (and Helm plugins) as links, in a directory named by their keys."""
        ident = sha([(n, self.key(n)) for n in names])[:12]
        return self.components / "sets" / f"{label}-{ident}"

    def make_links(self, names: list[str], label: str) -> Path:
        dest = self.link_dir(names, label)
        if (dest / "bin").is_dir():
            return dest
        tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
        (tmp / "bin").mkdir(parents=True)
        for n in names:
            out = self.out_dir(n)
            for b in self.rows[n]["outputs"]["bin"]:
                (tmp / "bin" / b).symlink_to(out / "bin" / b)
            if "helm_plugin" in self.rows[n]["outputs"]:
                plugin = self.rows[n]["outputs"]["helm_plugin"]["name"]
                (tmp / "helm-plugins").mkdir(exist_ok=True)
                (tmp / "helm-plugins" / plugin).symlink_to(out / "helm-plugin" / plugin)
        try:
            tmp.rename(dest)
        except OSError:  # another build made it meanwhile
            shutil.rmtree(tmp)
        return dest

    def info(self, name: str) -> dict[str, str]:
        out = self.out_dir(name)
        record = json.loads((out / "build.json").read_text())
        info = {"NAME": name, "VERSION": self.rows[name]["_version"], "KEY": self.key(name), "OUT_DIR": str(out),
                "BIN_DIR": str(out / "bin"), "SOURCE_DIR": record.get("source_dir", "")}
        if "helm_plugin" in self.rows[name]["outputs"]:
            info["HELM_PLUGIN_DIR"] = str(out / "helm-plugin" / self.rows[name]["outputs"]["helm_plugin"]["name"])
        env = self.image_dir(name) / "image.env" if "image" in self.rows[name]["outputs"] else None
        if env and env.is_file():
            info.update(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
        return info


# --------------------------------------------------------------------------------------------
# Helpers


class Step:
    """Runs the commands of one build, their output into its log, with a heartbeat."""

    def __init__(self, name: str, logfile: Path) -> None:
        self.name, self.logfile, self.current = name, logfile, ""

    def note(self, text: str) -> None:
        with open(self.logfile, "a") as f:
            f.write(f"# {text}\n")

    @contextlib.contextmanager
    def heartbeat(self):
        t0, stop = time.monotonic(), threading.Event()

        def beat() -> None:
            while not stop.wait(HEARTBEAT_SECONDS):
                log(f"{self.name}: still building {self.current}, {(time.monotonic() - t0) / 60:.0f} min")

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()

    def run(self, cmd: list[str], *, cwd: Path, env: dict, what: str, nice: bool = True) -> str:
        self.current = what
        full = (["nice", "-n", "10"] if nice else []) + cmd
        with open(self.logfile, "a") as f:
            f.write(f"$ (cd {cwd} && {' '.join(cmd)})\n")
            f.flush()
            proc = subprocess.run(full, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=f, text=True, check=False)
            f.write(proc.stdout)
        if proc.returncode != 0:
            lines = self.logfile.read_text().splitlines()[-LOG_TAIL:]
            print(f"---- last lines of {self.logfile} ----", *lines, sep="\n", file=sys.stderr)
            raise BuildError(f"{self.name}: `{' '.join(cmd)[:400]}` failed (exit {proc.returncode}) in {cwd}; "
                             f"full log: {self.logfile}")
        return proc.stdout


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def wrapper_digest(d: Path) -> str:
    files = sorted(p for p in d.rglob("*") if p.is_file() and p.suffix in (".go", ".mod", ".sum"))
    return sha(b"".join(p.relative_to(d).as_posix().encode() + b"\0" + p.read_bytes() for p in files))


def check_wrapper_pin(name: str, row: dict, wrapper: Path) -> None:
    text = (wrapper / "go.mod").read_text()
    found = re.findall(rf"^(?:require\s+|\s+){re.escape(row['module'])} (v\S+)", text, re.M)
    want = f"v{row['_version']}"
    if found != [want]:
        raise BuildError(f"{name}: vars/versions.yml pins {row['version']}={row['_version']} but "
                         f"{wrapper.relative_to(REPO)}/go.mod requires {row['module']} {' '.join(found) or '(nothing)'}; "
                         "change both together")


def required_version(gomod: Path, module: str) -> str:
    """The version of module that a go.mod requires (directly or // indirect), or ""."""
    found = re.findall(rf"^(?:require\s+|\s+){re.escape(module)} (v\S+)", gomod.read_text(), re.M)
    return found[0] if found else ""


def shared_dirs(repo: Path = REPO) -> list[Path]:
    """Where the shared source folder may be, in order: OUI_SHARED_DIR alone when set; otherwise a
    `shared/` beside the repository or one of its ancestors, then beside the repository this
    checkout was cloned from (a local path) or one of its ancestors."""
    if os.environ.get("OUI_SHARED_DIR"):
        return [Path(os.environ["OUI_SHARED_DIR"])]
    starts = [repo]
    origin = subprocess.run(["git", "-C", str(repo), "config", "--get", "remote.origin.url"], capture_output=True,
                            text=True, check=False).stdout.strip()
    origin = origin.removeprefix("file://")
    if origin.startswith("/") and Path(origin).exists():
        starts.append(Path(origin).resolve())
    found: list[Path] = []
    for start in starts:
        for d in [start, *start.parents]:
            if d.parent != d and (d.parent / "shared") not in found:
                found.append(d.parent / "shared")
    return found


def find_shared(relative: str) -> Path:
    """A file of the shared folder (the chart mirror's charts/index.yaml, an archive of src/)."""
    looked = [shared / relative for shared in shared_dirs()]
    for candidate in looked:
        if candidate.exists():
            return candidate
    raise BuildError(f"{relative} is not in the shared folder (looked for: {', '.join(map(str, looked))}); "
                     "set OUI_SHARED_DIR to the folder that holds it")


def find_archive(archive_name: str, row: dict) -> Path:
    looked = []
    for shared in shared_dirs():
        candidate = shared / "src" / archive_name
        looked.append(str(candidate))
        if candidate.is_file():
            return candidate
    commit = row["source"].get("commit")
    raise BuildError(
        f"{row['module']} v{row['_version']}: the Go module proxy does not serve it and its archive {archive_name} "
        f"is not in the shared source folder (looked for: {', '.join(looked)}). Put the archive (`git archive` of tag "
        f"v{row['_version']}{', commit ' + commit if commit else ''}, prefix {archive_name.removesuffix('.tar.gz')}/) "
        "in <shared>/src/, or set OUI_SHARED_DIR to the folder whose src/ holds it.")


def archive_commit(archive: Path) -> str:
    """The commit `git archive` recorded in the archive's global header (git get-tar-commit-id)."""
    with tarfile.open(archive) as tar:
        return tar.pax_headers.get("comment", "")


def print_table(results: list, total: float) -> None:
    if not results:
        return
    width = max(len(r[0]) for r in results)
    lines = [f"{'component':<{width}}  {'seconds':>8}  result"]
    lines += [f"{what:<{width}}  {seconds:>8.1f}  {mode}" for what, seconds, mode in results]
    lines.append(f"{'total':<{width}}  {total:>8.1f}")
    for line in lines:
        log(line)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cluster/build.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "bin-dir", "info", "list", "timings", "shared"])
    parser.add_argument("-g", "--group", action="append", default=[], help="a group of cluster/components.yml")
    parser.add_argument("components", nargs="*")
    args = parser.parse_args(argv)
    try:
        if args.command == "shared":
            if len(args.components) != 1 or args.group:
                raise BuildError("shared takes exactly one path")
            print(f"OUI_SHARED_PATH={find_shared(args.components[0])}")
            return 0
        rows, groups = load_table()
        paths = read_paths()
        builder = Builder(rows, paths)
        if args.command == "list":
            member = {n: [g for g, m in groups.items() if n in m] for n in rows}
            for n, row in rows.items():
                outs = ",".join(k for k in ("bin", "image", "helm_plugin") if row["outputs"].get(k))
                print(f"{n}\t{'+'.join(member[n]) or '-'}\t{row['_version']}\t{row['source']['kind']}\t"
                      f"{builder.key(n)}\t{'built' if builder.built(n) else 'not built'}\t{outs}")
            return 0
        if args.command == "info":
            if len(args.components) != 1 or args.group:
                raise BuildError("info takes exactly one component")
            name = select(rows, groups, [], args.components)[0]
            t0 = time.monotonic()
            builder.build(name)
            if any(r[2] != "cached" for r in builder.results):
                print_table(builder.results, time.monotonic() - t0)
            for k, v in builder.info(name).items():
                print(f"{k}={v}")
            return 0
        names = select(rows, groups, args.group, args.components)
        label = "+".join(args.group + args.components) if len(args.group + args.components) <= 3 else "selection"
        if args.command == "timings":
            for n in names:
                record = builder.out_dir(n) / "build.json"
                data = json.loads(record.read_text()) if record.is_file() else {}
                print(f"{n}\t{rows[n]['_version']}\t{data.get('seconds', '-')}\t{data.get('mode', 'not built')}")
            return 0
        if args.command == "build":
            t0 = time.monotonic()
            log(f"{' '.join(names)} (cache {paths['OUI_COMPONENTS_DIR']}, Go caches {Path(paths['OUI_GOCACHE']).parent}, "
                f"{'cold' if builder.cold else 'warm'} Go build cache, {builder.go_version})")
            try:
                for n in names:
                    builder.build(n)
            finally:
                print_table(builder.results, time.monotonic() - t0)
            links = builder.make_links(names, label)
        else:
            links = builder.link_dir(names, label)
        print(f"OUI_BIN_DIR={links / 'bin'}")
        if any("helm_plugin" in rows[n]["outputs"] for n in names):
            print(f"HELM_PLUGINS={links / 'helm-plugins'}")
        return 0
    except BuildError as err:
        print(f"cluster/build.sh: ERROR: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
