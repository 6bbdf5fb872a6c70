"""The documentation site: every repository path a page cites exists, every mermaid diagram
renders (mermaid-cli driving Debian's chromium), and the site builds strict with diagrams as
diagrams. The docs are held to the code: a page that names a file the repository lacks fails here.
Every file of the repository (code comments, make files, scripts and tests included) speaks of the
project alone: no number of the project's tracker, no planning notes a user cannot see, no path
outside the repository, no cited path the repository lacks.
"""
from __future__ import annotations

import fnmatch
import functools
import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import require

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
HERE = Path(__file__).resolve().parent

# Top-level names a citation can start with: the collection's layout. A fixed list, so that
# citing a folder that does not exist yet fails.
TOP_DIRS = {
    ".ci", ".config", ".github", "app", "awx", "bench", "changelogs", "ci", "cluster", "collections",
    "docs", "extensions", "inventories", "meta", "mk", "molecule", "playbooks", "plugins", "roles",
    "scripts", "tests", "vars",
}
ROOT_FILES = {
    "Dockerfile", "Makefile", "README.md", "galaxy.yml", "ansible.cfg", "requirements.yml",
    "requirements.txt", "constraints.txt", "mkdocs.yml", "pyproject.toml", ".yamllint", ".gitignore",
    "execution-environment.yml",
}
_TOP = "|".join(re.escape(d) for d in sorted(TOP_DIRS))
# A path: a known top-level folder, then path characters; `<env>` style placeholders allowed.
PATH_RE = re.compile(rf"(?<![\w./-])((?:{_TOP})/[\w./<>*-]*)")
# A fenced block, also indented inside a list item: (indent, fence, language, body).
FENCE_RE = re.compile(r"^([ \t]*)(```|~~~)([\w-]*)[^\n]*\n(.*?)^\1\2[ \t]*$", re.M | re.S)
INLINE_RE = re.compile(r"`([^`\n]+)`")
SHELL_FENCES = {"sh", "bash", "shell", "console", "text", "yaml", "ini", ""}


