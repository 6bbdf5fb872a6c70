"""Drift: playbooks/drift.yml runs a playbook with --check --diff and reports what would change.

Offline (marker unit): the mechanism itself, with a fixture playbook whose state is a file - no
change passes, a change fails with its diff and is left unmade, report-only mode passes and
writes the Markdown report, a check that itself fails is never reported as "no drift".
On the test cluster (marker cluster): the app deployed by playbooks/app.yml shows no drift; a
change made by hand with kubectl shows up as drift, with its diff, and stays as it was (nothing
is changed by the check); a re-run of the app playbook removes it and the drift with it.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest

from helpers import run_playbook

DIGEST = "sha256:" + hashlib.sha256(b"oui-platform drift test").hexdigest()


def state(tmp_path: Path, text: str) -> None:
    """The fixture's state file, as the fixture playbook writes it (mode 0600)."""
    target = tmp_path / "state.txt"
    target.write_text(text)
    target.chmod(0o600)


def drift(tmp_path: Path, content: str, *, fail_on_change: bool = True, fixture_fail: bool = False, env=None):
    target = tmp_path / "state.txt"
    report = tmp_path / "report.md"
    run = run_playbook("playbooks/drift.yml", "inventories/local/hosts.yml", env=env, extra_vars={
        "preflight_guard_cluster": False,
        "drift_playbook": "tests/ci/drift_fixture.yml",
        "drift_fail_on_change": fail_on_change,
        "drift_report_file": str(report),
        # a digest given: the check reads no running Deployment (no cluster here)
        "drift_extra_vars": {"app_image_digest": DIGEST, "drift_fixture_path": str(target),
                             "drift_fixture_content": content, "drift_fixture_fail": fixture_fail},
    })
    return run, target, report


@pytest.mark.unit
def test_no_change_is_no_drift(tmp_path):
    state(tmp_path, "as in git\n")
    run, target, report = drift(tmp_path, "as in git")
    assert run.returncode == 0, run.tail(60)
    assert "drift: 0 task(s) of tests/ci/drift_fixture.yml would change environment local" in " ".join(run.output.split())
    assert "No change: the environment is what the repository says." in report.read_text()


@pytest.mark.unit
def test_a_change_is_drift_with_its_diff_and_is_not_made(tmp_path):
    state(tmp_path, "changed by hand\n")
    run, target, report = drift(tmp_path, "as in git")
    assert run.returncode != 0, run.tail(60)
    said = " ".join(run.output.split())
    assert "drift: 1 task(s) of tests/ci/drift_fixture.yml would change environment local: Write the fixture file" in said
    assert "-changed by hand" in run.output and "+as in git" in run.output, run.tail(60)
    assert target.read_text() == "changed by hand\n", "the check changed the environment"
    text = report.read_text()
    assert "1 task(s) would change something" in text and "```diff" in text and "+as in git" in text, text


@pytest.mark.unit
def test_report_only_mode_passes_and_reports(tmp_path):
    state(tmp_path, "changed by hand\n")
    run, target, report = drift(tmp_path, "as in git", fail_on_change=False)
    assert run.returncode == 0, run.tail(60)
    assert "Write the fixture file" in report.read_text()
    assert target.read_text() == "changed by hand\n"


@pytest.mark.unit
def test_a_check_that_fails_is_not_reported_as_no_drift(tmp_path):
    state(tmp_path, "as in git\n")
    run, _, report = drift(tmp_path, "as in git", fixture_fail=True, fail_on_change=False)
    assert run.returncode != 0, run.tail(60)
    said = " ".join(run.output.split())
    assert "drift: the check of tests/ci/drift_fixture.yml on local failed (rc=2), so drift is unknown here" in said, run.tail(60)
    assert "Fail when asked to: the fixture was asked to fail" in said
    assert not report.exists(), "a report was written for a check that failed"


@pytest.mark.unit
def test_bad_inputs_stop_before_the_check(tmp_path):
    run = run_playbook("playbooks/drift.yml", "inventories/local/hosts.yml", extra_vars={
        "preflight_guard_cluster": False, "drift_playbook": "../outside.yml", "drift_extra_vars": {"app_image_digest": DIGEST}})
    assert run.returncode != 0
    assert "drift: drift_playbook=../outside.yml must be a playbook of the project" in " ".join(run.output.split())
    assert "Run the playbook in check mode with diffs" not in run.output


# ---------------------------------------------------------------- on the test cluster


@pytest.fixture(scope="module")
def deployed(test_cluster):
    """The app in a namespace of its own, deployed by playbooks/app.yml with the local inventory."""
    namespace = f"oui-drift-t-{secrets.token_hex(3)}"
    run = run_playbook("playbooks/app.yml", extra_vars={"app_namespace": namespace}, env=test_cluster.env)
    assert run.returncode == 0, run.tail(80)
    yield test_cluster, namespace
    test_cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)


def drift_of_app(cluster, namespace, tmp_path):
    report = tmp_path / f"report-{secrets.token_hex(2)}.md"
    run = run_playbook("playbooks/drift.yml", extra_vars={
        "drift_playbook": "playbooks/app.yml", "drift_extra_vars": {"app_namespace": namespace},
        "drift_report_file": str(report)}, env=cluster.env)
    return run, report


@pytest.mark.cluster
def test_a_hand_made_change_on_the_cluster_shows_as_drift(deployed, tmp_path):
    cluster, namespace = deployed
    clean, _ = drift_of_app(cluster, namespace, tmp_path)
    assert clean.returncode == 0, clean.tail(80)
    assert "drift: 0 task(s) of playbooks/app.yml would change environment local" in " ".join(clean.output.split())

    # By hand, as an operator would: a ConfigMap value changed with kubectl.
    cluster.kubectl("-n", namespace, "patch", "configmap", "oui-app-config", "--type", "merge",
                    "-p", json.dumps({"data": {"LOG_LEVEL": "hand-made"}}))
    drifted, report = drift_of_app(cluster, namespace, tmp_path)
    assert drifted.returncode != 0, drifted.tail(80)
    said = " ".join(drifted.output.split())
    assert "drift: 1 task(s) of playbooks/app.yml would change environment local: oui.platform.app : Apply the app's objects" in said, \
        drifted.tail(80)
    assert "hand-made" in drifted.output and "hand-made" in report.read_text(), drifted.tail(80)
    live = json.loads(cluster.kubectl("-n", namespace, "get", "configmap", "oui-app-config", "-o", "json").stdout)
    assert live["data"]["LOG_LEVEL"] == "hand-made", "the drift check changed the cluster"

    # The repository wins again: a run of the app playbook, then no drift.
    fixed = run_playbook("playbooks/app.yml", extra_vars={"app_namespace": namespace}, env=cluster.env)
    assert fixed.returncode == 0 and fixed.changed >= 1, fixed.tail(80)
    again, _ = drift_of_app(cluster, namespace, tmp_path)
    assert again.returncode == 0, again.tail(80)
