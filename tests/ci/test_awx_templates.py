"""The AWX objects as code (awx/oui-platform.yml): they import as AWX would read them, and every
job template's exact playbook, inventory and extra vars run through ansible-runner, the engine AWX
runs jobs with; against the test cluster where the template targets a cluster.

A template whose playbook does not exist yet is reported NOT RUNNABLE YET (a machine skip, which
fails `make test`), never a pass.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from dateutil.rrule import rrulestr

from tests.ci.awx import (ASSETS_FILE, NATURAL_KEY, REPO, SECTIONS, SURVEY_TYPES, TEST_DIGEST, all_objects,
                          credential_type, freeze, inject, load_assets, runner_run, templates, venv_env)
from helpers import require

ASSETS = load_assets()
TEMPLATES = templates(ASSETS)
# Playbooks not written yet: their templates may exist so that AWX is complete on the day
# they land; until then their runs are reported as not runnable. (None pending today.)
PENDING_PLAYBOOKS: dict[str, str] = {}
# Playbooks that need Velero: on the test cluster they run against the local backup stack.
BACKUP_PLAYBOOKS = {"playbooks/backup_now.yml", "playbooks/restore_drill.yml"}
# site.yml: on beta and prod it creates cloud resources first (network, EKS), runnable only with
# AWS; on local it is the whole platform, which the real-node tests converge (the `platform`
# fixture), so its template runs there, on that platform (tests/node/test_platform_https.py).
SITE_PLAYBOOKS = {"playbooks/site.yml"}


def by_type(kind: str) -> list[dict]:
    return [obj for k, obj in all_objects(ASSETS) if k == kind]


# ---------------------------------------------------------------- the file, as `awx import` reads it


@pytest.mark.unit
def test_only_exportable_sections():
    assert set(ASSETS) <= set(SECTIONS), f"not an awx export section: {set(ASSETS) - set(SECTIONS)}"


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(NATURAL_KEY))
def test_natural_keys_have_awxkit_shape(kind):
    objects = by_type(kind)
    assert objects, f"no {kind} in {ASSETS_FILE.name}"
    seen = set()
    for obj in objects:
        key = obj["natural_key"]
        assert key["type"] == kind, key
        assert set(key) == {*NATURAL_KEY[kind], "type"}, f"{kind} natural key fields: {sorted(key)}"
        for name in ("name", "identifier"):
            if name in key:
                assert key[name] == obj[name], f"{kind} natural key {key[name]!r} != object {obj[name]!r}"
        assert freeze(key) not in seen, f"duplicate {kind}: {key}"
        seen.add(freeze(key))


@pytest.mark.unit
def test_every_reference_resolves_to_an_exported_object():
    """awx import resolves references by natural key: one to nothing would import as null."""
    known = {freeze(obj["natural_key"]) for _, obj in all_objects(ASSETS)}
    ref_fields = ("organization", "project", "inventory", "source_project", "default_environment",
                  "unified_job_template", "workflow_job_template")
    checked = 0
    for kind, obj in all_objects(ASSETS):
        refs = [obj[f] for f in ref_fields if isinstance(obj.get(f), dict)]
        for edges in ("success_nodes", "failure_nodes", "always_nodes"):
            refs += (obj.get("related") or {}).get(edges) or []
        for ref in refs:
            assert freeze(ref) in known, f"{kind} {obj.get('name', obj.get('identifier'))}: dangling reference {ref}"
            checked += 1
    assert checked >= 30, checked


@pytest.mark.unit
def test_inventories_are_sourced_from_the_repository():
    for src in ASSETS["inventory_sources"]:
        env = src["inventory"]["name"].removeprefix("oui-")
        assert src["source"] == "scm" and src["source_project"]["name"] == "oui-platform"
        assert src["source_path"] == f"inventories/{env}/hosts.yml"
        assert (REPO / src["source_path"]).is_file()
        assert src["update_on_launch"] and src["overwrite"], "AWX must re-read the repository before each job"
    assert {s["inventory"]["name"] for s in ASSETS["inventory_sources"]} == {"oui-local", "oui-beta", "oui-prod"}


@pytest.mark.unit
def test_the_templates_the_platform_needs_are_there():
    names = {t.name for t in TEMPLATES}
    for env in ("local", "beta", "prod"):
        for what in ("site", "app deploy", "backup now", "restore drill"):
            assert f"OUI {what} - {env}" in names
    for t in TEMPLATES:
        assert t.inventory_path == f"inventories/{t.environment}/hosts.yml", t.name
        assert t.playbook in PENDING_PLAYBOOKS or (REPO / t.playbook).is_file(), (
            f"{t.name} runs {t.playbook}, which is neither in the repository nor known as pending")
    for jt in ASSETS["job_templates"]:
        assert jt["allow_simultaneous"] is False, f"{jt['name']}: one job per template at a time"


@pytest.mark.unit
def test_surveys_pass_awx_validation():
    """The rules of AWX 24.6.1's survey_spec endpoint (AWX's awx.api.views, _validate_spec_data)."""
    specs = [(jt["name"], jt["related"]["survey_spec"]) for jt in [*ASSETS["job_templates"], *ASSETS["workflow_job_templates"]]
             if jt.get("survey_enabled")]
    assert specs
    for name, spec in specs:
        assert isinstance(spec["name"], str) and isinstance(spec["description"], str), name
        assert isinstance(spec["spec"], list) and spec["spec"], name
        variables = [q["variable"] for q in spec["spec"]]
        assert len(variables) == len(set(variables)), f"{name}: duplicate survey variable"
        for q in spec["spec"]:
            for key, typ in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
                assert isinstance(q.get(key), typ), f"{name}: survey question needs {key} ({typ.__name__})"
            assert q["type"] in SURVEY_TYPES, q["type"]
            if q.get("default") not in (None, ""):
                assert isinstance(q["default"], SURVEY_TYPES[q["type"]])
            for bound in ("min", "max"):
                assert q.get(bound) is None or isinstance(q[bound], int)


@pytest.mark.unit
def test_deploys_to_beta_and_prod_ask_for_a_digest_not_a_tag():
    for t in TEMPLATES:
        if t.environment in ("beta", "prod") and ("app deploy" in t.name or "site" in t.name):
            digest = next(q for q in t.survey if q["variable"] == "app_image_digest")
            assert digest["required"] and digest["default"] == ""
            assert digest["min"] == digest["max"] == len(TEST_DIGEST)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", TEST_DIGEST)


@pytest.mark.unit
def test_release_workflow_is_beta_then_approval_then_prod():
    (wf,) = ASSETS["workflow_job_templates"]
    nodes = {n["identifier"]: n for n in wf["related"]["workflow_nodes"]}
    assert wf["related"]["survey_spec"]["spec"][0]["variable"] == "app_image_digest"

    def next_of(node):
        return [edge["identifier"] for edge in node["related"]["success_nodes"]]

    children = {e["identifier"] for n in nodes.values() for e in n["related"]["success_nodes"]}
    (root,) = set(nodes) - children
    chain = [root]
    while next_of(nodes[chain[-1]]):
        (following,) = next_of(nodes[chain[-1]])
        chain.append(following)
    assert len(chain) == len(nodes) == 3
    first, approval, last = (nodes[i] for i in chain)
    assert first["unified_job_template"]["name"] == "OUI site - beta"
    assert "unified_job_template" not in approval, "an approval node runs no template"
    assert approval["related"]["create_approval_template"]["timeout"] > 0, "an approval that never expires"
    assert last["unified_job_template"]["name"] == "OUI site - prod"
    for node in nodes.values():
        assert not node["related"]["failure_nodes"] and not node["related"]["always_nodes"], (
            "prod must be reached only through beta's success and the approval")


@pytest.mark.unit
def test_restore_drills_are_scheduled():
    schedules = by_type("schedule")
    drilled = {s["unified_job_template"]["name"] for s in schedules if s["enabled"]}
    assert {"OUI restore drill - beta", "OUI restore drill - prod"} <= drilled
    after = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for s in schedules:
        rule = rrulestr(s["rrule"].replace(" RRULE:", "\nRRULE:"), forceset=True)
        runs = [rule.after(after)]
        for _ in range(3):
            runs.append(rule.after(runs[-1]))
        gaps = {b - a for a, b in zip(runs, runs[1:])}
        expected = timedelta(days=7) if "weekly" in s["name"] else timedelta(days=1)
        assert gaps == {expected}, f"{s['name']}: runs {runs}"
        print(f"schedule {s['name']!r}: next runs {[r.isoformat() for r in runs]}")


@pytest.mark.unit
def test_drift_is_checked_every_day_in_beta_and_prod():
    """The scheduled drift check: playbooks/drift.yml, which fails on drift (no extra var turns
    that off), on each cloud environment, daily."""
    drift = {t.environment: t for t in TEMPLATES if t.playbook == "playbooks/drift.yml"}
    assert set(drift) == {"beta", "prod"}, sorted(drift)
    for env, t in drift.items():
        assert t.name == f"OUI drift - {env}" and "drift_fail_on_change" not in t.extra_vars and not t.survey
    scheduled = {s["unified_job_template"]["name"] for s in by_type("schedule") if s["enabled"] and "daily" in s["name"]}
    assert {"OUI drift - beta", "OUI drift - prod"} <= scheduled


@pytest.mark.unit
def test_no_secret_is_exported():
    text = ASSETS_FILE.read_text()
    assert "credentials" not in ASSETS, "credentials are created in AWX, not exported"
    assert not re.search(r"AKIA[0-9A-Z]{16}|\$encrypted\$|BEGIN [A-Z ]*PRIVATE KEY|client-key-data", text)
    for ct in ASSETS["credential_types"]:
        for f in ct["inputs"]["fields"]:
            if f.get("secret"):
                assert "default" not in f, f"{ct['name']}.{f['id']}: a secret field with a default"


@pytest.mark.unit
def test_credential_injectors_give_what_the_inventories_read(tmp_path):
    """The kubeconfig credential exports KUBECONFIG / OUI_KUBE_CONTEXT, the variables the
    inventories read; the AWS one writes a profile that assumes a role with a web identity."""
    kube = inject(credential_type(ASSETS, "OUI kubeconfig"), {"kubeconfig": "apiVersion: v1\nkind: Config\n", "kube_context": ""},
                  tmp_path)
    assert Path(kube["KUBECONFIG"]).read_text().startswith("apiVersion: v1")
    for env in ("local", "beta", "prod"):
        platform = (REPO / "inventories" / env / "group_vars" / "all" / "platform.yml").read_text()
        assert "lookup('ansible.builtin.env', 'KUBECONFIG')" in platform, env
    local = (REPO / "inventories" / "local" / "group_vars" / "all" / "platform.yml").read_text()
    assert "'OUI_KUBE_CONTEXT'" in local and "OUI_KUBE_CONTEXT" in kube

    aws = inject(credential_type(ASSETS, "OUI AWS deploy role"), {"role_arn": "arn:aws:iam::123456789012:role/oui-beta-deployer",
                                                         "region": "eu-west-3"}, tmp_path)
    profile = Path(aws["AWS_CONFIG_FILE"]).read_text()
    assert "[profile oui-deploy]" in profile and aws["AWS_PROFILE"] == "oui-deploy"
    assert "role_arn = arn:aws:iam::123456789012:role/oui-beta-deployer" in profile
    assert "web_identity_token_file = /var/run/secrets/eks.amazonaws.com/serviceaccount/token" in profile
    assert "aws_secret_access_key" not in profile


@pytest.mark.unit
def test_execution_environment_is_versioned_not_latest():
    (ee,) = ASSETS["execution_environments"]
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert ee["image"].endswith(f"/oui-platform-ee:{version}"), ee["image"]
    assert ASSETS["projects"][0]["default_environment"] == ee["natural_key"]


# ---------------------------------------------------------------- each template, run as AWX runs it


def require_playbook(template) -> None:
    if template.playbook in PENDING_PLAYBOOKS:
        require((REPO / template.playbook).is_file(),
                f"NOT RUNNABLE YET: AWX template {template.name!r} runs {template.playbook}, which does not exist yet "
                f"({PENDING_PLAYBOOKS[template.playbook]})")


@pytest.mark.unit
@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_template_loads_in_ansible_runner(template, tmp_path):
    """Playbook, inventory (with its group_vars) and extra vars load together: --syntax-check."""
    require_playbook(template)
    runner, output = runner_run(tmp_path, template, venv_env(), cmdline="--syntax-check")
    assert runner.rc == 0, output[-3000:]
    assert f"playbook: {template.playbook}" in output


@pytest.fixture
def cluster(request):
    try:
        return request.getfixturevalue("test_cluster")
    except pytest.FixtureLookupError:
        require(False, "the test_cluster fixture (tests/testcluster.py) is not available")


def kubeconfig_as(cluster, context: str, tmp_path: Path) -> str:
    """The test cluster's kubeconfig with its context renamed, as a wrong kubeconfig would name it."""
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    current = config["current-context"]
    for ctx in config["contexts"]:
        if ctx["name"] == current:
            ctx["name"] = context
    config["current-context"] = context
    return yaml.safe_dump(config)


