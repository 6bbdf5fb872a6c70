# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift filters on results shaped as the ansible.posix.json callback writes them: a plain
task, a loop, a kubernetes.core.k8s task given several objects, a skipped and a failed task."""
from __future__ import annotations

from ansible_collections.oui.platform.plugins.filter.drift import drift_changes, drift_failures


def document(*tasks):
    return {"plays": [{"play": {"name": "Application"}, "tasks": [
        {"task": {"name": name}, "hosts": {"localhost": result}} for name, result in tasks]}],
        "stats": {"localhost": {"changed": 1, "failures": 0}}}


def test_a_changed_task_comes_with_its_diff_rendered_as_diff_mode_does():
    diff = {"before": "a\n", "after": "b\n", "before_header": "/f", "after_header": "/f"}
    doc = document(("Write the file", {"changed": True, "diff": [diff]}), ("Read something", {"changed": False}))
    (change,) = drift_changes(doc)
    assert (change["play"], change["task"], change["host"]) == ("Application", "Write the file", "localhost")
    assert "--- before: /f" in change["diff"] and "-a" in change["diff"] and "+b" in change["diff"]


def test_objects_of_one_k8s_task_and_loop_items_are_all_shown_only_when_changed():
    k8s = {"changed": True, "result": {"results": [
        {"changed": True, "diff": {"before": {"data": {"LOG_LEVEL": "hand-made"}}, "after": {"data": {"LOG_LEVEL": "debug"}}}},
        {"changed": False, "diff": {"before": {"spec": 1}, "after": {"spec": 2}}}]}}
    loop = {"changed": True, "results": [{"changed": True, "diff": [{"prepared": "helm diff: 1 line\n"}]}]}
    changes = drift_changes(document(("Apply the app's objects", k8s), ("Install the chart", loop)))
    assert [c["task"] for c in changes] == ["Apply the app's objects", "Install the chart"]
    lines = changes[0]["diff"].splitlines()
    assert any(line.startswith("-") and '"LOG_LEVEL": "hand-made"' in line for line in lines), lines
    assert any(line.startswith("+") and '"LOG_LEVEL": "debug"' in line for line in lines), lines
    assert '"spec"' not in changes[0]["diff"], "an unchanged object's diff was shown"
    assert changes[1]["diff"] == "helm diff: 1 line\n"


def test_skipped_tasks_are_no_change_and_failures_are_reported():
    doc = document(("Skipped", {"changed": True, "skipped": True}),
                   ("Broken", {"failed": True, "msg": "cluster unreachable"}),
                   ("Gone", {"unreachable": True, "msg": "no route"}))
    assert drift_changes(doc) == []
    assert [(f["task"], f["msg"]) for f in drift_failures(doc)] == [("Broken", "cluster unreachable"), ("Gone", "no route")]
    assert drift_changes({}) == [] and drift_failures(None) == []
