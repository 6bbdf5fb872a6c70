"""Every add-on's chart values and objects, rendered by the roles for every environment,
checked for what matters: replicas and spread, client addresses kept for the allow-lists,
issuers, the monitoring contract, retention, schedules and TTLs; the objects the roles
create outside charts validated against the upstream CRDs at the pinned versions."""
from __future__ import annotations

import base64
import json
import re

import jsonschema
import pytest

from addons_upstream import module_dir, require, validate
from addons_upstream import ENVIRONMENTS
import addons_upstream as upstream

pytestmark = pytest.mark.unit

PICK = {"platform.oui.io/monitoring": "true"}
EKS = ("beta", "prod")


def test_chart_pins_name_their_repository_and_an_exact_version(versions):
    charts = versions["charts"]
    for key in ("metrics-server", "ingress-nginx", "cert-manager", "kube-prometheus-stack", "loki", "alloy", "velero"):
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", charts[key]["version"]), key
        assert charts[key]["repo"].startswith(("https://", "oci://")), key
        assert charts[key]["chart"], key


def test_chart_versions_match_the_crds_the_tests_install(versions):
    """The objects are verified against CRDs of the same release the chart installs."""
    assert versions["charts"]["cert-manager"]["version"] == versions["crds"]["cert_manager"]


