"""The app role's real templates, rendered by Ansible for every environment, checked
against the Kubernetes schema of the pinned version, the Pod Security "restricted"
profile, and the properties the platform relies on (probes, limits, spread, PDB,
NetworkPolicies, ingress, monitoring)."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from app_render import ENVIRONMENTS, FIXTURE_DIGEST
from app_restricted import violations

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}
# local asks the test bed's ACME server (Pebble) through the same issuer name as prod (the brief's).
ISSUERS = {"local": "letsencrypt-prod", "beta": "letsencrypt-staging", "prod": "letsencrypt-prod"}


def inventory_vars(env: str) -> dict:
    return yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "app.yml").read_text())


def pod_spec(objects) -> dict:
    return objects.one("Deployment")["spec"]["template"]["spec"]


def container(objects) -> dict:
    (app,) = pod_spec(objects)["containers"]
    return app


def quantity(value) -> float:
    """A Kubernetes quantity as a number (cpu in cores, memory in bytes)."""
    value = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda u: -len(u[0])):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def app_env_names() -> set[str]:
    """The environment variables app/src/config.js reads."""
    return set(re.findall(r"\[\s*'([A-Z][A-Z0-9_]*)'", (REPO / "app" / "src" / "config.js").read_text()))


def app_metric_names() -> set[str]:
    return set(re.findall(r"name: '([a-z_]+)'", (REPO / "app" / "src" / "metrics.js").read_text()))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_object_is_valid_for_the_pinned_kubernetes(env, render, versions):
    objects = render(env)
    checked = 0
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(obj, versions["kubernetes"], strict=True)
        checked += 1
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "ServiceAccount", "ConfigMap", "NetworkPolicy", "Service", "Deployment",
            "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress"} <= kinds
    assert checked == len([o for o in objects if o["kind"] not in CUSTOM_KINDS])


def test_schema_validation_can_fail(versions):
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
           "spec": {"replicas": "six", "selector": {}, "template": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, versions["kubernetes"], strict=True)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pods_meet_the_restricted_profile(env, render):
    spec = pod_spec(render(env))
    assert violations(spec) == []
    assert spec["automountServiceAccountToken"] is False
    assert container(render(env))["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container(render(env))["volumeMounts"]}
    assert "emptyDir" in next(v for v in spec["volumes"] if v["name"] == mounts["/tmp"])


def test_the_restricted_check_catches_a_root_pod():
    root_pod = {"hostNetwork": True, "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
                "containers": [{"name": "c", "securityContext": {"privileged": True, "runAsUser": 0,
                                                                 "capabilities": {"add": ["SYS_ADMIN"]}},
                                "ports": [{"containerPort": 80, "hostPort": 80}]}]}
    found = "\n".join(violations(root_pod))
    for needle in ("hostNetwork", "hostPath", "privileged", "allowPrivilegeEscalation", "drop ALL",
                   "SYS_ADMIN", "may run as root", "runAsUser is 0", "seccompProfile", "hostPort"):
        assert needle in found, needle


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_namespace_enforces_restricted_and_names_its_environment(env, render, versions):
    labels = render(env).one("Namespace")["metadata"]["labels"]
    minor = "v" + ".".join(versions["kubernetes"].split(".")[:2])
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == minor
    assert labels["platform.oui.io/environment"] == env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_object_carries_the_platform_labels(env, render):
    for obj in render(env):
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "oui.platform", obj["kind"]
        assert labels["platform.oui.io/environment"] == env, obj["kind"]
        assert labels["app.kubernetes.io/part-of"] == "oui-platform", obj["kind"]
        if obj["kind"] != "Namespace":
            assert labels["app.kubernetes.io/name"] == "oui-app", obj["kind"]
            assert obj["metadata"]["namespace"] == "oui", obj["kind"]
    pod_labels = render(env).one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["platform.oui.io/environment"] == env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_probes_use_the_apps_endpoints(env, render):
    app = container(render(env))
    assert {p["name"]: p["containerPort"] for p in app["ports"]} == {"http": 8000}
    assert app["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # Liveness never fires while the app is still starting, and tolerates more than readiness.
    startup = app["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
    live, ready = app["livenessProbe"], app["readinessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] > ready["periodSeconds"] * ready["failureThreshold"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_requests_and_limits(env, render):
    resources = container(render(env))["resources"]
    wanted = inventory_vars(env)["app_resources"]
    for kind in ("requests", "limits"):
        assert set(resources[kind]) == {"cpu", "memory"}
        for res in ("cpu", "memory"):
            assert quantity(resources[kind][res]) == quantity(wanted[kind][res])
    for res in ("cpu", "memory"):
        assert quantity(resources["requests"][res]) <= quantity(resources["limits"][res])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_spread_over_zones_and_nodes_honours_taints(env, render):
    deployment = render(env).one("Deployment")
    selector = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    spread = {c["topologyKey"]: c for c in deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]}
    zone, host = spread["topology.kubernetes.io/zone"], spread["kubernetes.io/hostname"]
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert host["whenUnsatisfiable"] == "ScheduleAnyway"
    for constraint in (zone, host):
        assert constraint["nodeTaintsPolicy"] == "Honor"
        assert constraint["labelSelector"]["matchLabels"] == selector


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rollout_never_goes_below_the_wanted_count(env, render):
    strategy = render(env).one("Deployment")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] not in (0, "0%")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_shutdown_fits_in_the_grace_period(env, render):
    objects = render(env)
    spec = pod_spec(objects)
    config = objects.one("ConfigMap", "oui-app-config")["data"]
    pause = container(objects)["lifecycle"]["preStop"]["sleep"]["seconds"]
    delay, deadline = int(config["SHUTDOWN_DELAY_MS"]) / 1000, int(config["SHUTDOWN_TIMEOUT_MS"]) / 1000
    assert 0 < pause and 0 <= delay < deadline
    # The kubelet waits the preStop pause, then SIGTERM; the app exits by its deadline.
    assert spec["terminationGracePeriodSeconds"] > pause + deadline


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_configuration_uses_the_names_the_app_reads(env, render):
    objects = render(env)
    config = objects.one("ConfigMap", "oui-app-config")["data"]
    known = app_env_names()
    assert {"PORT", "SHUTDOWN_DELAY_MS", "SHUTDOWN_TIMEOUT_MS", "LOG_LEVEL"} <= known, known
    assert set(config) <= known, f"keys app/src/config.js does not read: {sorted(set(config) - known)}"
    assert all(isinstance(v, str) for v in config.values())
    assert config["PORT"] == str(container(objects)["ports"][0]["containerPort"])
    assert container(objects)["envFrom"][0] == {"configMapRef": {"name": "oui-app-config"}}


def test_a_config_change_changes_the_pod_template(render):
    before = render("local").one("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    after = render("local", app_config={"LOG_LEVEL": "warn"}).one("Deployment")
    assert after["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != before
    assert re.fullmatch(r"[0-9a-f]{64}", before)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_by_digest_outside_local(env, render):
    image = container(render(env))["image"]
    wanted = inventory_vars(env)
    if env == "local":
        assert image == f"{wanted['app_image_repository']}:{wanted['app_image_tag']}"
    else:
        assert image == f"{wanted['app_image_repository']}@{FIXTURE_DIGEST}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_scaling_follows_the_inventory(env, render):
    objects = render(env)
    wanted = inventory_vars(env)
    hpa = objects.one("HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (wanted["app_hpa_min_replicas"], wanted["app_hpa_max_replicas"])
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "oui-app"}
    assert {m["resource"]["name"] for m in hpa["metrics"]} == {"cpu", "memory"}
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] > 0
    # The HPA owns the replica count: the Deployment does not set it (else every run would reset it).
    assert "replicas" not in objects.one("Deployment")["spec"]


def test_without_hpa_the_deployment_sets_replicas(render):
    objects = render("local", app_hpa_enabled=False, app_replicas=4)
    assert objects.of("HorizontalPodAutoscaler") == []
    assert objects.one("Deployment")["spec"]["replicas"] == 4


def test_local_runs_six_replicas_for_the_spread_test():
    assert inventory_vars("local")["app_hpa_min_replicas"] == 6


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_pdb_always_allows_one_voluntary_disruption(env, render):
    objects = render(env)
    pdb = objects.one("PodDisruptionBudget")["spec"]
    assert pdb["selector"]["matchLabels"] == objects.one("Deployment")["spec"]["selector"]["matchLabels"]
    assert "minAvailable" not in pdb and pdb["maxUnavailable"] == 1
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def allowed(policies: list[dict], pod_labels: dict, direction: str, peer_ns: str, port, protocol="TCP",
            peer_labels: dict | None = None) -> bool:
    """Whether NetworkPolicy semantics let this traffic through (namespace and pod selectors, ports)."""
    key = {"Ingress": "ingress", "Egress": "egress"}[direction]
    selecting = [p["spec"] for p in policies if direction in p["spec"]["policyTypes"]
                 and p["spec"]["podSelector"].get("matchLabels", {}).items() <= pod_labels.items()]
    assert selecting, "no policy selects the pod: everything would be allowed"
    for spec in selecting:
        for rule in spec.get(key) or []:
            peers = rule.get("from" if key == "ingress" else "to", [])
            peer_ok = any(
                p.get("namespaceSelector", {}).get("matchLabels", {}) .items()
                <= {"kubernetes.io/metadata.name": peer_ns}.items()
                and p.get("podSelector", {}).get("matchLabels", {}).items() <= (peer_labels or {}).items()
                for p in peers)
            port_ok = any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in rule.get("ports", []))
            if peer_ok and port_ok:
                return True
    return False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_network_policies_default_deny_and_allow_only_what_is_needed(env, render):
    objects = render(env)
    policies = objects.of("NetworkPolicy")
    deny = [p["spec"] for p in policies if p["spec"]["podSelector"] == {}]
    assert deny == [{"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
    pod = objects.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    # The controller's namespace follows the inventory's choice (Traefik in local, beta and prod).
    platform = yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "platform.yml").read_text())
    controller = {"traefik": "traefik", "ingress-nginx": "ingress-nginx"}[platform["platform_ingress_controller"]]
    assert allowed(policies, pod, "Ingress", controller, "http")
    assert not allowed(policies, pod, "Ingress", "ingress-nginx" if controller == "traefik" else "traefik", "http")
    assert allowed(policies, pod, "Ingress", "monitoring", "http")
    assert not allowed(policies, pod, "Ingress", "default", "http")
    assert not allowed(policies, pod, "Ingress", controller, 22)
    dns = {"k8s-app": "kube-dns"}
    assert allowed(policies, pod, "Egress", "kube-system", 53, "UDP", dns)
    assert allowed(policies, pod, "Egress", "kube-system", 53, "TCP", dns)
    assert not allowed(policies, pod, "Egress", "kube-system", 443, "TCP", dns)
    assert not allowed(policies, pod, "Egress", "default", 53, "UDP", {})
    # cert-manager's HTTP-01 solver pods answer the ACME challenge through the ingress controller only.
    solver = {"acme.cert-manager.io/http01-solver": "true"}
    assert allowed(policies, solver, "Ingress", controller, 8089)
    assert not allowed(policies, solver, "Ingress", "default", 8089)
    assert not allowed(policies, pod, "Ingress", controller, 8089)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ingress_per_environment(env, render):
    objects = render(env)
    wanted = inventory_vars(env)
    ingress = objects.one("Ingress")
    notes = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert notes["cert-manager.io/cluster-issuer"] == ISSUERS[env] == wanted["app_ingress_cluster_issuer"]
    assert notes["nginx.ingress.kubernetes.io/whitelist-source-range"].split(",") == wanted["app_ingress_allowlist"]
    assert notes["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == wanted["app_ingress_host"]
    assert ingress["spec"]["tls"] == [{"hosts": [wanted["app_ingress_host"]], "secretName": "oui-app-tls"}]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = objects.one("Service", backend["name"])
    assert service["spec"]["type"] == "ClusterIP"
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_environments_differ_only_in_values():
    """The three inventories hold the same keys, so that they read side by side."""
    keys = {env: list(inventory_vars(env)) for env in ENVIRONMENTS}
    assert keys["local"] == keys["beta"] == keys["prod"]


@pytest.mark.parametrize("env, isolated", [("local", False), ("beta", False), ("prod", True)])
def test_isolated_pool_placement(env, isolated, render):
    spec = pod_spec(render(env))
    if isolated:
        assert spec["nodeSelector"] == {"node.oui.io/pool": "isolated"}
        assert spec["tolerations"] == [{"key": "node.oui.io/pool", "operator": "Equal", "value": "isolated",
                                        "effect": "NoSchedule"}]
    else:
        assert "nodeSelector" not in spec and "tolerations" not in spec


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitoring_objects(env, render):
    objects = render(env)
    service = objects.one("Service")
    monitor = objects.one("ServiceMonitor")
    rule = objects.one("PrometheusRule")
    dashboard = objects.one("ConfigMap", "oui-app-dashboard")
    for obj in (monitor, rule, dashboard):
        assert obj["metadata"]["labels"]["platform.oui.io/monitoring"] == "true"
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"

    alerts = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == {"OuiApp5xxRatioHigh", "OuiAppLatencyHigh", "OuiAppRestarting", "OuiAppPodsNotReady"}
    assert 'status_code=~"5.."' in alerts["OuiApp5xxRatioHigh"]
    assert "http_request_duration_seconds_bucket" in alerts["OuiAppLatencyHigh"]
    assert "kube_pod_container_status_restarts_total" in alerts["OuiAppRestarting"]

    (board_json,) = dashboard["data"].values()
    board = json.loads(board_json)
    exprs = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for needle in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
                   "by (status_code)", 'status_code=~"5.."', "histogram_quantile(0.99",
                   "kube_deployment_status_replicas_available"):
        assert needle in exprs, needle
    # Every app metric the rules and the dashboard query is one the app exports.
    exported = app_metric_names()
    used = set(re.findall(r"\b(http_[a-z_]+?)(?:_bucket|_sum|_count)?\{", exprs + " ".join(alerts.values())))
    assert used and used <= exported, f"not exported by app/src/metrics.js: {sorted(used - exported)}"


def test_monitoring_can_be_turned_off(render):
    kinds = {o["kind"] for o in render("local", app_monitoring="never")}
    assert not kinds & CUSTOM_KINDS
    assert "oui-app-dashboard" not in {o["metadata"]["name"] for o in render("local", app_monitoring="never")}


def test_secret_from_vault_variables(render):
    objects = render("local", app_secret_source="vault", app_secrets={"API_TOKEN": "s3cret"})
    secret = objects.one("Secret", "oui-app-secrets")
    assert base64.b64decode(secret["data"]["API_TOKEN"]).decode() == "s3cret"
    app = container(objects)
    assert {"secretRef": {"name": "oui-app-secrets"}} in app["envFrom"]
    assert "checksum/secret" in objects.one("Deployment")["spec"]["template"]["metadata"]["annotations"]


def test_secret_from_an_external_store(render):
    objects = render("local", app_secret_source="external", app_secret_name="oui-app-external")
    assert objects.of("Secret") == []
    assert {"secretRef": {"name": "oui-app-external"}} in container(objects)["envFrom"]


def test_no_secret_by_default(render):
    assert all("secretRef" not in ref for ref in container(render("local"))["envFrom"])
