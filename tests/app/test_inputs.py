"""Bad input stops in the preflight, before anything is applied, with a message naming the
variable. The runs render only (no cluster): a failure here happens before the render
step, which is the step an apply would take instead."""
from __future__ import annotations

import pytest

from app_render import FIXTURE_DIGEST, inventory
from helpers import run_playbook

pytestmark = pytest.mark.unit


def render_run(tmp_path, env="local", **extra):
    out = tmp_path / "out"
    run = run_playbook("playbooks/app.yml", inventory(env), extra_vars={**extra, "app_render_dir": str(out)})
    return run, out


@pytest.fixture(scope="module")
def many_bad_inputs(tmp_path_factory):
    """One run with several bad inputs: the preflight reports every one of them."""
    return render_run(tmp_path_factory.mktemp("bad"),
                      app_ingress_allowlist=["10.0.0.0/8", "10.0.0.300/8", "everyone"],
                      app_replicas=0, app_hpa_min_replicas=0, app_hpa_max_replicas=0,
                      app_ingress_host="", app_shutdown_delay_seconds=30,
                      app_config={"LOG-LEVEL": "info", "PORT": "9000"})


@pytest.mark.parametrize("needle", [
    'app_ingress_allowlist=["10.0.0.0/8", "10.0.0.300/8", "everyone"] must be a non-empty list of CIDRs',
    'not CIDRs: ["10.0.0.300/8", "everyone"]',
    "app_replicas=0 must be at least 1",
    "app_hpa_min_replicas=0 must be at least 1",
    "app_ingress_host='' must be a DNS host name",
    "app_shutdown_delay_seconds=30 at least 0 and below app_shutdown_timeout_seconds=20",
    'app_config keys must be environment variable names; these are not: ["LOG-LEVEL"]',
    "app_config sets PORT, which the role derives: use app_port",
])
def test_the_preflight_names_each_bad_input(many_bad_inputs, needle):
    run, out = many_bad_inputs
    assert run.returncode != 0
    assert needle in run.output.replace("\n        ", " "), run.tail(80)
    assert not out.exists(), "the render step ran despite bad input"


def test_a_tag_alone_is_refused_in_prod(tmp_path):
    run, out = render_run(tmp_path, "prod", app_image_tag="2.0.0")
    assert run.returncode != 0
    assert "environment prod deploys images by digest only: app_image_digest is empty" in run.output, run.tail()
    assert "app_image_tag='2.0.0' alone is refused" in run.output.replace("\n        ", " "), run.tail()
    assert not out.exists()


def test_a_malformed_digest_is_refused(tmp_path):
    run, out = render_run(tmp_path, "beta", app_image_digest="sha256:abc")
    assert run.returncode != 0
    assert "app_image_digest='sha256:abc' must look like sha256:<64 lowercase hex digits>" in run.output, run.tail()


def test_an_unknown_environment_is_refused(tmp_path):
    run, out = render_run(tmp_path, "prod", platform_environment="staging", app_image_digest=FIXTURE_DIGEST)
    assert run.returncode != 0
    assert "platform_environment=staging must be one of local, beta, prod" in run.output, run.tail()
    assert not out.exists()


def test_a_type_error_is_caught_by_the_argument_spec(tmp_path):
    run, out = render_run(tmp_path, app_replicas="many", app_monitoring="sometimes")
    assert run.returncode != 0
    assert "app_replicas" in run.output and "app_monitoring" in run.output, run.tail()
    assert not out.exists()