# ---------------------------------------------------------------- ingress-nginx
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ingress_keeps_client_addresses_for_the_allow_lists(rendered, env):
    c = rendered[env]["ingress_nginx"]["controller"]
    assert c["service"]["externalTrafficPolicy"] == "Local"
    # Behind an L4 load balancer the peer address is the client's: headers a client can forge are not trusted.
    assert c["config"]["use-forwarded-headers"] == "false"
    assert c["config"]["compute-full-forwarded-for"] == "false"
    assert c["config"]["use-proxy-protocol"] == "false"
    assert c["allowSnippetAnnotations"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ingress_survives_a_zone_and_scales(rendered, env):
    c = rendered[env]["ingress_nginx"]["controller"]
    assert c["replicaCount"] >= 2 and c["minAvailable"] == 1
    assert c["autoscaling"]["enabled"] and c["autoscaling"]["minReplicas"] == c["replicaCount"]
    assert c["autoscaling"]["maxReplicas"] > c["autoscaling"]["minReplicas"]
    zone = [t for t in c["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone and zone[0]["whenUnsatisfiable"] == "DoNotSchedule" and zone[0]["maxSkew"] == 1
    # Spread as the app is: tainted or cordoned nodes of a lost zone are not places to spread to.
    assert {t["nodeTaintsPolicy"] for t in c["topologySpreadConstraints"]} == {"Honor"}
    assert zone[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "controller"
    assert c["admissionWebhooks"]["enabled"] is True
    assert c["metrics"]["enabled"] and c["metrics"]["serviceMonitor"]["enabled"]
    assert c["metrics"]["serviceMonitor"]["additionalLabels"] == PICK
    assert c["ingressClassResource"]["name"] == "nginx"
    if env == "prod":
        assert c["replicaCount"] >= 3, "prod keeps a replica in each of the three zones"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ingress_service_per_platform(rendered, env):
    svc = rendered[env]["ingress_nginx"]["controller"]["service"]
    if env in EKS:
        assert svc["type"] == "LoadBalancer"
        a = svc["annotations"]
        assert a["service.beta.kubernetes.io/aws-load-balancer-type"] == "external"
        assert a["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"
        assert a["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] == "ip"
        assert "preserve_client_ip.enabled=true" in a["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"]
    else:
        assert svc["type"] == "NodePort" and svc["annotations"] == {}


def test_ingress_eip_allocations_give_static_addresses(repo):
    """The single-static-address option: Elastic IPs per zone become the NLB's addresses."""
    from helpers import run_playbook
    import tempfile, pathlib
    with tempfile.TemporaryDirectory() as tmp:
        dest = pathlib.Path(tmp) / "prod.json"
        run = run_playbook("tests/addons/render.yml", "inventories/prod/hosts.yml",
                           extra_vars={"render_out": str(dest), "monitoring_grafana_admin_password": "x" * 20,
                                       "ingress_nginx_eip_allocations": ["eipalloc-0a", "eipalloc-0b", "eipalloc-0c"]})
        assert run.returncode == 0, run.tail()
        a = json.loads(dest.read_text())["ingress_nginx"]["controller"]["service"]["annotations"]
    assert a["service.beta.kubernetes.io/aws-load-balancer-eip-allocations"] == "eipalloc-0a,eipalloc-0b,eipalloc-0c"


# ---------------------------------------------------------------- cert-manager
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_issuers_per_environment(rendered, env):
    objs = rendered[env]["cert_manager_objects"]
    issuers = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ClusterIssuer"}
    acme_names = {"letsencrypt-prod", "letsencrypt-staging"}
    if env == "local":
        # The ACME issuers keep their names and point at the test bed's ACME server (Pebble), with
        # its endpoint's CA; local-ca stays available.
        assert set(issuers) == acme_names | {"oui-selfsigned-bootstrap", "local-ca"}
        ca = [o for o in objs if o["kind"] == "Certificate"][0]
        assert ca["spec"]["isCA"] is True and ca["spec"]["secretName"] == issuers["local-ca"]["spec"]["ca"]["secretName"]
        assert ca["spec"]["issuerRef"]["name"] == "oui-selfsigned-bootstrap"
        for name in acme_names:
            acme = issuers[name]["spec"]["acme"]
            assert acme["server"] == upstream.RENDER_ACME_SERVER
            assert base64.b64decode(acme["caBundle"]).startswith(b"-----BEGIN CERTIFICATE-----")
            assert acme["enableDurationFeature"] is True
            # The solver pods run on the real node, the only one that runs containers.
            template = acme["solvers"][0]["http01"]["ingress"]["podTemplate"]["spec"]
            assert template["nodeSelector"] == {"node.oui.io/real": "true"}
            assert template["tolerations"][0]["key"] == "node.oui.io/real"
    else:
        assert set(issuers) == acme_names
        assert issuers["letsencrypt-prod"]["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory"
        assert "staging" in issuers["letsencrypt-staging"]["spec"]["acme"]["server"]
        for issuer in issuers.values():
            acme = issuer["spec"]["acme"]
            assert "caBundle" not in acme and "enableDurationFeature" not in acme
            assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
    for name in acme_names & set(issuers):
        assert "@" in issuers[name]["spec"]["acme"]["email"]
    for o in objs:
        assert o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "oui.platform", o["metadata"]["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cert_manager_values(rendered, env, versions):
    v = rendered[env]["cert_manager"]
    assert v["crds"] == {"enabled": False, "keep": True}, "CRDs are applied by the helper before the chart"
    assert v["prometheus"]["servicemonitor"]["enabled"] and v["prometheus"]["servicemonitor"]["labels"] == PICK
    if env in EKS:
        assert v["replicaCount"] >= 2 and v["webhook"]["replicaCount"] >= 2
        assert v["podDisruptionBudget"]["enabled"] and v["webhook"]["podDisruptionBudget"]["enabled"]
    # The chart's own values schema (additionalProperties: false) at the pinned version.
    root, reason = module_dir("github.com/cert-manager/cert-manager", versions["charts"]["cert-manager"]["version"])
    require(root is not None, reason)
    schema = json.loads((root / "deploy/charts/cert-manager/values.schema.json").read_text())
    jsonschema.validate(v, schema)


# ---------------------------------------------------------------- monitoring
RETENTION = {"local": "1d", "beta": "7d", "prod": "30d"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitoring_contract_and_retention(rendered, env):
    v = rendered[env]["monitoring"]
    spec = v["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule", "probe"):
        assert spec[f"{kind}Selector"] == {"matchLabels": PICK}, kind
        assert spec[f"{kind}NamespaceSelector"] == {}, f"{kind}s are picked up in every namespace"
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False
    # The stack's own monitors carry the label too, or the selector would drop them.
    assert v["commonLabels"]["platform.oui.io/monitoring"] == "true"
    assert v["kube-state-metrics"]["prometheus"]["monitor"]["additionalLabels"] == PICK
    assert v["prometheus-node-exporter"]["prometheus"]["monitor"]["additionalLabels"] == PICK
    assert spec["retention"] == RETENTION[env]
    if env in EKS:
        size = spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
        assert int(re.match(r"\d+", spec["retentionSize"]).group()) < int(re.match(r"\d+", size).group()), \
            "retentionSize must leave room on the volume"
    if env == "prod":
        assert spec["replicas"] >= 2 and v["alertmanager"]["alertmanagerSpec"]["replicas"] >= 2


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_grafana_dashboards_secret_and_ingress(rendered, env):
    g = rendered[env]["monitoring"]["grafana"]
    d = g["sidecar"]["dashboards"]
    assert (d["enabled"], d["label"], d["labelValue"], d["searchNamespace"]) == (True, "grafana_dashboard", "1", "ALL")
    assert g["admin"]["existingSecret"] == "grafana-admin", "the admin password comes from the secret the inventory names, not the chart"
    assert "adminPassword" not in g
    assert [s["type"] for s in g["additionalDataSources"]] == ["loki"]
    ing = g["ingress"]
    assert ing["enabled"] and ing["ingressClassName"] == "nginx"
    assert ing["tls"][0]["hosts"] == ing["hosts"]
    issuer = ing["annotations"]["cert-manager.io/cluster-issuer"]
    assert issuer == ("local-ca" if env == "local" else "letsencrypt-prod")
    allowlist = ing["annotations"]["nginx.ingress.kubernetes.io/allowlist-source-range"].split(",")
    if env == "local":
        assert allowlist[0] == "127.0.0.0/8"
    else:  # never public in beta and prod
        assert allowlist and not {"0.0.0.0/0", "::/0"} & set(allowlist), allowlist


@pytest.mark.parametrize("env", EKS)
@pytest.mark.parametrize("allowlist, needle", [
    ([], "Grafana must not be public in beta or prod"),
    (["203.0.113.0/24", "0.0.0.0/0"], "Grafana must not be public in beta or prod"),
    (["::/0"], "Grafana must not be public in beta or prod"),
    (["office"], 'not CIDRs: ["office"]'),
], ids=["empty", "open-ipv4", "open-ipv6", "not-a-cidr"])
def test_grafana_is_never_public_in_beta_and_prod(env, allowlist, needle):
    """The monitoring preflight refuses an empty or open allow-list there, as the app's does;
    without an Ingress (monitoring_grafana_host empty) Grafana stays internal and passes."""
    from helpers import run_playbook

    base = {"addon_role": "monitoring", "monitoring_grafana_admin_password": "x" * 20}
    run = run_playbook("tests/addons/preflight.yml", f"inventories/{env}/hosts.yml",
                       extra_vars={**base, "monitoring_grafana_allowlist": allowlist})
    assert run.returncode != 0, run.tail()
    said = " ".join(run.output.split())
    assert f"monitoring: monitoring_grafana_allowlist={json.dumps(allowlist)}" in said and needle in said, run.tail()
    if allowlist == []:
        internal = run_playbook("tests/addons/preflight.yml", f"inventories/{env}/hosts.yml",
                                extra_vars={**base, "monitoring_grafana_allowlist": [], "monitoring_grafana_host": ""})
        assert internal.returncode == 0, internal.tail()
        inventory = run_playbook("tests/addons/preflight.yml", f"inventories/{env}/hosts.yml", extra_vars=base)
        assert inventory.returncode == 0, inventory.tail()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_platform_dashboard_is_loadable(rendered, env):
    [cm] = rendered[env]["monitoring_objects"]
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dash = json.loads(cm["data"]["oui-platform.json"])
    assert dash["uid"] == "oui-platform" and dash["panels"]
    uids = {p["datasource"]["uid"] for p in dash["panels"]}
    assert uids <= {"prometheus", "loki"}, uids


# ---------------------------------------------------------------- logs
LOG_RETENTION = {"local": "24h", "beta": "168h", "prod": "720h"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_retention_per_environment(rendered, env):
    loki = rendered[env]["loki"]
    assert loki["deploymentMode"] == "SingleBinary"
    assert loki["loki"]["limits_config"]["retention_period"] == LOG_RETENTION[env]
    assert loki["loki"]["compactor"]["retention_enabled"] is True, "without the compactor retention is not enforced"
    assert loki["monitoring"]["serviceMonitor"]["labels"] == PICK
    for mode in ("backend", "read", "write"):
        assert loki[mode]["replicas"] == 0
    alloy = rendered[env]["alloy"]
    assert "loki.source.kubernetes" in alloy["alloy"]["configMap"]["content"]
    assert "http://loki.logging.svc:3100/loki/api/v1/push" in alloy["alloy"]["configMap"]["content"]
    assert f'environment = "{env}"' in alloy["alloy"]["configMap"]["content"]


# ---------------------------------------------------------------- backups
def _interval_hours(cron: str) -> int:
    minute, hour, dom, month, dow = cron.split()
    assert minute.isdigit() and dom == month == dow == "*", f"unsupported schedule {cron}"
    if hour == "*":
        return 1
    if hour.startswith("*/"):
        return int(hour[2:])
    assert hour.isdigit()
    return 24


TTL = {"local": ("24h", "72h"), "beta": ("72h", "336h"), "prod": ("168h", "720h")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_schedules_and_ttls(rendered, env):
    objs = rendered[env]["velero_objects"]
    schedules = [o for o in objs if o["kind"] == "Schedule"]
    frequent, daily = schedules
    assert frequent["spec"]["template"]["includedNamespaces"] == ["oui"]
    assert daily["spec"]["template"]["includedNamespaces"] == ["*"] and daily["spec"]["template"]["includeClusterResources"]
    assert (frequent["spec"]["template"]["ttl"], daily["spec"]["template"]["ttl"]) == TTL[env]
    assert _interval_hours(frequent["spec"]["schedule"]) < _interval_hours(daily["spec"]["schedule"]) == 24
    for s in schedules:
        t = s["spec"]["template"]
        assert t["defaultVolumesToFsBackup"] is True and t["snapshotVolumes"] is False and t["storageLocation"] == "default"
    if env == "prod":
        assert _interval_hours(frequent["spec"]["schedule"]) == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_alerts_cover_failed_partial_and_stale(rendered, env):
    objs = rendered[env]["velero_objects"]
    [rule] = [o for o in objs if o["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"]["platform.oui.io/monitoring"] == "true"
    rules = rule["spec"]["groups"][0]["rules"]
    names = [r["alert"] for r in rules]
    assert {"VeleroBackupFailed", "VeleroBackupPartiallyFailed", "VeleroBackupLocationUnavailable"} <= set(names)
    stale = {r["labels"]["schedule"]: r for r in rules if r["alert"] == "VeleroBackupStale"}
    for s in (o for o in objs if o["kind"] == "Schedule"):
        r = stale[s["metadata"]["name"]]
        threshold = int(re.search(r"> (\d+)", r["expr"]).group(1))
        # Stale means more than one interval late: never fires on a healthy schedule.
        assert threshold > _interval_hours(s["spec"]["schedule"]) * 3600
        assert f'schedule="{s["metadata"]["name"]}"' in r["expr"] and "absent(" in r["expr"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_location_and_identity(rendered, env):
    objs = rendered[env]["velero_objects"]
    [bsl] = [o for o in objs if o["kind"] == "BackupStorageLocation"]
    assert bsl["spec"]["objectStorage"]["bucket"] == f"oui-{env}-backups"
    assert bsl["spec"]["objectStorage"]["prefix"] == f"oui-{env}"
    v = rendered[env]["velero"]
    assert v["configuration"]["uploaderType"] == "kopia" and v["deployNodeAgent"] is True
    assert v["metrics"]["serviceMonitor"]["additionalLabels"] == PICK
    assert v["upgradeCRDs"] is False and v["backupsEnabled"] is False
    if env == "local":
        assert bsl["spec"]["config"]["s3ForcePathStyle"] == "true" and bsl["spec"]["config"]["s3Url"]
        assert bsl["spec"]["credential"] == {"name": "velero-s3", "key": "cloud"} and v["credentials"]["useSecret"]
    else:
        assert "s3Url" not in bsl["spec"]["config"] and "credential" not in bsl["spec"]
        assert v["credentials"]["useSecret"] is False, "EKS uses workload identity, no static key"


# ---------------------------------------------------------------- EKS: autoscaling, load balancer controller
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_eks_only_add_ons(rendered, env):
    ca, lbc = rendered[env]["cluster_autoscaler"], rendered[env]["aws_load_balancer_controller"]
    if env not in EKS:
        assert ca is None and lbc is None and rendered[env]["cluster_autoscaler_objects"] == []
        return
    assert ca["autoDiscovery"]["clusterName"] == f"oui-{env}" and ca["cloudProvider"] == "aws"
    assert ca["extraArgs"]["balance-similar-node-groups"] is True, "zones stay the same size"
    assert ca["serviceMonitor"]["selector"] == PICK
    assert lbc["clusterName"] == f"oui-{env}" and lbc["region"] == "eu-west-3"
    assert lbc["enableServiceMutatorWebhook"] is False
    assert lbc["serviceMonitor"]["additionalLabels"] == PICK


@pytest.mark.parametrize("env", EKS)
def test_headroom_in_every_zone(rendered, env):
    prio, *deployments = rendered[env]["cluster_autoscaler_objects"]
    cutoff = rendered[env]["cluster_autoscaler"]["extraArgs"]["expendable-pods-priority-cutoff"]
    # Preempted by any real pod, yet not "expendable": a pending placeholder makes the autoscaler add a node.
    assert cutoff < prio["value"] < 0 and prio["preemptionPolicy"] == "Never"
    assert deployments and {d["kind"] for d in deployments} == {"Deployment"}
    for deploy in deployments:
        spec = deploy["spec"]
        assert spec["replicas"] % 3 == 0 and spec["replicas"] >= 3
        [spread] = spec["template"]["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["whenUnsatisfiable"] == "DoNotSchedule"
        assert spread["nodeTaintsPolicy"] == "Honor"
        # Each pool's placeholders spread among themselves only.
        assert spread["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
        assert spec["template"]["spec"]["priorityClassName"] == prio["metadata"]["name"]
    assert len({d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] for d in deployments}) == len(deployments)


@pytest.mark.parametrize("env", EKS)
def test_headroom_in_every_pool_the_app_runs_in(rendered, env, repo):
    """Where the app runs in the tainted isolated pool (prod), that pool keeps headroom too: a
    placeholder Deployment that selects the pool and tolerates the taint its node group carries."""
    import yaml

    gv = repo / "inventories" / env / "group_vars" / "all"
    app = yaml.safe_load((gv / "app.yml").read_text())
    groups = {g["name"]: g for g in yaml.safe_load((gv / "cluster.yml").read_text())["eks_cluster_node_groups"]}
    effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    placeholders = {d["spec"]["template"]["spec"].get("nodeSelector", {}).get("node.oui.io/pool"): d["spec"]["template"]["spec"]
                    for d in rendered[env]["cluster_autoscaler_objects"][1:]}
    pools = {"general"} | ({"isolated"} if app["app_isolated_pool"] else set())
    assert pools <= set(placeholders), f"{env}: headroom only for pools {sorted(placeholders)}, the app runs in {sorted(pools)}"
    for pool in pools:
        tolerated = {(t["key"], t.get("value"), t["effect"]) for t in placeholders[pool].get("tolerations", [])}
        for taint in groups[pool]["taints"]:
            assert (taint["key"], taint["value"], effect[taint["effect"]]) in tolerated, f"{env}: {pool} taint {taint} not tolerated"


# ---------------------------------------------------------------- every object, every environment
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_objects_carry_the_platform_labels(rendered, env):
    labels = rendered[env]["platform_labels"]
    assert labels == {"app.kubernetes.io/managed-by": "oui.platform", "platform.oui.io/environment": env}
    for key in ("cert_manager_objects", "monitoring_objects", "velero_objects", "cluster_autoscaler_objects"):
        for o in rendered[env][key]:
            got = o["metadata"]["labels"]
            assert labels.items() <= got.items(), o["metadata"]["name"]
            assert got["app.kubernetes.io/name"] and got["app.kubernetes.io/part-of"] == "oui-platform"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_objects_match_the_upstream_crds(rendered, env, crd_schemas):
    """Schema check offline; tests/addons/test_addon_objects.py applies them to a real API server."""
    checked = 0
    for key in ("cert_manager_objects", "velero_objects"):
        for o in rendered[env][key]:
            schema = crd_schemas.get((o["apiVersion"], o["kind"]))
            assert schema is not None, f"no upstream CRD for {o['apiVersion']} {o['kind']}"
            validate({k: v for k, v in o.items() if k != "metadata"}, schema)
            checked += 1
    assert checked >= 5
