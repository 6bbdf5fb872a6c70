"""The test harness itself: the skip policy (tests/skips.py, tests/harness_plugin.py) run in inner
pytest sessions (pytester), the phase timings (scripts/timed.sh, scripts/timings.py) run for real,
and the design-limits table of docs/testing.md held to the declared limits."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

import skips

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def inner(pytester, monkeypatch):
    """Run an inner session with the harness plugin, in the given OUI_MACHINE_SKIPS mode."""
    monkeypatch.delenv("OUI_TIMINGS_RUN", raising=False)

    def run(source: str, mode: str | None, *args: str):
        if mode is None:
            monkeypatch.delenv(skips.MODE_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(skips.MODE_VARIABLE, mode)
        pytester.makepyfile(test_inner=source)
        return pytester.runpytest("-p", "harness_plugin", "-p", "no:cacheprovider", *args)
    return run


MACHINE = """
from skips import require
def test_needs_a_tool():
    require(False, "no frobnicator on PATH")
def test_passes():
    assert True
"""

DESIGN = """
from skips import design_limit
def test_external():
    design_limit("external-cluster", "measured only on the project's own cluster")
def test_passes():
    assert True
"""


def test_a_machine_skip_fails_make_tests_mode(inner):
    result = inner(MACHINE, "fail")
    result.assert_outcomes(passed=1, skipped=1)  # still listed as a skip, with its reason
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*= skips: 0 for design limits, 1 for machine reasons =*",
        "design limits (docs/testing.md#design-limits): 0",
        "machine skips: 1",
        "  1 x MACHINE SKIP: no frobnicator on PATH",
        "      first: test_inner.py::test_needs_a_tool",
        "OUI_MACHINE_SKIPS=fail (make test): this session FAILS*",
    ])


def test_a_machine_skip_outside_make_test_stays_a_loud_skip(inner):
    for mode in (None, "report"):
        result = inner(MACHINE, mode)
        result.assert_outcomes(passed=1, skipped=1)
        assert result.ret == pytest.ExitCode.OK
        result.stdout.fnmatch_lines(["*= skips: 0 for design limits, 1 for machine reasons =*",
                                     "  1 x MACHINE SKIP: no frobnicator on PATH",
                                     "these machine skips would fail `make test`; here they are only reported"])


def test_a_design_limit_skip_does_not_fail_make_tests_mode(inner):
    result = inner(DESIGN, "fail")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    reason = skips.DESIGN_LIMITS["external-cluster"].reason
    result.stdout.fnmatch_lines([
        "*= skips: 1 for design limits, 0 for machine reasons =*",
        "design limits (docs/testing.md#design-limits): 1",
        f"  1 x DESIGN LIMIT [[]external-cluster[]]: measured only on the project's own cluster; {reason} "
        "(docs/testing.md#against-another-cluster)",
        "machine skips: 0",
    ])
    assert "FAILS" not in result.stdout.str()


@pytest.mark.parametrize("source", [
    "import pytest\ndef test_x():\n    pytest.skip('plain skip')\n",
    "import pytest\n@pytest.mark.skipif(True, reason='a skipif marker')\ndef test_x():\n    pass\n",
    "import pytest\n@pytest.mark.skip(reason='a skip marker')\ndef test_x():\n    pass\n",
    "import pytest\npytest.importorskip('no_such_module_anywhere')\ndef test_x():\n    pass\n",
    "import pytest\n@pytest.mark.xfail(reason='known bug')\ndef test_x():\n    assert False\n",
    "import pytest\ndef test_x():\n    pytest.skip('DESIGN LIMIT [not-declared]: a key nobody declared')\n",
    "import pytest\n@pytest.fixture\ndef tool():\n    pytest.skip('no tool')\ndef test_x(tool):\n    pass\n",
], ids=["skip", "skipif", "skip-marker", "importorskip-module", "xfail", "undeclared-limit", "fixture-skip"])
def test_every_other_kind_of_skip_is_a_machine_skip(inner, source):
    result = inner(source, "fail")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*= skips: 0 for design limits, 1 for machine reasons =*"])


def test_a_skipif_marker_can_declare_a_design_limit(inner):
    source = ("import pytest\nfrom skips import design_limit_reason\n"
              "@pytest.mark.skipif(True, reason=design_limit_reason('moto-lacks-api'))\n"
              "def test_x():\n    pass\n")
    result = inner(source, "fail")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= skips: 1 for design limits, 0 for machine reasons =*",
                                 "  1 x DESIGN LIMIT [[]moto-lacks-api[]]: *"])


def test_an_undeclared_design_limit_is_an_error_that_names_it(inner):
    result = inner("from skips import design_limit\ndef test_x():\n    design_limit('made-up')\n", "fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*design limit 'made-up' is not declared in tests/skips.py (known: *"])


def test_a_wrong_mode_stops_the_session_and_names_the_variable(inner):
    result = inner(MACHINE, "sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*OUI_MACHINE_SKIPS='sometimes': expected one of report, fail*"])


def test_the_summary_is_printed_when_nothing_was_skipped(inner):
    result = inner("def test_x():\n    pass\n", "fail")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*= skips: 0 for design limits, 0 for machine reasons =*"])


def test_tier_times_by_marker_and_directory_go_into_the_run_file(pytester, monkeypatch, tmp_path):
    run = tmp_path / "test-run.tsv"
    monkeypatch.setenv("OUI_TIMINGS_RUN", str(run))
    monkeypatch.setenv("OUI_TIMINGS_DEPTH", "1")
    monkeypatch.setenv(skips.MODE_VARIABLE, "report")
    monkeypatch.delenv("OUI_PYTEST_LANE", raising=False)  # set when this suite runs under make test
    pytester.makeini("[pytest]\nmarkers =\n    unit: renders\n    cloud: needs moto\n")
    pytester.mkpydir("sub_a").joinpath("test_a.py").write_text(
        "import time, pytest\n@pytest.mark.unit\ndef test_a():\n    time.sleep(0.3)\n"
        "@pytest.mark.unit\ndef test_b():\n    pytest.skip('no tool')\n")
    pytester.mkpydir("sub_b").joinpath("test_b.py").write_text(
        "import pytest\n@pytest.mark.cloud\ndef test_c():\n    assert False\ndef test_unmarked():\n    pass\n")
    result = pytester.runpytest("-p", "harness_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*time by tier marker and by test directory*",
                                 "  marker unit * 1 passed, 1 skipped", "  directory sub_a * 1 passed, 1 skipped"])
    lines = [line.split("\t") for line in run.read_text().splitlines()]
    assert lines[0] == ["id", "phase", "start", "seconds", "result", "depth"]
    rows = {cells[1]: cells for cells in lines[1:]}
    assert set(rows) == {"pytest collection", "pytest marker unit", "pytest marker cloud",
                         "pytest marker (no tier marker)", "pytest directory sub_a", "pytest directory sub_b",
                         "pytest skips"}
    assert rows["pytest marker unit"][4] == "1 passed, 1 skipped"
    assert float(rows["pytest marker unit"][3]) >= 0.3
    assert rows["pytest marker cloud"][4] == "1 failed"
    assert rows["pytest directory sub_b"][4] == "1 passed, 1 failed"
    assert rows["pytest skips"][3:] == ["", "0 design limits, 1 machine", "1"]
    assert all(cells[5] == "1" for cells in lines[1:])


def test_a_lane_names_its_rows_so_two_sessions_at_once_stay_apart(pytester, monkeypatch, tmp_path):
    """scripts/pytest.sh runs the cloud tier beside the others; both sessions write the same run file."""
    run = tmp_path / "test-run.tsv"
    monkeypatch.setenv("OUI_TIMINGS_RUN", str(run))
    monkeypatch.setenv(skips.MODE_VARIABLE, "report")
    pytester.makeini("[pytest]\nmarkers =\n    cloud: needs moto\n")
    pytester.makepyfile(test_c="import pytest\n@pytest.mark.cloud\ndef test_c():\n    pass\n")
    for lane in ("cloud", "main"):
        monkeypatch.setenv("OUI_PYTEST_LANE", lane)
        pytester.runpytest("-p", "harness_plugin", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    phases = [line.split("\t")[1] for line in run.read_text().splitlines()[1:]]
    assert "pytest (cloud lane) marker cloud" in phases and "pytest (main lane) marker cloud" in phases
    assert not [p for p in phases if p.startswith("pytest ") and "lane)" not in p], phases


def _timed(run: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """scripts/timed.sh at the top level (under `make test` this test itself runs one level down)."""
    return subprocess.run(["bash", str(REPO / "scripts" / "timed.sh"), *args], capture_output=True, text=True,
                          env={**os.environ, "OUI_TIMINGS_RUN": str(run), "OUI_TIMINGS_DEPTH": "0", **(env or {})},
                          check=False)


def test_timed_steps_nest_and_the_summary_prints_them_with_the_build_table(tmp_path):
    run = tmp_path / "up-20990101-000000.tsv"
    timed = REPO / "scripts" / "timed.sh"
    outer = _timed(run, "deploy", "bash", "-c", f"echo out; sleep 0.2; bash {timed} 'cluster start' sleep 0.1")
    assert outer.returncode == 0 and outer.stdout == "out\n", outer.stderr  # the command's output passes through
    build = tmp_path / "build-timings.tsv"
    build.write_text("component\tcold_s\twarm_s\nkube-apiserver\t760\t3\n")
    env = {**os.environ, "OUI_TIMINGS_RUN": str(run), "OUI_BUILD_TIMINGS": str(build)}
    shown = subprocess.run(["python3", str(REPO / "scripts" / "timings.py"), str(run)], capture_output=True,
                           text=True, env=env, check=True).stdout
    assert re.search(r"^  deploy +0\.[3-9]s +ok$", shown, re.M), shown
    assert re.search(r"^    cluster start +0\.[1-9]s +ok$", shown, re.M), shown  # one level below its parent
    assert re.search(r"^  total \(wall clock\) +0\.[3-9]s +started ", shown, re.M), shown
    assert f"== component builds (OUI_BUILD_TIMINGS={build}, written during this run) ==" in shown
    assert re.search(r"^  kube-apiserver +760 +3$", shown, re.M), shown
    # The record: one final row per step, and the build table kept beside it.
    rows = [line.split("\t") for line in run.read_text().splitlines()]
    assert [r[1] for r in rows] == ["phase", "deploy", "cluster start"]
    assert [r[4] for r in rows[1:]] == ["ok", "ok"] and [r[5] for r in rows[1:]] == ["0", "1"]
    assert (tmp_path / "up-20990101-000000.build.tsv").read_text() == build.read_text()


def test_a_failed_top_level_step_prints_the_summary_and_keeps_the_exit_code(tmp_path):
    run = tmp_path / "test-20990101-000000.tsv"
    assert _timed(run, "lint: yamllint", "true").returncode == 0
    failed = _timed(run, "lint: ansible-lint", "bash", "-c", "exit 3")
    assert failed.returncode == 3
    assert re.search(r"^  lint: ansible-lint +0\.\ds +FAILED \(exit 3\)$", failed.stderr, re.M), failed.stderr
    assert "== make test: time of each phase" in failed.stderr
    nested = _timed(run, "inner", "false", env={"OUI_TIMINGS_DEPTH": "1"})
    assert nested.returncode == 1 and nested.stderr == ""  # only the top level prints


def test_without_a_run_file_timed_only_runs_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OUI_TIMINGS_RUN"}
    proc = subprocess.run(["bash", str(REPO / "scripts" / "timed.sh"), "step", "bash", "-c", "echo hi; exit 4"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (4, "hi\n", "")
    assert list(tmp_path.iterdir()) == []


def test_make_test_runs_pytest_in_the_failing_mode_and_make_up_is_timed():
    """The Makefile's own variables for the two targets, as make reads them (make -p prints them)."""
    db = subprocess.run(["make", "-p", "-n", "-s", "help"], cwd=REPO, capture_output=True, text=True,
                        check=True).stdout
    specific = re.findall(r"^(test|up): (?:export )?(\w+) := (.*)$", db, re.M)
    assert ("test", "OUI_MACHINE_SKIPS", "fail") in specific, specific
    runs = {target: value for target, name, value in specific if name == "OUI_TIMINGS_RUN"}
    assert re.fullmatch(rf"{re.escape(str(REPO))}/\.state/timings/test-\d{{8}}-\d{{6}}\.tsv", runs["test"]), runs
    assert re.fullmatch(rf"{re.escape(str(REPO))}/\.state/timings/up-\d{{8}}-\d{{6}}\.tsv", runs["up"]), runs


