"""What the add-on roles create outside their charts, against the test cluster with the
upstream CRDs at the pinned versions (from the projects' own Go modules, applied
server-side): ClusterIssuers (never over a foreign one), the local CA, PrometheusRules,
the dashboard ConfigMap, Velero's BackupStorageLocation and Schedules."""
from __future__ import annotations

import json

import pytest
import yaml

import addons_upstream as upstream
from addons_cluster import PRE_TAGS, cluster  # noqa: F401  (fixture)
from addons_upstream import require
from addons_upstream import ENVIRONMENTS, RENDER_PASSWORD
from helpers import REPO, run_playbook

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def crds(cluster, versions):
    """Install the upstream CRDs (kept: they are the real ones, at the pinned versions)."""
    for key in upstream.CRD_MODULES:
        files, reason = upstream.crd_files(key, versions["crds"][key])
        require(bool(files), reason)
        for path in files:
            # --force-conflicts: on a test cluster where site.yml has run, the platform (manager
            # oui.platform) applied its charts' CRDs, which may differ (Velero's chart 12.1.0 has a Restore
            # CRD without v1.18.3's spec.resourcePolicy); site.yml takes them back when
            # it runs again (its CRD step forces too).
            cluster.kubectl("apply", "--server-side", "--field-manager=oui-tests", "--force-conflicts", "-f", str(path))
    for crd in ("clusterissuers.cert-manager.io", "prometheusrules.monitoring.coreos.com", "schedules.velero.io",
                "backupstoragelocations.velero.io"):
        cluster.kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    for ns in ("cert-manager", "monitoring", "velero"):
        cluster.kubectl("create", "namespace", ns, check=False)


def phases(cluster, role, tags, **extra):
    return run_playbook("tests/addons/role_phases.yml", extra_vars={"addon_role": role, **extra},
                        extra_args=["--tags", f"{PRE_TAGS},{tags}"], env=cluster.env)


LOCAL_SCHEDULES = yaml.safe_load((REPO / "inventories/local/group_vars/all/backups.yml").read_text())["velero_schedules"]

FOREIGN = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "letsencrypt-prod"},
           "spec": {"acme": {"server": "https://acme.example/directory", "email": "someone@elsewhere.example",
                             "privateKeySecretRef": {"name": "theirs"},
                             "solvers": [{"http01": {"ingress": {"ingressClassName": "theirs"}}}]}}}


