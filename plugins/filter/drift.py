# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that read the results of a --check --diff run (the ansible.posix.json callback's
document) into what drift is: the tasks that would change something, with their diffs rendered
as ansible-playbook --diff renders them, and the tasks that failed."""
from __future__ import annotations

import copy


def _results(document):
    """(play name, task name, host, result) for every task result of the document."""
    for play in (document or {}).get("plays", []):
        play_name = play.get("play", {}).get("name", "")
        for task in play.get("tasks", []):
            task_name = task.get("task", {}).get("name", "")
            for host, result in (task.get("hosts") or {}).items():
                yield play_name, task_name, host, result


def _diffs(result):
    """A result's diffs: its own, its loop items' (results), and the objects' of a
    kubernetes.core.k8s task given several definitions (result.results); unchanged parts say nothing."""
    nested = result.get("result") if isinstance(result.get("result"), dict) else {}
    found = []
    for item in [result, *(result.get("results") or []), *(nested.get("results") or [])]:
        diff = item.get("diff") if isinstance(item, dict) and item.get("changed", True) else None
        if diff:
            found.extend(diff if isinstance(diff, list) else [diff])
    return found


def _render(diffs) -> str:
    """The diffs as ansible-playbook --diff prints them (unified diffs of YAML), without colour."""
    from ansible.plugins.callback import CallbackBase

    return CallbackBase()._get_diff(copy.deepcopy(diffs)) if diffs else ""


def drift_changes(document):
    """[{play, task, host, diff}] of every result that reports a change (skipped ones do not)."""
    return [
        {"play": play, "task": task, "host": host, "diff": _render(_diffs(result))}
        for play, task, host, result in _results(document)
        if result.get("changed") and not result.get("skipped")
    ]


def drift_failures(document):
    """[{play, task, host, msg}] of every result that failed or was unreachable."""
    return [
        {"play": play, "task": task, "host": host, "msg": str(result.get("msg", ""))[:2000]}
        for play, task, host, result in _results(document)
        if result.get("failed") or result.get("unreachable")
    ]


class FilterModule:
    def filters(self):
        return {"drift_changes": drift_changes, "drift_failures": drift_failures}
