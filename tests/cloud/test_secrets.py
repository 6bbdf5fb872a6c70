"""beta and prod get their secrets on every deploy path, from AWS Secrets Manager on the local AWS
endpoint (moto_server): the first step of site.yml, the command of .github/workflows/deploy.yml with
the credentials CI has, and every beta and prod AWX job template through ansible-runner with the
`OUI AWS deploy role` credential injected as AWX injects it. The value reaches the variable the
role reads and never the output; a missing secret stops the run before anything changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml

from cloud.awslocal import REGION
from helpers import REPO, VENV_BIN, run_playbook
from tests.ci.awx import TEST_DIGEST, credential_type, inject, load_assets, runner_run, templates

pytestmark = pytest.mark.cloud

ENVIRONMENTS = ("beta", "prod")
ACCOUNT = "123456789012"  # moto's account
# A web identity token as GitHub's OIDC provider or EKS's projected service account token would
# hand over (moto checks its shape, not its signature).
WEB_IDENTITY_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOm91aS10ZWFtL291aS1wbGF0Zm9ybTplbnZpcm9ubWVudDpiZXRhIn0."
AWX_TEMPLATES = [t for t in templates(load_assets()) if t.environment in ENVIRONMENTS]
# Run only the secret reads and their consumer's checks: the cluster, chart and AWS steps of the
# playbooks are other tests' business (AWX and deploy.yml run them whole).
SECRET_TAGS = {"ANSIBLE_RUN_TAGS": "preflight_secrets,monitoring_preflight", "ANSIBLE_SKIP_TAGS": "always"}
# Playbooks whose runs read every secret of the environment (the others run no role that has one).
READS_EVERY_SECRET = {"playbooks/site.yml"}


def named_secrets(env: str) -> dict[str, str]:
    """platform_secrets of an inventory: variable -> secret name."""
    path = REPO / "inventories" / env / "group_vars" / "all" / "secrets.yml"
    return yaml.safe_load(path.read_text())["platform_secrets"]


@pytest.fixture(autouse=True)
def no_aws_identity_of_the_machine(monkeypatch):
    """The runs get only the credentials a test gives them, never the machine's own."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)


def no_local_credentials(aws) -> dict[str, str]:
    """No profile file, no instance metadata, every call to moto."""
    return {"AWS_ENDPOINT_URL": aws.url, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": REGION}


@pytest.fixture
def stored(aws):
    """Every secret beta and prod name, created in the (empty) account with a random value."""
    client = aws.client("secretsmanager")
    values = {}
    for env in ENVIRONMENTS:
        for variable, name in named_secrets(env).items():
            values[(env, variable)] = secrets.token_urlsafe(24)
            client.create_secret(Name=name, SecretString=values[(env, variable)])
    return values


def ci_credentials(aws, env: str) -> dict[str, str]:
    """What aws-actions/configure-aws-credentials exports: a session of the environment's deploy role,
    from AssumeRoleWithWebIdentity with the job's OIDC token."""
    creds = aws.client("sts").assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/oui-{env}-deployer", RoleSessionName=f"gha-{env}-1",
        WebIdentityToken=WEB_IDENTITY_TOKEN, DurationSeconds=3600)["Credentials"]
    return {**no_local_credentials(aws), "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"], "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_REGION": REGION}


def deploy_step() -> str:
    """The shell of deploy.yml's ansible-playbook step, as the runner executes it."""
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "deploy.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["deploy"]["steps"] if s.get("name", "").startswith("ansible-playbook")]
    return step["run"]


def run_deploy_step(env: str, playbook: str, aws_env: dict, tags: dict | None = None) -> subprocess.CompletedProcess:
    run_env = {**os.environ, **aws_env, **(tags or {}), "ENVIRONMENT": env, "PLAYBOOK": playbook, "APP_DIGEST": TEST_DIGEST,
               "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
               "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", deploy_step()], cwd=REPO, env=run_env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900, check=False)


def said(output: str) -> str:
    """The output with the YAML callback's line folding undone."""
    return " ".join(output.split())


def assert_read(output: str, env: str, identity: str) -> None:
    names = named_secrets(env)
    pairs = ", ".join(f"{variable} <- {name}" for variable, name in names.items())
    expected = f"secrets: {len(names)} read from AWS Secrets Manager ({REGION}) as {identity}"
    assert expected in said(output) and pairs in said(output), output[-3000:]