def _design_table() -> dict[str, list[str]]:
    text = (REPO / "docs" / "testing.md").read_text()
    section = text.split("\n## Design limits\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([a-z0-9-]+)` \|(.*)\|$", line)
        if m:
            rows[m[1]] = [c.strip() for c in m[2].split("|")]
    return rows


def test_the_design_limits_table_lists_exactly_the_declared_limits():
    table = _design_table()
    assert sorted(table) == sorted(skips.DESIGN_LIMITS)
    for key, limit in skips.DESIGN_LIMITS.items():
        docs = limit.docs.removeprefix("docs/")
        assert f"]({docs})" in table[key][1], f"docs/testing.md row {key}: link to {docs}"
        page, _, anchor = limit.docs.partition("#")
        assert (REPO / page).is_file(), limit.docs
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (REPO / page).read_text(), re.M)
            assert anchor in {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}, limit.docs


def test_each_declared_limit_is_used_by_a_test():
    sources = {p: p.read_text() for p in (REPO / "tests").rglob("*.py") if p.name not in ("skips.py", "test_harness.py")}
    for key in skips.DESIGN_LIMITS:
        users = [p for p, text in sources.items() if f'"{key}"' in text or f"design limit {key}" in text]
        assert users, f"design limit {key!r} is declared in tests/skips.py but no test uses it"
