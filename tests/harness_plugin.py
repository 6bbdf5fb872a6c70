"""pytest plugin of the test harness (loaded by tests/conftest.py): the skip policy and the tier times.

- Every skip is sorted into a declared design limit or a machine skip (tests/skips.py). The
  terminal summary always prints both counts with each reason. With OUI_MACHINE_SKIPS=fail (set by
  `make test`) a session with a machine skip fails, while the skips stay listed as skips.
- The time of each test (setup + call + teardown) is summed per tier marker and per top-level test
  directory, printed, and appended as rows to the run file that OUI_TIMINGS_RUN names (written by
  scripts/timed.sh, printed by scripts/timings.py at the end of `make test` and `make up`).

PYTEST_DONT_REWRITE: it holds no assertion, and the harness imports it before pytest loads it.
"""
from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import skips

TIMINGS_VARIABLE = "OUI_TIMINGS_RUN"
LANE_VARIABLE = "OUI_PYTEST_LANE"  # set by scripts/pytest.sh when the cloud tier runs beside the others
COLUMNS = ("id", "phase", "start", "seconds", "result", "depth")


def record_phase(phase: str, seconds: float | None, result: str = "ok", start: float | None = None) -> None:
    """Append a row to the current run's timings (no-op outside `make test`/`make up`); seconds=None
    for a row that only reports (the skip counts)."""
    run = os.environ.get(TIMINGS_VARIABLE)
    if not run:
        return
    path = Path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.time() - (seconds or 0.0) if start is None else start
    depth = os.environ.get("OUI_TIMINGS_DEPTH", "0")
    row = (f"py{os.getpid()}.{time.monotonic_ns()}", phase, f"{start:.3f}",
           "" if seconds is None else f"{seconds:.1f}", result, depth)
    with path.open("a", encoding="utf-8") as out:
        if out.tell() == 0:
            out.write("\t".join(COLUMNS) + "\n")
        out.write("\t".join(v.replace("\t", " ") for v in row) + "\n")


@dataclass
class Skip:
    nodeid: str
    message: str
    limit: str | None  # the design limit's key; None for a machine skip


@dataclass
class State:
    start: float = field(default_factory=time.time)
    collected: float | None = None
    tiers: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)  # nodeid -> (markers, directory)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    outcome: dict[str, str] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)

    @property
    def machine(self) -> list[Skip]:
        return [s for s in self.skips if s.limit is None]

    @property
    def design(self) -> list[Skip]:
        return [s for s in self.skips if s.limit is not None]


def _skip_message(report) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail (an expected failure is not a pass): {report.wasxfail or 'no reason given'}"
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


def _count(outcomes: list[str]) -> str:
    counts = Counter(outcomes)
    return ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "skipped") if counts[k]) or "no test"


def _grouped(found: list[Skip]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for skip in found:
        groups[skip.message].append(skip.nodeid)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def pytest_configure(config: pytest.Config) -> None:
    skips.mode()  # a wrong value stops the session before anything runs
    config.pluginmanager.register(Harness(config), "oui-harness")


class Harness:
    """One per session (pytester's inner sessions get their own)."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.state = State()
        self.markers = [line.split(":", 1)[0].strip() for line in config.getini("markers")]

    def _directory(self, path: Path) -> str:
        try:
            parent = Path(path).relative_to(self.config.rootpath).parent
        except ValueError:
            parent = Path(path).parent
        return "/".join(parent.parts[:2]) or "."

    def _note_skip(self, report) -> None:
        message = _skip_message(report)
        limit = None if hasattr(report, "wasxfail") else skips.classify(message)
        self.state.skips.append(Skip(report.nodeid, message, limit))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.collected = time.time()
        for item in session.items:
            tiers = tuple(m for m in self.markers if item.get_closest_marker(m))
            self.state.tiers[item.nodeid] = (tiers, self._directory(item.path))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:
            self._note_skip(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self.state
        state.seconds[report.nodeid] += report.duration
        if report.failed:
            state.outcome[report.nodeid] = "failed"
        elif report.skipped:
            state.outcome.setdefault(report.nodeid, "skipped")
            self._note_skip(report)
        elif report.when == "call":
            state.outcome.setdefault(report.nodeid, "passed")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        quiet = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)  # a module-level skip collects nothing
        if self.state.machine and skips.mode() == "fail" and session.exitstatus in quiet:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        lane = os.environ.get(LANE_VARIABLE, "")
        for phase, seconds, result in self.tier_rows():
            if lane:  # two lanes run at once (scripts/pytest.sh): each names its own rows
                phase = phase.replace("pytest ", f"pytest ({lane} lane) ", 1)
            record_phase(phase, seconds, result, start=self.state.start)

    def tier_rows(self) -> list[tuple[str, float | None, str]]:
        state = self.state
        rows = []
        if state.collected is not None:
            rows.append(("pytest collection", state.collected - state.start, f"{len(state.tiers)} tests"))
        by_marker: dict[str, list[str]] = defaultdict(list)
        by_directory: dict[str, list[str]] = defaultdict(list)
        for nodeid in state.outcome:
            markers, directory = state.tiers.get(nodeid, ((), "?"))
            for marker in markers or ("(no tier marker)",):
                by_marker[marker].append(nodeid)
            by_directory[directory].append(nodeid)
        order = self.markers + ["(no tier marker)"]
        groups = [(f"pytest marker {m}", by_marker[m]) for m in sorted(by_marker, key=order.index)]
        groups += [(f"pytest directory {d}", by_directory[d]) for d in sorted(by_directory)]
        for phase, ids in groups:
            rows.append((phase, sum(state.seconds[i] for i in ids), _count([state.outcome[i] for i in ids])))
        rows.append(("pytest skips", None, f"{len(state.design)} design limits, {len(state.machine)} machine"))
        return rows

    def pytest_terminal_summary(self, terminalreporter) -> None:
        tr, state = terminalreporter, self.state
        failing = skips.mode() == "fail"
        tr.write_sep("=", f"skips: {len(state.design)} for design limits, {len(state.machine)} for machine reasons",
                     red=bool(state.machine) and failing, yellow=bool(state.machine) and not failing,
                     green=not state.machine)
        for title, found in (("design limits (docs/testing.md#design-limits)", state.design),
                             ("machine skips", state.machine)):
            tr.write_line(f"{title}: {len(found)}")
            for message, nodeids in _grouped(found):
                tr.write_line(f"  {len(nodeids)} x {message}")
                tr.write_line(f"      first: {nodeids[0]}")
        if state.machine:
            if failing:
                tr.write_line(f"{skips.MODE_VARIABLE}=fail (make test): this session FAILS because of the machine "
                              "skips above; install what they name, or declare a design limit in tests/skips.py",
                              red=True, bold=True)
            else:
                tr.write_line("these machine skips would fail `make test`; here they are only reported",
                              yellow=True, bold=True)
        rows = self.tier_rows()
        if len(rows) > 1:
            tr.write_sep("-", "time by tier marker and by test directory (setup + call + teardown)")
            for phase, seconds, result in rows[:-1]:
                tr.write_line(f"  {phase.removeprefix('pytest '):<40} {seconds:8.1f}s  {result}")
