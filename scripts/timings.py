#!/usr/bin/env python3
"""Print the phase times of one `make test` or `make up` run, and keep them as TSV.

Usage: scripts/timings.py [RUN_FILE]   (default: the newest .state/timings/*.tsv)

A run file has the columns id, phase, start (epoch seconds), seconds, result and depth. Rows come
from scripts/timed.sh (a "running" row when a step starts, the final one when it ends) and from the
pytest plugin tests/harness_plugin.py (tier markers, test directories, skip counts, cluster start).
The file is rewritten with one final row per step. When OUI_BUILD_TIMINGS names a TSV (the
per-component build times), it is printed below and copied next to the run file as <run>.build.tsv.
Standard library only: it also runs when the Python environment could not be built.
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ["id", "phase", "start", "seconds", "result", "depth"]


def fmt(seconds: str) -> str:
    if not seconds:
        return ""
    s = float(seconds)
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


def read_run(path: Path) -> list[dict]:
    rows: dict[str, dict] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("id") and row["id"] != "id":
                rows[row["id"]] = {**rows.get(row["id"], {}), **row}  # first position, last values
    return list(rows.values())


def write_run(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                                lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def table(lines: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(line[i]) if i < len(line) else 0 for line in lines) for i in range(max(map(len, lines)))]
    return [indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        run = Path(argv[1])
    else:
        runs = sorted((REPO / ".state" / "timings").glob("*-*.tsv"), key=lambda p: p.stat().st_mtime)
        runs = [p for p in runs if not p.name.endswith(".build.tsv")]
        if not runs:
            print("timings: no run recorded in .state/timings yet (make test or make up records one)", file=sys.stderr)
            return 1
        run = runs[-1]
    if not run.is_file():
        print(f"timings: {run} does not exist", file=sys.stderr)
        return 1
    rows = read_run(run)
    write_run(run, rows)
    starts = [float(r["start"]) for r in rows if r.get("start")]
    ends = [float(r["start"]) + float(r["seconds"]) for r in rows if r.get("start") and r.get("seconds")]
    target = run.name.split("-", 1)[0]
    began = min(starts) if starts else run.stat().st_mtime
    print(f"\n== make {target}: time of each phase ({run.relative_to(REPO) if run.is_relative_to(REPO) else run}) ==")
    lines = [["phase", "time", "result"]]
    for r in rows:
        result = r.get("result", "")
        if result == "running":
            result = "did not finish (interrupted?)"
        lines.append(["  " * int(r.get("depth") or 0) + r["phase"], fmt(r.get("seconds", "")), result])
    if starts and ends:
        lines.append(["total (wall clock)", fmt(f"{max(ends) - min(starts):.1f}"),
                      time.strftime("started %Y-%m-%d %H:%M:%S", time.localtime(min(starts)))])
    print("\n".join(table(lines)))

    build = os.environ.get("OUI_BUILD_TIMINGS", "")
    copy = run.with_name(run.name.removesuffix(".tsv") + ".build.tsv")
    current = os.environ.get("OUI_TIMINGS_RUN") and Path(os.environ["OUI_TIMINGS_RUN"]).resolve() == run.resolve()
    if build and current:
        source = Path(build)
        if source.is_file():
            shutil.copyfile(source, copy)
            when = ("written during this run" if source.stat().st_mtime >= began else
                    time.strftime("from an earlier run, %Y-%m-%d %H:%M", time.localtime(source.stat().st_mtime)))
            print(f"\n== component builds (OUI_BUILD_TIMINGS={source}, {when}) ==")
        else:
            print(f"\n== component builds: OUI_BUILD_TIMINGS={source} does not exist (nothing was built?) ==")
    elif copy.is_file():
        source = copy
        print(f"\n== component builds (as recorded: {copy.name}) ==")
    else:
        return 0
    if source.is_file():
        cells = [line.split("\t") for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        print("\n".join(table(cells)) if cells else "  (empty)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