def body(match: re.Match) -> str:
    """A fenced block's text with the fence's indentation removed."""
    indent = len(match.group(1))
    return "".join(line[indent:] for line in match.group(4).splitlines(keepends=True))


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def split_fences(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Prose without fenced blocks, and the fenced blocks as (language, body)."""
    blocks = [(m.group(3), body(m)) for m in FENCE_RE.finditer(text)]
    return FENCE_RE.sub("", text), blocks


def cited_paths(text: str) -> set[str]:
    prose, blocks = split_fences(text)
    cited: set[str] = set()
    for span in INLINE_RE.findall(prose):
        span = span.strip()
        if span in ROOT_FILES:
            cited.add(span)
        cited.update(PATH_RE.findall(span))
    for lang, body in blocks:
        if lang in SHELL_FENCES:
            cited.update(PATH_RE.findall(body))
    # Trailing punctuation of a sentence is not part of the path.
    return {c.rstrip(".,:;") for c in cited}


@functools.cache
def tracked() -> frozenset[str] | None:
    """Files and folders git tracks (staged included): what a clean clone, hence CI, will have.
    None outside a git checkout (then the file system decides)."""
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    names: set[str] = set()
    for name in filter(None, proc.stdout.split("\0")):
        parts = name.split("/")
        names.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(names)


def exists(path: str) -> bool:
    """True when the cited path (placeholders such as <env> or * read as wildcards) is a file or
    folder of the repository: tracked by git, so that a page cannot cite what only one checkout has."""
    pattern = re.sub(r"<[^>/]+>", "*", path).rstrip("/")
    names = tracked()
    if names is None:
        found = bool(glob.glob(str(REPO / pattern)))
    else:
        found = any(fnmatch.fnmatchcase(n, pattern) for n in names) if any(c in pattern for c in "*?[") \
            else pattern in names
    if found:
        return True
    # A build output or cache (site/, .state/, app/node_modules/) is cited as such, not as a file
    # of the repository: git ignores it (a folder rule matches what is inside the folder).
    return any(subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO).returncode == 0
               for name in (pattern, f"{pattern}/any"))


def mermaid_blocks() -> list[tuple[Path, int, str]]:
    found = []
    for page in [*pages(), REPO / "README.md"]:
        text = page.read_text()
        for m in FENCE_RE.finditer(text):
            if m.group(3) == "mermaid":
                found.append((page, text[: m.start()].count("\n") + 1, body(m)))
    return found


def test_the_citation_scanner_sees_paths_and_only_paths():
    """The scanner itself: it must find what a page cites, or the existence test proves nothing."""
    text = (
        "See `roles/preflight/tasks/guard.yml` and `Makefile`, not `kube-system/platform-identity`.\n"
        "```sh\nansible-playbook -i inventories/<env>/hosts.yml playbooks/site.yml\n"
        "kubectl -n oui rollout restart deployment/oui-app\n```\n"
    )
    assert cited_paths(text) == {
        "roles/preflight/tasks/guard.yml", "Makefile", "inventories/<env>/hosts.yml", "playbooks/site.yml",
    }
    assert exists("inventories/<env>/hosts.yml")
    assert not exists("roles/no_such_role/tasks/main.yml")


def test_pages_exist():
    names = {p.relative_to(DOCS).as_posix() for p in pages()}
    for page in ("index.md", "architecture.md", "process.md", "components.md", "monitoring.md",
                 "technical-questions.md"):
        assert page in names, page
    assert any(n.startswith("runbooks/") for n in names)


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_cited_repository_path_exists(page: Path):
    missing = sorted(c for c in cited_paths(page.read_text()) if not exists(c))
    assert not missing, (
        f"{page.relative_to(REPO)} cites paths that are not in the repository (not tracked by git): {missing}; "
        "commit them, or cite what exists and say 'not yet implemented' for the rest"
    )


@pytest.fixture(scope="session")
def mmdc() -> Path:
    """mermaid-cli at the pinned version and Debian's chromium, installed when missing."""
    require(shutil.which("npm") is not None, "npm is needed to install mermaid-cli (apt-get install -y npm)")
    proc = subprocess.run(["bash", str(HERE / "tools.sh")], capture_output=True, text=True, timeout=900)
    require(proc.returncode == 0, f"tests/docs/tools.sh could not install the docs tools: {proc.stderr[-800:]}")
    return Path(proc.stdout.strip().splitlines()[-1]) / "node_modules" / ".bin" / "mmdc"


def render(mmdc: Path, source: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(mmdc), "--quiet", "-p", str(HERE / "mermaid" / "puppeteer.json"), "-i", str(source), "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )


def test_every_mermaid_diagram_renders(mmdc: Path, tmp_path: Path):
    blocks = mermaid_blocks()
    assert blocks, "no mermaid diagram found in docs/ (architecture.md must have one)"
    # One browser for all diagrams: a markdown file with every block; on failure, one by one.
    combined = tmp_path / "all.md"
    combined.write_text("".join(f"```mermaid\n{body}```\n\n" for _, _, body in blocks))
    proc = render(mmdc, combined, tmp_path / "all.out.md")
    svgs = sorted(tmp_path.glob("all.out-*.svg"))
    if proc.returncode == 0 and len(svgs) == len(blocks):
        for svg in svgs:
            assert "<svg" in svg.read_text()[:2000], svg
        print(f"mermaid: {len(blocks)} diagrams rendered")
        return
    failures = []
    for i, (page, line, body) in enumerate(blocks):
        src = tmp_path / f"d{i}.mmd"
        src.write_text(body)
        one = render(mmdc, src, tmp_path / f"d{i}.svg")
        if one.returncode != 0:
            failures.append(f"{page.relative_to(REPO)}:{line}: {(one.stderr or one.stdout).strip()[:300]}")
    assert not failures, "diagrams that do not render:\n" + "\n".join(failures)
    pytest.fail(f"the combined render failed but every diagram renders alone: {proc.stderr[-800:]}")


def strict_build(mkdocs: Path, project: Path, site: Path) -> subprocess.CompletedProcess:
    """The build of `make docs`. Never --quiet: mkdocs 1.6 then stops counting warnings, and
    --strict lets a broken link through with exit code 0."""
    return subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(site)],
        cwd=project, capture_output=True, text=True, timeout=300, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )


def test_the_strict_build_fails_on_a_broken_link(tmp_path: Path):
    """The check itself: the same build on a page with a broken link must fail."""
    mkdocs = REPO / ".venv" / "bin" / "mkdocs"
    require(mkdocs.exists(), "the venv has no mkdocs (make venv)")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Broken\n\n[gone](missing.md)\n")
    (tmp_path / "mkdocs.yml").write_text((REPO / "mkdocs.yml").read_text())
    proc = strict_build(mkdocs, tmp_path, tmp_path / "site")
    assert proc.returncode != 0, "mkdocs --strict passed a broken link:\n" + proc.stdout + proc.stderr
    assert "missing.md" in proc.stderr


