"""roles/helm_release against the test cluster, with a chart this test builds itself:
CRDs applied before the chart, install, a re-run with changed=0, a values change that
upgrades, check mode that reports without changing, a failing upgrade rolled back
atomically, and a plain error when a chart cannot be reached."""
from __future__ import annotations

import json
import secrets
import textwrap

import pytest
import yaml

from addons_cluster import cluster  # noqa: F401  (fixture)
from helpers import run_playbook

pytestmark = pytest.mark.cluster

CHART = "oui-probe"
GROUP = "probes.test.oui.io"


def build_chart(root, version="0.1.0"):
    """A tiny chart: a CRD in crds/, a custom resource of it, a ConfigMap carrying the values,
    and, when `broken` is set, a Service the API server refuses (port out of range)."""
    (root / "crds").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": CHART, "version": version, "type": "application",
        "description": "Test chart built by tests/addons/test_helm_release.py"}))
    (root / "values.yaml").write_text("message: hello\nbroken: false\n")
    (root / "crds" / "probes.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"probes.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "probes", "singular": "probe", "kind": "Probe"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "message": {"type": "string"}}}}}}}]}}))
    # A dependency with CRDs of its own, as kube-prometheus-stack ships its CRDs (charts/crds/crds/).
    sub = root / "charts" / "crdsub"
    (sub / "crds").mkdir(parents=True)
    (sub / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "crdsub", "version": "0.1.0"}))
    gadget = yaml.safe_load((root / "crds" / "probes.yaml").read_text())
    gadget["metadata"]["name"] = f"gadgets.{GROUP}"
    gadget["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"}
    (sub / "crds" / "gadgets.yaml").write_text(yaml.safe_dump(gadget))
    (root / "templates" / "probe.yaml").write_text(textwrap.dedent(f"""\
        apiVersion: {GROUP}/v1
        kind: Probe
        metadata:
          name: {{{{ .Release.Name }}}}
        spec:
          message: {{{{ .Values.message | quote }}}}
        """))
    (root / "templates" / "configmap.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
        data:
          message: {{ .Values.message | quote }}
        """))
    (root / "templates" / "broken.yaml").write_text(textwrap.dedent("""\
        {{- if .Values.broken }}
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}-broken
        spec:
          ports:
            - port: 70000
        {{- end }}
        """))
    return root


@pytest.fixture(scope="module")
def release(cluster, tmp_path_factory, versions):
    chart = build_chart(tmp_path_factory.mktemp("chart") / CHART)
    name = f"probe-{secrets.token_hex(3)}"
    namespace = f"oui-t-helm-{secrets.token_hex(3)}"
    pinned = {**versions, "charts": {**versions["charts"], CHART: {
        "repo": "https://charts.invalid.example", "chart": CHART, "version": "0.1.0"}}}

    def run(values=None, check=False, **more):
        extra = {"platform_versions": pinned, "helm_release_name": name, "helm_release_namespace": namespace,
                 "helm_release_chart": CHART, "helm_release_crds": "chart", "helm_release_timeout": 120,
                 "helm_release_chart_sources": {CHART: {"path": str(chart)}},
                 "helm_release_values": values or {"message": "hello"}, **more}
        return run_playbook("tests/addons/helm_release.yml", extra_vars=extra, check=check, diff=check, env=cluster.env)

    yield type("Release", (), {"run": staticmethod(run), "name": name, "namespace": namespace, "chart": chart})
    cluster.helm("uninstall", name, "-n", namespace, "--wait", check=False)
    cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)
    cluster.kubectl("delete", "crd", f"probes.{GROUP}", f"gadgets.{GROUP}", "--ignore-not-found", check=False)


def message(cluster, release):
    cm = cluster.get("configmap", f"{release.name}-config", "-n", release.namespace)
    return cm and cm["data"]["message"]


def status(cluster, release):
    out = cluster.helm("status", release.name, "-n", release.namespace, "-o", "json").stdout
    return json.loads(out)


def test_first_install_applies_the_crds_before_the_chart(cluster, release):
    cluster.kubectl("delete", "crd", f"probes.{GROUP}", f"gadgets.{GROUP}", "--ignore-not-found")
    run = release.run()
    assert run.returncode == 0, run.tail()
    assert run.changed > 0
    crd = cluster.get("crd", f"probes.{GROUP}")
    # Applied server-side by the helper (Helm was told to skip crds/): the field manager says so.
    assert any(m["manager"] == "oui.platform" and m["operation"] == "Apply" for m in crd["metadata"]["managedFields"])
    assert cluster.get("crd", f"gadgets.{GROUP}") is not None, "a dependency's CRDs are applied too"
    # The chart's custom resource could only be created because its CRD was there first.
    probe = cluster.get(f"probes.{GROUP}", release.name, "-n", release.namespace)
    assert probe["spec"]["message"] == "hello"
    assert message(cluster, release) == "hello"
    ns = cluster.get("namespace", release.namespace)
    assert ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform"
    st = status(cluster, release)
    assert st["info"]["status"] == "deployed" and st["version"] == 1


def test_rerun_reports_no_change(release):
    run = release.run()
    assert run.returncode == 0, run.tail()
    assert run.changed == 0, run.tail()
    assert "Idempotency checks are currently disabled" not in run.output


def test_check_mode_reports_a_values_change_without_making_it(cluster, release):
    run = release.run({"message": "would change"}, check=True)
    assert run.returncode == 0, run.tail()
    assert run.changed > 0
    assert message(cluster, release) == "hello"
    assert status(cluster, release)["version"] == 1


def test_values_change_upgrades(cluster, release):
    run = release.run({"message": "upgraded"})
    assert run.returncode == 0, run.tail()
    assert run.changed > 0
    assert message(cluster, release) == "upgraded"
    assert cluster.get(f"probes.{GROUP}", release.name, "-n", release.namespace)["spec"]["message"] == "upgraded"
    assert status(cluster, release)["version"] == 2
    again = release.run({"message": "upgraded"})
    assert again.changed == 0, again.tail()


def test_crd_change_is_applied_before_the_upgrade(cluster, release):
    """Helm never upgrades crds/; the helper does, before the chart."""
    crd_file = release.chart / "crds" / "probes.yaml"
    crd = yaml.safe_load(crd_file.read_text())
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    props["colour"] = {"type": "string"}
    crd_file.write_text(yaml.safe_dump(crd))
    run = release.run({"message": "upgraded"})
    assert run.returncode == 0, run.tail()
    live = cluster.get("crd", f"probes.{GROUP}")
    assert "colour" in live["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def test_crds_from_a_mirrored_manifest(cluster, release, tmp_path):
    """helm_release_crds=url with a local file (the air-gapped form of cert-manager's CRD manifest)."""
    crd = yaml.safe_load((release.chart / "crds" / "probes.yaml").read_text())
    crd["metadata"]["name"] = f"widgets.{GROUP}"
    crd["spec"]["names"] = {"plural": "widgets", "singular": "widget", "kind": "Widget"}
    manifest = tmp_path / "widgets.crds.yaml"
    manifest.write_text(yaml.safe_dump(crd))
    try:
        run = release.run({"message": "upgraded"}, helm_release_crds="url",
                          helm_release_chart_sources={CHART: {"path": str(release.chart), "crds_urls": [str(manifest)]}})
        assert run.returncode == 0, run.tail()
        live = cluster.get("crd", f"widgets.{GROUP}")
        assert any(m["manager"] == "oui.platform" for m in live["metadata"]["managedFields"])
        unreachable = release.run({"message": "upgraded"}, helm_release_crds="url", helm_release_chart_sources={
            CHART: {"path": str(release.chart), "crds_urls": ["https://crds.invalid.example/widgets.yaml"]}})
        assert unreachable.returncode != 0
        out = " ".join(unreachable.output.split())
        assert "cannot be fetched from https://crds.invalid.example/widgets.yaml" in out, unreachable.tail()
    finally:
        cluster.kubectl("delete", "crd", f"widgets.{GROUP}", "--ignore-not-found", check=False)


def test_failing_upgrade_rolls_back_atomically(cluster, release):
    before = status(cluster, release)
    run = release.run({"message": "never served", "broken": True})
    assert run.returncode != 0 and run.failed > 0, run.tail()
    after = status(cluster, release)
    assert after["info"]["status"] == "deployed"
    assert after["version"] > before["version"], "the failed revision and its rollback are recorded"
    assert after["config"].get("message") == "upgraded" and not after["config"].get("broken")
    assert message(cluster, release) == "upgraded"
    assert cluster.get("service", f"{release.name}-broken", "-n", release.namespace) is None
    history = json.loads(cluster.helm("history", release.name, "-n", release.namespace, "-o", "json").stdout)
    assert "failed" in [h["status"] for h in history], history


def test_absent_uninstalls_and_stays_idempotent(cluster, release):
    assert release.run({"message": "upgraded"}).returncode == 0
    run = release.run({"message": "upgraded"}, helm_release_state="absent")
    assert run.returncode == 0 and run.changed > 0, run.tail()
    assert cluster.helm("status", release.name, "-n", release.namespace, check=False).returncode != 0
    assert cluster.get("configmap", f"{release.name}-config", "-n", release.namespace) is None
    assert cluster.get("crd", f"probes.{GROUP}") is not None, "CRDs outlive the release (their objects would go with them)"
    again = release.run({"message": "upgraded"}, helm_release_state="absent")
    assert again.returncode == 0 and again.changed == 0, again.tail()


def test_local_chart_must_be_the_pinned_version(cluster, release, tmp_path, versions):
    other = build_chart(tmp_path / CHART, version="0.2.0")
    run = release.run(helm_release_chart_sources={CHART: {"path": str(other)}})
    assert run.returncode != 0
    assert "pins oui-probe 0.1.0" in run.output, run.tail()


def test_addons_say_plainly_that_chart_repositories_are_unreachable(cluster):
    """Offline without a mirror: the add-ons step stops before changing anything, naming the
    repository and the mirror option (no chart repository is reachable from this machine). The
    local inventory points every chart at the test bed's mirror; this run takes that away."""
    run = run_playbook("playbooks/addons.yml", env=cluster.env, extra_vars={"helm_release_chart_sources": {}})
    assert run.returncode != 0
    assert run.changed == 0, run.tail()
    out = " ".join(run.output.split())
    assert "https://kubernetes-sigs.github.io/metrics-server/ is not reachable" in out, run.tail()
    assert "needs a chart mirror" in out and "helm_release_chart_sources" in out
