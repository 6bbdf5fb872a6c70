"""The GitHub Actions workflows' policies, beyond what actionlint checks (make lint runs it):
third-party actions pinned by commit SHA with their tag, least privilege, one deployment per
environment, digests only, and the make targets CI calls exist."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = {p.name: p for p in sorted((REPO / ".github" / "workflows").glob("*.yml"))}
ACTIONS = sorted((REPO / ".github" / "actions").glob("*/action.yml"))
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$", re.M)


def load(path: Path) -> dict:
    # PyYAML reads the key `on` as True
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def test_the_workflows_of_the_chain_are_there():
    assert {"ci.yml", "deploy.yml", "deploy-beta.yml", "promote-prod.yml", "rollback.yml", "nightly-kind.yml",
            "plan.yml"} <= set(WORKFLOWS)


def test_third_party_actions_are_pinned_by_sha_with_their_tag():
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in [*WORKFLOWS.values(), *ACTIONS]:
        for m in USES.finditer(path.read_text()):
            ref = m["ref"]
            if ref.startswith("./"):
                assert (REPO / ref / "action.yml").is_file() or (REPO / ref).is_file(), f"{path.name}: {ref} missing"
                continue
            name, _, version = ref.partition("@")
            comment = (m["comment"] or "").strip()
            if "TODO(pin)" in comment:  # allowed only with the reason the SHA could not be looked up
                assert re.fullmatch(r"v\d+(\.\d+)*", version), f"{path.name}: {ref}"
                continue
            assert re.fullmatch(r"[0-9a-f]{40}", version), f"{path.name}: {ref} is not pinned by commit SHA"
            assert re.fullmatch(r"v\d+\.\d+\.\d+", comment), f"{path.name}: {ref} lacks its tag comment (# vX.Y.Z)"
            pins.setdefault(name, set()).add((version, comment))
    assert pins
    for name, seen in pins.items():
        assert len(seen) == 1, f"{name} pinned differently across workflows: {seen}"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_least_privilege(name):
    wf = load(WORKFLOWS[name])
    assert wf.get("permissions") == {}, f"{name}: the default token must have no permission (permissions: {{}})"
    for job_id, job in wf["jobs"].items():
        assert "permissions" in job, f"{name}/{job_id}: no explicit permissions"
        perms = job["permissions"] or {}
        assert "write-all" not in str(perms)
        if perms.get("id-token") == "write":
            # OIDC only where a job signs (cosign) or assumes a cloud role (deploy)
            text = yaml.safe_dump(job)
            assert "cosign sign" in text or "configure-aws-credentials" in text or "deploy.yml" in text, (
                f"{name}/{job_id}: id-token: write without signing or cloud credentials")


def test_deployments_use_protected_environments_one_at_a_time():
    deploy = load(WORKFLOWS["deploy.yml"])
    assert set(deploy["on"]) == {"workflow_call"}, "deploy.yml is only ever called by the chain"
    job = deploy["jobs"]["deploy"]
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    assert "self-hosted" in job["runs-on"], "the EKS endpoint is private: deployments run inside the VPC"
    assert "@${{ inputs.ee-digest }}" in job["container"]["image"]
    steps = "\n".join(f"{s.get('uses', '')}\n{yaml.safe_dump(s.get('with', {}))}\n{s.get('run', '')}" for s in job["steps"])
    assert "aws-actions/configure-aws-credentials" in steps and "role-to-assume" in steps
    assert "aws-access-key-id" not in steps and "secrets." not in steps, "no stored cloud key"
    assert 'ansible-playbook "$PLAYBOOK" -i "inventories/$ENVIRONMENT/hosts.yml"' in steps

    calls = {name: [j for j in load(p)["jobs"].values() if j.get("uses") == "./.github/workflows/deploy.yml"]
             for name, p in WORKFLOWS.items()}
    (beta,) = calls["deploy-beta.yml"]
    assert beta["with"]["environment"] == "beta" and beta["with"]["playbook"] == "playbooks/site.yml"
    (prod,) = calls["promote-prod.yml"]
    assert prod["with"]["environment"] == "prod" and prod["with"]["playbook"] == "playbooks/site.yml"
    (rollback,) = calls["rollback.yml"]
    assert rollback["with"]["playbook"] == "playbooks/app.yml"
    for call in (beta, prod, rollback):
        assert call["with"]["app-digest"].startswith("${{ needs.") and "digest" in call["with"]["app-digest"]
        assert call["permissions"] == {"contents": "read", "id-token": "write"}
    for playbook, inventory in (("playbooks/site.yml", "inventories/beta/hosts.yml"), ("playbooks/app.yml", "inventories/prod/hosts.yml")):
        assert (REPO / playbook).is_file() and (REPO / inventory).is_file()


def test_triggers():
    assert load(WORKFLOWS["deploy-beta.yml"])["on"] == {
        "workflow_run": {"workflows": ["ci"], "types": ["completed"], "branches": ["main"]}}
    assert load(WORKFLOWS["promote-prod.yml"])["on"] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert set(load(WORKFLOWS["nightly-kind.yml"])["on"]) == {"schedule", "workflow_dispatch"}
    ci = load(WORKFLOWS["ci.yml"])
    assert set(ci["on"]) == {"pull_request", "push"} and ci["on"]["push"] == {"branches": ["main"]}


def test_plans_run_in_check_mode_never_for_forks_and_after_approval():
    """plan.yml: the pull request's site.yml --check --diff against beta and prod, report only, on the
    environment's runners, with its plan role behind an approval; a fork's code never gets there."""
    wf = load(WORKFLOWS["plan.yml"])
    assert wf["on"] == {"pull_request": {"branches": ["main"]}}
    assert wf["jobs"]["resolve"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    plan = wf["jobs"]["plan"]
    assert plan["needs"] == "resolve" and plan["strategy"]["matrix"]["environment"] == ["beta", "prod"]
    assert plan["environment"]["name"] == "${{ matrix.environment }}-plan"
    assert plan["runs-on"][-1] == "oui-${{ matrix.environment }}"
    assert plan["container"]["image"].endswith("@${{ needs.resolve.outputs.ee-digest }}"), "the EE by digest"
    (run,) = [s["run"] for s in plan["steps"] if "playbooks/drift.yml" in s.get("run", "")]
    assert '"drift_fail_on_change": false' in run and "GITHUB_STEP_SUMMARY" in run
    assert "--check" not in run, "drift.yml runs the check itself; the outer run only reads the cluster"
    assert (REPO / "playbooks" / "drift.yml").is_file()


def test_rollback_takes_a_validated_digest():
    wf = load(WORKFLOWS["rollback.yml"])
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == ["beta", "prod"] and inputs["digest"]["required"]
    validate = yaml.safe_dump(wf["jobs"]["validate"])
    assert "^sha256:[0-9a-f]{64}$" in validate
    assert "resolve-image" in validate  # signed by this pipeline, or refused
    # inputs reach scripts through env, never spliced into the script
    for step in wf["jobs"]["validate"]["steps"]:
        assert "${{ inputs." not in step.get("run", ""), step


def test_digest_check_is_real():
    """The digest pattern the workflows use accepts a digest and refuses tags and near misses."""
    pattern = re.compile(r"^sha256:[0-9a-f]{64}$")
    assert pattern.match("sha256:" + "a" * 64)
    for bad in ("latest", "1.2.3", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "sha256:" + "a" * 64 + "\n"):
        assert not pattern.fullmatch(bad), bad


def test_no_latest_anywhere():
    for path in [*WORKFLOWS.values(), *ACTIONS, REPO / "awx" / "oui-platform.yml"]:
        assert not re.search(r"[:@]latest\b|latest=true", path.read_text()), path.name


def test_ci_runs_the_make_targets_a_developer_runs():
    ci = WORKFLOWS["ci.yml"].read_text()
    for target in ("make lint", "make test", "make image", "make ee-context"):
        assert target in ci.replace("make -s image", "make image"), target
    listed = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in ("lint", "test", "image", "ee-context", "actionlint"):
        assert re.search(rf"make {re.escape(target)}\s", listed), f"make {target} is not a target"
    image = load(WORKFLOWS["ci.yml"])["jobs"]["image"]
    push = next(s for s in image["steps"] if s.get("id") == "push")
    assert push["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert push["with"]["push"] == "${{ github.event_name == 'push' }}", "pull requests never push"
    steps = yaml.safe_dump(image["steps"])
    for needed in ("aquasecurity/trivy-action", "anchore/sbom-action", "cosign sign --yes", "type=sha,format=long"):
        assert needed in steps, needed