def assert_never_printed(output: str, stored: dict) -> None:
    leaked = [key for key, value in stored.items() if value in output]
    assert not leaked, f"secret values printed in the output: {leaked}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_first_step_of_site_gives_the_roles_their_secrets(aws, stored, env, tmp_path):
    """playbooks/preflight.yml as site.yml's first step runs it; the monitoring role's own check
    passes and the variable holds the stored value (compared by digest), printed nowhere, even at -vvv."""
    out = tmp_path / "digests.json"
    run = run_playbook("tests/cloud/secrets.yml", f"inventories/{env}/hosts.yml", extra_vars={"secrets_out": str(out)},
                       env={**ci_credentials(aws, env)}, extra_args=["-vvv"])
    assert run.returncode == 0, run.tail(80)
    assert_read(run.output, env, f"arn:aws:sts::{ACCOUNT}:assumed-role/oui-{env}-deployer/gha-{env}-1")
    digests = json.loads(out.read_text())
    for variable in named_secrets(env):
        assert digests[variable] == hashlib.sha256(stored[(env, variable)].encode()).hexdigest(), variable
    assert_never_printed(run.output, stored)
    print(f"{env}: {len(digests)} secret(s) reached their variables: {sorted(digests)}")


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("playbook", ["playbooks/site.yml", "playbooks/app.yml"])
def test_the_deploy_workflow_reads_them_with_the_role_it_assumed(aws, stored, env, playbook):
    """deploy.yml's own command, with a session of the deploy role as configure-aws-credentials
    leaves it: site.yml reads every secret of the environment (and the monitoring role accepts
    it); app.yml, which rollbacks run with the narrower app role, reads none but the app's."""
    run = run_deploy_step(env, playbook, ci_credentials(aws, env), SECRET_TAGS)
    assert run.returncode == 0, run.stdout[-4000:]
    if playbook == "playbooks/site.yml":
        assert_read(run.stdout, env, f"arn:aws:sts::{ACCOUNT}:assumed-role/oui-{env}-deployer/gha-{env}-1")
        assert "Check Grafana's admin password is set" in run.stdout, run.stdout[-3000:]
    else:
        assert not any(v.startswith("app_") for v in named_secrets(env)), "the app now has secrets: assert they are read"
        assert "read from AWS Secrets Manager" not in run.stdout, run.stdout[-3000:]
    assert_never_printed(run.stdout, stored)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_missing_secret_stops_site_before_anything_changes(aws, env):
    """No secret in the account: the deploy command stops in site.yml's first step, naming the
    variable, the secret and who asked, with the command that creates it; no network is built."""
    run = run_deploy_step(env, "playbooks/site.yml", ci_credentials(aws, env))
    assert run.returncode != 0, run.stdout[-3000:]
    (variable, name), = named_secrets(env).items()
    text = said(run.stdout)
    assert f"secrets: {variable} comes from the secret '{name}' in AWS Secrets Manager ({REGION})" in text, text[-3000:]
    assert f"arn:aws:sts::{ACCOUNT}:assumed-role/oui-{env}-deployer/gha-{env}-1 cannot read" in text
    assert f"aws secretsmanager create-secret --region {REGION} --name {name}" in text
    assert "PLAY [Cloud network]" not in run.stdout, "the run went past the preflight"
    assert aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"oui-{env}*"]}])["Vpcs"] == []


def test_every_beta_and_prod_template_is_tested_here():
    names = sorted(t.name for t in AWX_TEMPLATES)
    assert {f"OUI site - {env}" for env in ENVIRONMENTS} <= set(names), names
    assert len(names) >= 8, names


@pytest.mark.parametrize("template", AWX_TEMPLATES, ids=lambda t: t.name)
def test_awx_templates_read_them_through_the_deploy_role_credential(aws, stored, template, tmp_path):
    """ansible-runner with the template's playbook, inventory and survey answers, and only the
    environment the `OUI AWS deploy role` credential type injects (a profile that assumes the
    deploy role with the pod's web identity token file, as IRSA provides it)."""
    token = tmp_path / "token"
    token.write_text(WEB_IDENTITY_TOKEN)
    credential = credential_type(load_assets(), "OUI AWS deploy role")
    role = f"arn:aws:iam::{ACCOUNT}:role/oui-{template.environment}-deployer"
    injected = inject(credential, {"role_arn": role, "region": REGION, "token_file": str(token)}, tmp_path)
    env = {**no_local_credentials(aws), **injected, **SECRET_TAGS, "ANSIBLE_NOCOLOR": "1",
           "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    runner, output = runner_run(tmp_path, template, env)
    print(f"{template.name}: status={runner.status} rc={runner.rc}")
    assert runner.status == "successful" and runner.rc == 0, output[-4000:]
    if template.playbook in READS_EVERY_SECRET:
        assert_read(output, template.environment, f"arn:aws:sts::{ACCOUNT}:assumed-role/oui-{template.environment}-deployer/")
        assert "Check Grafana's admin password is set" in output, output[-3000:]
    else:  # the playbook runs no role that has a secret today: it reads none, and needs no AWS
        assert "read from AWS Secrets Manager" not in output, output[-3000:]
    assert_never_printed(output, stored)
