"""The shared preflight refuses bad inventories before anything changes."""
from __future__ import annotations

import pytest

from helpers import run_playbook

pytestmark = pytest.mark.unit


def test_preflight_passes_on_the_local_inventory_without_a_cluster():
    run = run_playbook("playbooks/preflight.yml", extra_vars={"preflight_guard_cluster": False})
    assert run.returncode == 0, run.tail()
    assert run.failed == 0 and run.recap, run.tail()


@pytest.mark.parametrize("bad, needle", [
    ({"platform_environment": "staging"}, "platform_environment=staging must be one of local, beta, prod"),
    ({"platform_cluster_name": ""}, "platform_cluster_name="),
    # declared in the preflight's argument spec: validated before any task runs
    ({"platform_cluster_kind": "nope"}, "value of platform_cluster_kind must be one of: test, kind, eks, adopted, got: nope"),
])
def test_preflight_names_the_bad_variable(bad, needle):
    run = run_playbook("playbooks/preflight.yml", extra_vars={"preflight_guard_cluster": False, **bad})
    assert run.returncode != 0
    assert needle in run.output, run.tail()


@pytest.mark.parametrize("secrets, needle", [
    (["oui/beta/grafana-admin-password"], "argument 'platform_secrets' is of type list"),  # the argument spec
    ({"monitoring_grafana_admin_password": "oui/beta/grafana admin"}, "platform_secrets={\"monitoring_grafana_admin_password\": \"oui/beta/grafana admin\"}"),
    ({"Monitoring-Password": "oui/beta/x"}, "must map variable names"),
    ({"monitoring_grafana_admin_password": "oui/local/x"}, "read in platform_aws_region=<undefined>"),
], ids=["not-a-mapping", "bad-secret-name", "bad-variable-name", "no-region"])
def test_preflight_refuses_a_bad_list_of_secrets_before_any_aws_call(secrets, needle):
    """platform_secrets is checked before any call: the local inventory names no region and no
    AWS endpoint is reachable here, so a call would fail differently."""
    run = run_playbook("playbooks/preflight.yml", extra_vars={"preflight_guard_cluster": False, "platform_secrets": secrets},
                       env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    assert run.returncode != 0
    assert needle in " ".join(run.output.split()), run.tail()
    assert "Ask AWS which identity reads the secrets" not in run.output, "an AWS call was attempted"


def test_playbooks_read_only_the_secrets_of_the_roles_they_run():
    """site.yml's first step reads every secret; app.yml (rollbacks, with the narrower app role)
    only the app's; network and cluster none."""
    import yaml

    from helpers import REPO

    expected = {"network.yml": ["cloud_network"], "cluster.yml": ["eks_cluster"], "app.yml": ["app"], "backups.yml": ["velero"],
                "access.yml": ["access"], "verify.yml": [], "adopt.yml": [], "backup_now.yml": ["restore_drill"],
                "restore_drill.yml": ["restore_drill"],
                "addons.yml": ["cluster_autoscaler", "aws_load_balancer_controller", "metrics_server", "monitoring",
                               "traefik", "ingress_nginx", "cert_manager", "logging"]}
    for name, roles in expected.items():
        first = yaml.safe_load((REPO / "playbooks" / name).read_text())[0]
        assert first["ansible.builtin.import_playbook"] == "preflight.yml", name
        assert first["vars"]["preflight_secrets_roles"] == roles, name
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    assert site[0]["ansible.builtin.import_playbook"] == "preflight.yml" and "preflight_secrets_roles" not in site[0]["vars"]


@pytest.mark.parametrize("roles, secrets, reads", [
    (["eks_cluster"], {"monitoring_grafana_admin_password": "oui/local/grafana", "app_api_token": "oui/local/token"}, False),
    (["app"], {"monitoring_grafana_admin_password": "oui/local/grafana"}, False),
    (["app"], {"monitoring_grafana_admin_password": "oui/local/grafana", "app_api_token": "oui/local/token"}, True),
    (["*"], {"monitoring_grafana_admin_password": "oui/local/grafana"}, True),
    ([], {"monitoring_grafana_admin_password": "oui/local/grafana"}, False),
], ids=["other-role", "app-without-app-secrets", "app-with-an-app-secret", "every-secret", "none"])
def test_a_play_reads_the_secrets_of_its_roles_and_no_others(roles, secrets, reads):
    """A secret belongs to the role its variable is prefixed with. The AWS endpoint here answers
    nothing: a play with nothing to read succeeds without a call, one with something to read tries."""
    run = run_playbook("playbooks/preflight.yml", extra_vars={
        "preflight_guard_cluster": False, "preflight_secrets_roles": roles, "platform_secrets": secrets,
        "platform_aws_region": "eu-west-3"},
        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
             "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    tried = "Ask AWS which identity reads the secrets" in run.output and "skipping" not in run.output.split(
        "Ask AWS which identity reads the secrets")[1][:400]
    assert tried == reads, run.tail()
    assert (run.returncode == 0) == (not reads), run.tail()