# site.yml on beta and prod starts with the AWS network and EKS: those two templates are not run
# against the test cluster (their playbook, inventory and extra vars are loaded by
# test_template_loads_in_ansible_runner; the deploy workflows run them against AWS). site.yml on
# local runs in tests/node/test_platform_https.py, on the platform its fixture converged.
CLUSTER_RUNNABLE = [t for t in TEMPLATES if t.playbook not in SITE_PLAYBOOKS]


@pytest.mark.unit
def test_only_the_site_templates_are_run_elsewhere():
    left = sorted(t.name for t in TEMPLATES if t not in CLUSTER_RUNNABLE)
    assert left == ["OUI site - beta", "OUI site - local", "OUI site - prod"], left


@pytest.mark.cluster
@pytest.mark.parametrize("template", CLUSTER_RUNNABLE, ids=lambda t: t.name)
def test_template_runs_against_the_test_cluster(template, cluster, tmp_path, request):
    """local: the job succeeds. beta/prod pointed at the test cluster (stamped local): the
    environment guard refuses and nothing changes - what AWX would do with a wrong credential."""
    require_playbook(template)
    kubeconfig = (Path(cluster.kubeconfig).read_text() if template.environment == "local"
                  else kubeconfig_as(cluster, f"oui-{template.environment}", tmp_path))
    env = inject(credential_type(ASSETS, "OUI kubeconfig"), {"kubeconfig": kubeconfig, "kube_context": ""}, tmp_path)
    env = {**cluster.env, **env, "ANSIBLE_NOCOLOR": "1"}
    env["PATH"] = f"{venv_env()['PATH']}:{cluster.env.get('PATH', '')}"
    # The test cluster is shared by every test session on the machine: a local run that changes
    # it works in a namespace of its own (the one variable added to the template's), removed after.
    namespace = f"oui-awx-t-{secrets.token_hex(3)}"
    scratch = [namespace]
    isolate = None
    if template.environment == "local":
        isolate = {"app_namespace": namespace}
        if template.playbook in BACKUP_PLAYBOOKS:
            stack = request.getfixturevalue("backup_stack")  # a running Velero, its location Available
            env["PATH"] = f"{Path(stack.info['VELERO']).parent}:{env['PATH']}"
            if template.playbook == "playbooks/backup_now.yml":
                cluster.kubectl("create", "namespace", namespace)
                cluster.kubectl("-n", namespace, "create", "configmap", "awx", "--from-literal=a=1")
                isolate = {"backup_now_namespaces": [namespace]}
            else:
                scratch.append(f"{namespace}-copy")
                isolate = {"restore_drill_namespace": namespace, "restore_drill_target_namespace": scratch[1]}
    try:
        runner, output = runner_run(tmp_path, template, env, isolate=isolate)
    finally:
        if isolate:
            for ns in scratch:
                cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)
    changed = sum((runner.stats or {}).get("changed", {}).values())
    print(f"{template.name}: status={runner.status} rc={runner.rc} changed={changed}")
    if template.environment == "local":
        assert runner.status == "successful" and runner.rc == 0, output[-4000:]
        assert changed > 0, "a first run into a fresh namespace that changes nothing did not deploy anything"
    else:
        assert runner.status == "failed", output[-4000:]
        assert "environment guard" in output, output[-4000:]
        assert changed == 0, f"the guard let {changed} changes through:\n{output[-4000:]}"