def test_site_builds_strict_with_diagrams_as_diagrams(tmp_path: Path):
    """mkdocs --strict (broken links and anchors fail it); each mermaid block becomes a diagram, not code."""
    mkdocs = REPO / ".venv" / "bin" / "mkdocs"
    require(mkdocs.exists(), "the venv has no mkdocs (make venv)")
    proc = strict_build(mkdocs, REPO, tmp_path / "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in pages():
        expected = sum(1 for m in FENCE_RE.finditer(page.read_text()) if m.group(3) == "mermaid")
        html = (tmp_path / "site" / page.relative_to(DOCS).with_suffix(".html")).read_text()
        assert html.count('<pre class="mermaid">') == expected, page
    # Mermaid comes from the site itself (vendored by `make docs`), so Material skips its CDN.
    assert 'src="js/mermaid.min.js"' in (tmp_path / "site" / "index.html").read_text()


VERSION_RE = re.compile(r"`([^`\n]+)`\s+\(`platform_versions\.([\w.-]+)`\)")


def cited_versions(text: str) -> list[tuple[str, str]]:
    """Pairs (version as written, key) from the form: `1.2.3` (`platform_versions.a.b`)."""
    return VERSION_RE.findall(" ".join(text.split()))


def test_the_version_scanner_reads_the_citation_form():
    text = "chart `4.15.1`\n  (`platform_versions.charts.ingress-nginx.version`), Helm `4.0.0` (`platform_versions.helm`)"
    assert cited_versions(text) == [("4.15.1", "charts.ingress-nginx.version"), ("4.0.0", "helm")]


def test_every_cited_version_is_the_pinned_one(versions):
    """A version on a page is the one in vars/versions.yml, so an upgrade cannot leave the docs behind."""
    cited = [(page, v, k) for page in pages() for v, k in cited_versions(page.read_text())]
    assert cited, "docs/components.md must cite versions as `X` (`platform_versions.<key>`)"
    wrong = []
    for page, version, key in cited:
        node = versions
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if str(node) != version:
            wrong.append(f"{page.relative_to(REPO)}: {version} for platform_versions.{key}, the file says {node!r}")
    assert not wrong, "\n".join(wrong)


def shell_blocks() -> list[tuple[Path, int, str]]:
    found = []
    for page in pages():
        text = page.read_text()
        for m in FENCE_RE.finditer(text):
            if m.group(3) in ("sh", "bash"):
                found.append((page, text[: m.start()].count("\n") + 1, body(m)))
    return found


def test_every_shell_block_parses():
    """Runbook steps are commands that run as written: at the least, bash must parse each block
    (no placeholders like <name> that the shell would read as redirections)."""
    blocks = shell_blocks()
    assert blocks, "the runbooks have no sh blocks"
    bad = []
    for page, line, text in blocks:
        proc = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        if proc.returncode != 0:
            bad.append(f"{page.relative_to(REPO)}:{line}: {proc.stderr.strip()}")
        for m in re.finditer(r"<[a-z][a-z -]*>", text):
            bad.append(f"{page.relative_to(REPO)}:{line}: placeholder {m.group(0)} is not runnable as written")
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------- every file speaks of the project alone

# What a user of the repository cannot see: the numbers of the project's tracker, its planning notes,
# and the machine the project was built on. Each pattern is shown to catch its case below.
TRACKER_RES = [
    re.compile(r"\bissues?\s*[:#]?\s*\(?#?\d+", re.I),             # issue 9, Issue: 3, issues #4, issue (11)
    re.compile(r"\bissues?\b[^\n.;]{0,40}\(\d{1,3}\)", re.I),      # the backup issue (11)
    re.compile(r"\((?:see )?issues?\b", re.I),                      # (issue: platform add-ons)
    re.compile(r"\b(?:the|this|other|another|our|backup) issues?\b(?! (?:certificates|them)\b)", re.I),
    re.compile(r"\bdesign card\b", re.I),
    re.compile(r"\b(?:DESIGN|BRIEF|HOUSE_STYLE)\.md\b|\bHOUSE_STYLE\b"),
]
# A path outside the repository: the folder next to the checkout, or an absolute path of this machine.
OUTSIDE_RE = re.compile(r"(?<![\w.-])(?:\.\./)+shared\b|(?<![\w./-])shared/\w|(?<![\w.])/work/\w")
# A path cited anywhere in a file (not only in code spans): as PATH_RE, and never after a backslash
# (an escaped regular expression such as \.github/workflows/ci\.yml is not a citation).
ANY_PATH_RE = re.compile(rf"(?<![\w./\\-])((?:{_TOP})/[\w./<>*-]*)")
SELF = Path(__file__).resolve().relative_to(REPO).as_posix()


def may_name_the_shared_folder(name: str) -> bool:
    """The test harness reads the chart mirror and the upstream sources next to the checkout, and
    docs/testing.md says where the chart mirror is; nothing else names that folder."""
    return (name.startswith("tests/") and name.endswith((".py", ".sh"))) or name == "docs/testing.md"


@functools.cache
def project_files() -> tuple[tuple[str, str], ...]:
    """(path, text) of every tracked text file but this one and the generated lock files."""
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True)
    found = []
    for name in sorted(filter(None, proc.stdout.split("\0"))):
        path = REPO / name
        if name == SELF or path.name in ("package-lock.json", "constraints.txt") or path.is_symlink() or not path.is_file():
            continue
        try:
            found.append((name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue  # binary
    return tuple(found)


def tracker_references(text: str) -> list[str]:
    """One entry per offending line: its number, what matched, the line."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        hits = [m.group(0) for pattern in TRACKER_RES for m in pattern.finditer(line)]
        outside = [m.group(0) for m in OUTSIDE_RE.finditer(line)]
        if hits or outside:
            kind = "path outside the repository" if outside and not hits else "reference"
            found.append(f"{number}: {kind} {sorted(set(hits + outside))} in {line.strip()[:120]!r}")
    return found


def test_the_reference_scanner_catches_each_case():
    """The patterns themselves: each kind of reference is caught, ordinary prose is not."""
    for text in ("the real node (issue 9)", "- Issue: 10 (CI/CD)", "see issue #4", "the backup issue (11)",
                 "pinned charts (issue: platform add-ons)", "as the issue names them", "playbooks other issues build",
                 "the design card lists it", "(shared/DESIGN.md, Contracts)", "the layout of DESIGN.md",
                 "HOUSE_STYLE says so", "charts from ../shared/charts", "see /work/shared/BRIEF.md"):
        assert tracker_references(text), text
    for text in ("the test cluster issues client certificates", "cert-manager issues certificates for Gateways",
                 "Known Issues", "Issue through the CSR API", "a ClusterIssuer that issues the certificate", "a pod design that scales", "shared by every play",
                 "a shared-services VPC", "tests/docs/test_docs.py"):
        assert not tracker_references(text), text
    assert not may_name_the_shared_folder("roles/app/tasks/main.yml") and may_name_the_shared_folder("tests/helpers.py")


def test_no_file_refers_to_what_a_user_cannot_see():
    bad = []
    for name, text in project_files():
        for found in tracker_references(text):
            if ": path outside the repository " in found and may_name_the_shared_folder(name):
                continue
            bad.append(f"{name}:{found}")
    assert not bad, (
        "files refer to the project's tracker, its planning notes or paths outside the repository; "
        "write what is meant instead:\n" + "\n".join(bad))


# The folders of a role: a role's own files cite its paths relative to it (meta/argument_specs.yml),
# and a path written for every role (defaults/main.yml) names the file every role has.
ROLE_DIRS = {"meta", "vars", "defaults", "tasks", "templates", "handlers", "files"}


def citations(name: str, text: str) -> set[str]:
    """The paths a file cites. Markdown: in code spans and shell fences, as on the docs pages.
    Elsewhere, anywhere in the text, but only what reads as a path: a file name (with an
    extension or a placeholder) or a folder written with its trailing slash - "app/bare rps"
    in a benchmark's comment is a ratio, not a folder."""
    if name.endswith(".md"):
        return cited_paths(text)
    found = set()
    for cited in ANY_PATH_RE.findall(text):
        cited = cited.rstrip(".,:;")
        last = cited.rstrip("/").rsplit("/", 1)[-1]
        if cited.endswith("/") or any(c in last for c in ".*<"):
            found.add(cited)
    return found


def exists_for(name: str, path: str) -> bool:
    """The cited path exists in the repository, relative to it or, in a role's file, to the role."""
    if exists(path):
        return True
    parts = name.split("/")
    if parts[0] == "roles" and len(parts) > 2 and exists(f"roles/{parts[1]}/{path}"):
        return True
    return path.split("/")[0] in ROLE_DIRS | {"meta", "vars"} and exists(f"roles/*/{path}")


def test_the_path_scanner_reads_files_as_their_readers_do():
    assert citations("bench/x.sh", "# targets: app/bare rps >= 0.85, see tests/access/test_access_static.py") == {
        "tests/access/test_access_static.py"}
    assert citations("roles/app/README.md", "<!-- from meta/argument_specs.yml -->\nSee `roles/app/vars/main.yml`.") == {
        "roles/app/vars/main.yml"}
    assert exists_for("roles/app/tasks/main.yml", "meta/argument_specs.yml")
    assert exists_for("scripts/role-docs.py", "meta/argument_specs.yml")
    assert not exists_for("roles/access/templates/rbac.yml.j2", "tests/access/test_static.py")


CHANGE_HISTORY = {"CHANGELOG.rst", "changelogs/changelog.yaml"}


def test_every_path_any_file_cites_exists():
    """Code comments, make files, scripts, tests and READMEs cite repository paths too (the docs
    pages are checked above); every one must exist."""
    missing = []
    for name, text in project_files():
        if name.startswith("docs/") or name in CHANGE_HISTORY or name.startswith("changelogs/fragments/"):
            continue  # a change's record may name what it removed
        missing += [f"{name}: {c}" for c in sorted(citations(name, text)) if not exists_for(name, c)]
    assert not missing, "paths cited that are not in the repository:\n" + "\n".join(missing)