def test_issuers_never_overwrite_a_foreign_one(cluster, crds):
    cluster.kubectl("delete", "clusterissuer", "letsencrypt-prod", "--ignore-not-found")
    cluster.kubectl("apply", "-f", "-", input=json.dumps(FOREIGN))
    extra = {"cert_manager_issuers": ["local-ca", "letsencrypt-prod"], "cert_manager_acme_email": "platform@oui.example"}
    try:
        run = phases(cluster, "cert_manager", "cert_manager_values,cert_manager_issuers", **extra)
        assert run.returncode == 0, run.tail()
        assert "ClusterIssuer letsencrypt-prod exists without the label" in run.output
        theirs = cluster.get("clusterissuer", "letsencrypt-prod")
        assert theirs["spec"]["acme"]["email"] == "someone@elsewhere.example"
        assert "app.kubernetes.io/managed-by" not in theirs["metadata"].get("labels", {})
        ours = cluster.get("clusterissuer", "local-ca")
        assert ours["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform"
        assert ours["spec"]["ca"]["secretName"] == "oui-local-ca"
        ca = cluster.get("certificate", "oui-local-ca", "-n", "cert-manager")
        assert ca["spec"]["isCA"] is True
        rule = cluster.get("prometheusrule", "cert-manager-certificates", "-n", "cert-manager")
        assert rule["metadata"]["labels"]["platform.oui.io/monitoring"] == "true"
        again = phases(cluster, "cert_manager", "cert_manager_values,cert_manager_issuers", **extra)
        assert again.returncode == 0 and again.changed == 0, again.tail()
    finally:
        cluster.kubectl("delete", "clusterissuer", "letsencrypt-prod", "local-ca", "oui-selfsigned-bootstrap",
                        "--ignore-not-found", check=False)


def test_velero_location_schedules_and_alerts(cluster, crds):
    tags = "velero_values,velero_credentials,velero_objects"
    run = phases(cluster, "velero", tags)
    assert run.returncode == 0, run.tail()
    bsl = cluster.get("backupstoragelocation", "default", "-n", "velero")
    assert bsl["spec"]["objectStorage"] == {"bucket": "oui-local-backups", "prefix": "oui-local"}
    assert bsl["spec"]["default"] is True and bsl["spec"]["credential"]["name"] == "velero-s3"
    schedules = {s["metadata"]["name"]: s for s in cluster.get("schedules", "-n", "velero")["items"]}
    assert schedules["stateful-6h"]["spec"]["template"]["ttl"] == "24h"
    assert schedules["stateful-6h"]["spec"]["template"]["includedNamespaces"] == ["oui"]
    assert schedules["cluster-daily"]["spec"]["template"]["ttl"] == "72h"
    rule = cluster.get("prometheusrule", "velero-backups", "-n", "velero")
    alerts = [r["alert"] for r in rule["spec"]["groups"][0]["rules"]]
    assert alerts.count("VeleroBackupStale") == 2 and "VeleroBackupFailed" in alerts
    secret = cluster.get("secret", "velero-s3", "-n", "velero")
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform"
    again = phases(cluster, "velero", tags)
    assert again.returncode == 0 and again.changed == 0, again.tail()
    # --check --diff tells the truth: a TTL change is reported, and not made.
    schedules = [{**s, "ttl": "48h"} if s["name"] == "stateful-6h" else s for s in LOCAL_SCHEDULES]
    check = run_playbook("tests/addons/role_phases.yml", extra_vars={"addon_role": "velero", "velero_schedules": schedules},
                         extra_args=["--tags", f"{PRE_TAGS},{tags}"], check=True, diff=True, env=cluster.env)
    assert check.returncode == 0 and check.changed > 0, check.tail()
    assert "48h" in check.output
    assert cluster.get("schedule", "stateful-6h", "-n", "velero")["spec"]["template"]["ttl"] == "24h"


def test_dashboard_configmap_is_labelled_for_grafana(cluster, crds):
    tags = "monitoring_values,monitoring_secret,monitoring_dashboards"
    run = phases(cluster, "monitoring", tags, monitoring_grafana_admin_password=RENDER_PASSWORD)
    assert run.returncode == 0, run.tail()
    assert RENDER_PASSWORD not in run.output, "the admin password must never be logged"
    cm = cluster.get("configmap", "oui-platform-dashboard", "-n", "monitoring")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["oui-platform.json"])["uid"] == "oui-platform"
    ns = cluster.get("namespace", "monitoring")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_ingress_leaves_a_foreign_nginx_controller_alone(cluster):
    """An adopted cluster's own IngressClass nginx: the role installs nothing (and needs no chart)."""
    created = cluster.get("ingressclass", "nginx") is None
    if created:
        cluster.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"}}))
    before = cluster.get("ingressclass", "nginx")
    try:
        run = phases(cluster, "ingress_nginx", "ingress_nginx_preflight,ingress_nginx_values,ingress_nginx_release")
        assert run.returncode == 0, run.tail()
        assert "IngressClass nginx that this collection did not install" in " ".join(run.output.split())
        assert run.changed == 0
        after = cluster.get("ingressclass", "nginx")
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert cluster.get("namespace", "ingress-nginx") is None
    finally:
        if created:
            cluster.kubectl("delete", "ingressclass", "nginx", "--ignore-not-found", check=False)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environments_objects_pass_the_api_server(cluster, crds, rendered, env):
    """Server-side dry run with strict field validation: the real CRD schemas decide."""
    objs = [o for key in ("cert_manager_objects", "monitoring_objects", "velero_objects", "cluster_autoscaler_objects")
            for o in rendered[env][key]]
    proc = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--validate=strict",
                           "--field-manager=oui-tests", "--force-conflicts", "-f", "-",
                           input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}), check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("(server dry run)") == len(objs), proc.stdout
