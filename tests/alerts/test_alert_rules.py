"""The alert rules the roles render, checked and unit-tested by promtool with synthetic series.

The rules are the ones the roles really render: the velero and cert_manager roles' values.yml tasks
(tests/alerts/render.yml) for every inventory, and the app role through playbooks/app.yml in its
render-only mode. Each PrometheusRule's spec.groups becomes a rule file; `promtool check rules`
lints it, and `promtool test rules` evaluates it against synthetic series shaped like what Velero
v1.18, cert-manager v1.21, the app (app/src/metrics.js) and kube-state-metrics export, as scraped
through a ServiceMonitor. Every alert is proved both ways: it fires with the expected labels and
annotations once its condition (and its `for:`) holds, and stays silent one evaluation before,
and on healthy series. promtool is built from the Prometheus module by the builder (cluster/components.yml,
row promtool).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import REPO, require, run_playbook
from testbed import component

pytestmark = pytest.mark.unit

ADDON_ENVIRONMENTS = ("local", "beta", "prod", "given")  # given: no velero_schedules, the role defaults
APP_ENVIRONMENTS = ("local", "beta", "prod")
# beta and prod deploy by digest only: the app tests' fixture digest (tests/app/app_render.py), no real image.
APP_FIXTURE_DIGEST = "sha256:" + hashlib.sha256(b"oui-platform test fixture, not an image").hexdigest()

# Target labels a ServiceMonitor adds to everything Velero exports.
VELERO = {"job": "velero", "namespace": "velero", "pod": "velero-6c9d5b7f4-x2kq7", "instance": "10.244.1.7:8085"}


# ---------------------------------------------------------------------------------------------------------
# Fixtures: promtool, and the rules as the roles render them.

@pytest.fixture(scope="session")
def promtool() -> str:
    require(shutil.which("go") is not None,
            "no Go toolchain on PATH: promtool is built from the Prometheus Go module (cluster/components.yml); "
            "install Go (Debian: golang) to run the alert-rule tests")
    path = str(Path(component("promtool", timeout=3600)["BIN_DIR"]) / "promtool")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    print(version.splitlines()[0])
    return path


@pytest.fixture(scope="session")
def addon_rules(tmp_path_factory, testbed_env) -> dict:
    """env -> {velero_schedules, velero: [PrometheusRule], cert_manager: [PrometheusRule]}."""
    out = {}
    for env in ADDON_ENVIRONMENTS:
        dest = tmp_path_factory.mktemp("alerts") / f"{env}.json"
        run = run_playbook("tests/alerts/render.yml", f"inventories/{env}/hosts.yml", extra_vars={"render_out": str(dest)},
                           env=testbed_env)
        assert run.returncode == 0, run.tail()
        out[env] = json.loads(dest.read_text())
    return out


@pytest.fixture(scope="session")
def app_objects(tmp_path_factory) -> dict:
    """env -> the app role's rendered objects (playbooks/app.yml with app_render_dir)."""
    out = {}
    for env in APP_ENVIRONMENTS:
        render_dir = tmp_path_factory.mktemp(f"alerts-app-{env}")
        extra = {"app_render_dir": str(render_dir)}
        if env != "local":
            extra["app_image_digest"] = APP_FIXTURE_DIGEST
        run = run_playbook("playbooks/app.yml", f"inventories/{env}/hosts.yml", extra_vars=extra)
        assert run.returncode == 0, run.tail()
        out[env] = [doc for path in sorted(render_dir.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]
        assert out[env], f"nothing rendered for {env}"
    return out


def only_rule(objects: list[dict]) -> dict:
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert len(rules) == 1, f"expected one PrometheusRule, found {len(rules)}"
    return rules[0]


# ---------------------------------------------------------------------------------------------------------
# promtool

def rule_file(tmp_path: Path, rule: dict, name: str) -> Path:
    path = tmp_path / f"{name}.rules.yml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    return path


def check_rules(promtool: str, path: Path) -> None:
    run = subprocess.run([promtool, "check", "rules", "--lint=all", "--lint-fatal", str(path)],
                         capture_output=True, text=True, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "SUCCESS" in out, out


def promtool_test(promtool: str, tmp_path: Path, rule: dict, name: str, tests: list[dict]) -> subprocess.CompletedProcess:
    """Run `promtool test rules` on the rendered rule with these test groups; return the run."""
    rules = rule_file(tmp_path, rule, name)
    spec = tmp_path / f"{name}.test.yml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests},
                                   sort_keys=False, width=10_000))
    return subprocess.run([promtool, "test", "rules", spec.name], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=600)


def assert_passes(run: subprocess.CompletedProcess) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "SUCCESS" in out, out[-12000:]


def series(name: str, labels: dict, values: str) -> dict:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def steps(*segments: tuple[float, int]) -> str:
    """promtool values: `(value, count)` segments, `count` samples each (None = no sample)."""
    out = []
    for value, count in segments:
        if count <= 0:
            continue
        if value is None:
            out.append(f"_x{count}" if count > 1 else "_")  # `_xN` is N missing samples
        else:
            out.append(f"{value:g}x{count - 1}" if count > 1 else f"{value:g}")  # `vxN` is N+1 samples
    return " ".join(out)


def alert(alertname: str, at: str, *alerts: tuple[dict, dict]) -> dict:
    return {"eval_time": at, "alertname": alertname,
            "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations} for labels, annotations in alerts]}


def minutes(m: int) -> str:
    return f"{m}m"


# ---------------------------------------------------------------------------------------------------------
# Velero

def cron_interval_hours(cron: str) -> int:
    minute, hour, *rest = cron.split()
    assert minute.isdigit() and rest == ["*", "*", "*"], f"cron form not understood by the test: {cron}"
    if hour == "*":
        return 1
    if hour.startswith("*/"):
        return int(hour[2:])
    assert hour.isdigit(), cron
    return 24


def velero_tests(schedules: list[dict]) -> list[dict]:
    s1, s2 = schedules[0]["name"], schedules[1]["name"]

    def failed(schedule):
        return ({"schedule": schedule, "severity": "critical"},
                {"summary": f"Velero backup of schedule {schedule} failed",
                 "description": f"velero backup get --selector velero.io/schedule-name={schedule}; "
                                "see docs/runbooks for the restore drill."})

    def partial(schedule):
        return ({"schedule": schedule, "severity": "warning"},
                {"summary": f"Velero backup of schedule {schedule} partially failed",
                 "description": "Some items or volumes were not backed up: velero backup describe --details <backup>."})

    counters = ("velero_backup_failure_total", "velero_backup_validation_failure_total", "velero_backup_partial_failure_total")

    def flat(*schedules_, minutes_=130):
        return [series(c, {**VELERO, "schedule": s}, steps((0, minutes_))) for c in counters for s in schedules_]

    tests = [
        {   # A failed scheduled backup fires at once and resolves an hour after the counter went flat again;
            # a flat counter, and a failed ad-hoc backup (schedule=""), do not fire.
            "name": "failed backup",
            "input_series": [
                series("velero_backup_failure_total", {**VELERO, "schedule": s1}, steps((0, 11), (1, 120))),
                series("velero_backup_validation_failure_total", {**VELERO, "schedule": s1}, steps((0, 131))),
                series("velero_backup_failure_total", {**VELERO, "schedule": ""}, steps((0, 11), (1, 120))),
                series("velero_backup_validation_failure_total", {**VELERO, "schedule": ""}, steps((0, 131))),
                *[series(c, {**VELERO, "schedule": s2}, steps((0, 131))) for c in counters[:2]],
            ],
            "alert_rule_test": [
                alert("VeleroBackupFailed", "10m"),
                alert("VeleroBackupFailed", "11m", failed(s1)),
                alert("VeleroBackupFailed", "60m", failed(s1)),
                alert("VeleroBackupFailed", "75m"),
                alert("VeleroBackupPartiallyFailed", "15m"),
            ],
        },
        {   # A backup refused by validation (phase FailedValidation) is counted apart by Velero: it fires too.
            "name": "backup failed validation",
            "input_series": [
                series("velero_backup_failure_total", {**VELERO, "schedule": s2}, steps((0, 60))),
                series("velero_backup_validation_failure_total", {**VELERO, "schedule": s2}, steps((0, 20), (1, 40))),
            ],
            "alert_rule_test": [alert("VeleroBackupFailed", "19m"), alert("VeleroBackupFailed", "25m", failed(s2))],
        },
        {   # The same failure seen through a replaced Velero pod is one alert, not one per pod.
            "name": "failed backup across a pod restart",
            "input_series": [
                series("velero_backup_failure_total", {**VELERO, "schedule": s1}, steps((0, 10), (1, 10))),
                series("velero_backup_failure_total", {**VELERO, "pod": "velero-6c9d5b7f4-9zzp2", "schedule": s1},
                       steps((None, 20), (0, 5), (1, 20))),
                series("velero_backup_validation_failure_total", {**VELERO, "schedule": s1}, steps((0, 45))),
            ],
            "alert_rule_test": [alert("VeleroBackupFailed", "30m", failed(s1))],
        },
        {   # A partially failed backup fires its own (warning) alert; a flat counter does not.
            "name": "partially failed backup",
            "input_series": [
                *flat(s1, minutes_=40)[:2],
                *[series(c, {**VELERO, "schedule": s2}, steps((0, 40))) for c in counters],
                series("velero_backup_partial_failure_total", {**VELERO, "schedule": s1}, steps((0, 5), (1, 35))),
            ],
            "alert_rule_test": [
                alert("VeleroBackupPartiallyFailed", "4m"),
                alert("VeleroBackupPartiallyFailed", "5m", partial(s1)),
                alert("VeleroBackupFailed", "5m"),
            ],
        },
        {   # The location unavailable fires after 15 minutes (for: 15m), not one evaluation earlier; a location
            # that comes back within the 15 minutes never fires.
            "name": "backup location unavailable",
            "input_series": [
                series("velero_backup_location_status_gauge", {**VELERO, "backup_location_name": "default"},
                       steps((1, 11), (0, 30))),
                series("velero_backup_location_status_gauge", {**VELERO, "backup_location_name": "secondary"},
                       steps((1, 11), (0, 14), (1, 16))),
            ],
            "alert_rule_test": [
                alert("VeleroBackupLocationUnavailable", "25m"),
                alert("VeleroBackupLocationUnavailable", "26m",
                      ({"backup_location_name": "default", "severity": "critical"},
                       {"summary": "Velero cannot reach backup location default",
                        "description": "No backup can be written; check the bucket, its credentials and the endpoint."})),
            ],
        },
        {   # No Velero metrics at all for 15 minutes: nothing else could fire, so this does.
            "name": "velero metrics absent",
            "input_series": [series("up", {"job": "prometheus"}, steps((1, 40)))],
            "alert_rule_test": [
                alert("VeleroMetricsAbsent", "14m"),
                alert("VeleroMetricsAbsent", "15m",
                      ({"severity": "critical"},
                       {"summary": "Prometheus receives no metrics from Velero",
                        "description": "Backups are not watched: is the Velero server running, and is its "
                                       "ServiceMonitor scraped?"})),
            ],
        },
        {   # ... and while Velero is scraped it stays silent.
            "name": "velero metrics present",
            "input_series": [series("velero_backup_attempt_total", {**VELERO, "schedule": ""}, steps((0, 40)))],
            "alert_rule_test": [alert("VeleroMetricsAbsent", "30m")],
        },
    ]
    for s in schedules:
        tests += stale_tests(s)
    return tests


def stale_tests(schedule: dict) -> list[dict]:
    name = schedule["name"]
    window_h = int(re.fullmatch(r"(\d+)h", schedule["stale_after"]).group(1))
    interval_h = cron_interval_hours(schedule["schedule"])
    window = window_h * 60  # minutes
    fired = ({"schedule": name, "severity": "critical"},
             {"summary": f"No successful {name} backup for more than {schedule['stale_after']}",
              "description": f"Schedule {name} ({schedule['schedule']}) has not produced a successful backup "
                             f"in {schedule['stale_after']}."})
    labels = {**VELERO, "schedule": name}
    horizon = 2 * window + 120
    attempts = series("velero_backup_attempt_total", labels, steps((0, horizon + 1)))

    # Healthy: a backup completes 3 minutes after each cron tick; the gauge holds its completion time.
    healthy, value, t = [], None, 0
    while t <= horizon:
        run = (t // (interval_h * 60)) * interval_h * 60 + 3
        done = run if t >= run else run - interval_h * 60
        value = done * 60 if done >= 0 else None
        healthy.append(value)
        t += 1
    segments, prev, count = [], object(), 0
    for v in healthy:
        if v == prev:
            count += 1
            continue
        if count:
            segments.append((prev, count))
        prev, count = v, 1
    segments.append((prev, count))

    return [
        {   # The last success (at 1h) grows older than the window: silent up to the window, firing just past it.
            "name": f"{name}: no successful backup within {window_h}h",
            "input_series": [attempts, series("velero_backup_last_successful_timestamp", labels,
                                              steps((None, 60), (3600, horizon - 59)))],
            "alert_rule_test": [
                alert("VeleroBackupStale", minutes(60 + window - 1)),
                alert("VeleroBackupStale", minutes(60 + window)),
                alert("VeleroBackupStale", minutes(60 + window + 1), fired),
                alert("VeleroBackupStale", minutes(horizon), fired),
            ],
        },
        {   # A schedule that succeeds on every tick ({interval_h}h) never fires, over two windows.
            "name": f"{name}: a backup every {interval_h}h",
            "input_series": [attempts, series("velero_backup_last_successful_timestamp", labels, steps(*segments))],
            "alert_rule_test": [alert("VeleroBackupStale", minutes(m))
                                for m in (window - 1, window + 1, 2 * window, horizon)],
        },
        {   # A schedule Velero knows (its counters exist) but that never succeeded: it gets one window, then fires.
            "name": f"{name}: never succeeded",
            "input_series": [attempts],
            "alert_rule_test": [
                alert("VeleroBackupStale", minutes(window - 1)),
                alert("VeleroBackupStale", minutes(window + 1), fired),
            ],
        },
    ]


@pytest.mark.parametrize("env", ADDON_ENVIRONMENTS)
def test_velero_rules(promtool, addon_rules, tmp_path, env):
    rule = only_rule(addon_rules[env]["velero"])
    schedules = addon_rules[env]["velero_schedules"]
    assert len(schedules) >= 2, "the tests below need two schedules"
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert alerts.count("VeleroBackupStale") == len(schedules)
    check_rules(promtool, rule_file(tmp_path, rule, f"velero-{env}"))
    assert_passes(promtool_test(promtool, tmp_path, rule, f"velero-{env}", velero_tests(schedules)))


# ---------------------------------------------------------------------------------------------------------
# cert-manager

CERT = {"issuer_group": "cert-manager.io", "issuer_kind": "ClusterIssuer", "issuer_name": "letsencrypt-prod",
        "name": "oui-app-tls"}
# As scraped through the chart's ServiceMonitor (honorLabels: false): the Certificate's namespace label
# becomes exported_namespace, and namespace/pod/job are the cert-manager controller's.
SCRAPED = {"job": "cert-manager", "namespace": "cert-manager", "pod": "cert-manager-7b9f8d6c5-l4m2p",
           "instance": "10.244.2.9:9402", "exported_namespace": "oui"}
DAY = 86400


def cert_manager_tests() -> list[dict]:
    def expires(ns):
        return ({"name": "oui-app-tls", "namespace": ns, "severity": "warning", **({"exported_namespace": "oui"}
                 if ns == "cert-manager" else {})},
                {"summary": "Certificate oui/oui-app-tls expires in less than 14 days",
                 "description": "cert-manager has not renewed it; check its CertificateRequest and the issuer."})

    def not_ready(ns):
        return ({"name": "oui-app-tls", "namespace": ns, "severity": "warning", **({"exported_namespace": "oui"}
                 if ns == "cert-manager" else {})},
                {"summary": "Certificate oui/oui-app-tls is not ready",
                 "description": "kubectl -n oui describe certificate oui-app-tls"})

    expiry = "certmanager_certificate_expiration_timestamp_seconds"
    ready = "certmanager_certificate_ready_status"
    return [
        {   # 10 days left: fires after for: 1h. 60 days left, and a Certificate not issued yet (expiry 0,
            # as cert-manager reports it), never fire.
            "name": "certificate expires soon",
            "input_series": [
                series(expiry, {**SCRAPED, **CERT}, steps((10 * DAY, 90))),
                series(expiry, {**SCRAPED, **CERT, "name": "far-away"}, steps((60 * DAY, 90))),
                series(expiry, {**SCRAPED, **CERT, "name": "not-issued-yet"}, steps((0, 90))),
            ],
            "alert_rule_test": [alert("CertificateExpiresSoon", "59m"),
                                alert("CertificateExpiresSoon", "60m", expires("cert-manager"))],
        },
        {   # With honorLabels: true the Certificate's namespace stays `namespace`: the alert names it all the same.
            "name": "certificate expires soon, labels honoured",
            "input_series": [series(expiry, {"job": "cert-manager", "namespace": "oui", **CERT}, steps((10 * DAY, 90)))],
            "alert_rule_test": [alert("CertificateExpiresSoon", "70m", expires("oui"))],
        },
        {   # Not Ready for 30 minutes fires; Ready, and not Ready for less than 30 minutes, do not.
            "name": "certificate not ready",
            "input_series": [
                *[series(ready, {**SCRAPED, **CERT, "condition": c}, steps((v, 50)))
                  for c, v in (("False", 1), ("True", 0), ("Unknown", 0))],
                *[series(ready, {**SCRAPED, **CERT, "name": "healthy", "condition": c}, steps((v, 50)))
                  for c, v in (("False", 0), ("True", 1), ("Unknown", 0))],
                *[series(ready, {**SCRAPED, **CERT, "name": "renewed-in-time", "condition": c},
                         steps((v, 20), (1 - v, 30))) for c, v in (("False", 1), ("True", 0))],
            ],
            "alert_rule_test": [alert("CertificateNotReady", "29m"),
                                alert("CertificateNotReady", "30m", not_ready("cert-manager"))],
        },
        {
            "name": "certificate not ready, labels honoured",
            "input_series": [series(ready, {"job": "cert-manager", "namespace": "oui", **CERT, "condition": "False"},
                                    steps((1, 40)))],
            "alert_rule_test": [alert("CertificateNotReady", "35m", not_ready("oui"))],
        },
    ]


@pytest.mark.parametrize("env", ADDON_ENVIRONMENTS)
def test_cert_manager_rules(promtool, addon_rules, tmp_path, env):
    rule = only_rule(addon_rules[env]["cert_manager"])
    check_rules(promtool, rule_file(tmp_path, rule, f"cert-manager-{env}"))
    assert_passes(promtool_test(promtool, tmp_path, rule, f"cert-manager-{env}", cert_manager_tests()))


# ---------------------------------------------------------------------------------------------------------
# The app

def app_tests(env: str, namespace: str, name: str) -> list[dict]:
    target = {"job": name, "namespace": namespace, "service": name, "pod": f"{name}-7c9d8f6b5-abcde",
              "instance": "10.244.3.4:8080", "endpoint": "http"}
    ksm = {"job": "kube-state-metrics", "instance": "10.244.0.5:8080"}

    def requests(route, status, per_min, length=40):
        return series("http_requests_total", {**target, "method": "GET", "route": route, "status_code": status},
                      f"0+{per_min}x{length}")

    def buckets(route, per_min: dict, length=40):
        return [series("http_request_duration_seconds_bucket",
                       {**target, "method": "GET", "route": route, "status_code": "200", "le": le}, f"0+{n}x{length}")
                for le, n in per_min.items()]

    slow = {"0.1": 2, "0.25": 5, "0.5": 10, "1": 100, "+Inf": 100}
    fast = {"0.1": 96, "0.25": 99, "0.5": 100, "1": 100, "+Inf": 100}
    restarts = "kube_pod_container_status_restarts_total"
    pod = {**ksm, "namespace": namespace, "container": "app"}
    deployment = {**ksm, "namespace": namespace, "deployment": name}

    return [
        {   # 10 of 110 responses a minute are 5xx (9%): fires after for: 5m (the first rate exists at 1m).
            "name": "5xx ratio above 5%",
            "input_series": [requests("/", "200", 100), requests("/", "500", 10)],
            "alert_rule_test": [
                alert("OuiApp5xxRatioHigh", "5m"),
                alert("OuiApp5xxRatioHigh", "6m", ({"severity": "critical"},
                      {"summary": f"More than 5% of {name} responses are 5xx in {env}."})),
            ],
        },
        {   # 2% 5xx, and no 5xx at all in another app's namespace, stay silent.
            "name": "5xx ratio below 5%",
            "input_series": [requests("/", "200", 100), requests("/", "503", 2),
                             series("http_requests_total", {**target, "namespace": "other", "method": "GET", "route": "/",
                                                            "status_code": "500"}, "0+50x40")],
            "alert_rule_test": [alert("OuiApp5xxRatioHigh", "30m")],
        },
        {   # Most requests take 0.5-1 s: p95 above 500 ms fires after for: 10m.
            "name": "p95 latency above 500 ms",
            "input_series": buckets("/", slow),
            "alert_rule_test": [
                alert("OuiAppLatencyHigh", "10m"),
                alert("OuiAppLatencyHigh", "11m", ({"severity": "warning"},
                      {"summary": f"The 95th percentile latency of {name} is above 500 ms in {env}."})),
            ],
        },
        {   # Fast answers stay silent, and slow scrapes of /metrics are not the app's latency.
            "name": "p95 latency fine, slow /metrics ignored",
            "input_series": buckets("/", fast) + buckets("/metrics", slow),
            "alert_rule_test": [alert("OuiAppLatencyHigh", "30m")],
        },
        {   # Three restarts within 15 minutes fire; exactly two (counters already at 4: increase() extrapolates
            # 2 to 2.14 over the window), and another workload's pod, do not.
            "name": "restarts",
            "input_series": [
                series(restarts, {**pod, "pod": f"{name}-7c9d8f6b5-abcde"}, steps((4, 20), (5, 2), (6, 2), (7, 30))),
                series(restarts, {**pod, "pod": f"{name}-7c9d8f6b5-fghij"}, steps((4, 20), (5, 2), (6, 32))),
                series(restarts, {**pod, "pod": "redis-0"}, steps((0, 20), (5, 34))),
            ],
            "alert_rule_test": [
                alert("OuiAppRestarting", "19m"),
                alert("OuiAppRestarting", "24m", ({**pod, "pod": f"{name}-7c9d8f6b5-abcde", "severity": "warning"},
                      {"summary": f"A {name} container restarted more than twice in 15 minutes in {env}."})),
            ],
        },
        {   # 2 of 3 replicas available for 10 minutes fires; a full deployment and another deployment do not.
            "name": "pods not ready",
            "input_series": [
                series("kube_deployment_spec_replicas", deployment, steps((3, 30))),
                series("kube_deployment_status_replicas_available", deployment, steps((3, 5), (2, 25))),
                series("kube_deployment_spec_replicas", {**deployment, "deployment": "other"}, steps((3, 30))),
                series("kube_deployment_status_replicas_available", {**deployment, "deployment": "other"}, steps((1, 30))),
            ],
            "alert_rule_test": [
                alert("OuiAppPodsNotReady", "14m"),
                alert("OuiAppPodsNotReady", "15m", ({**deployment, "severity": "warning"},
                      {"summary": f"Some {name} replicas have not been ready for 10 minutes in {env}."})),
            ],
        },
        {
            "name": "all pods ready",
            "input_series": [series("kube_deployment_spec_replicas", deployment, steps((3, 30))),
                             series("kube_deployment_status_replicas_available", deployment, steps((3, 30)))],
            "alert_rule_test": [alert("OuiAppPodsNotReady", "25m")],
        },
    ]


@pytest.mark.parametrize("env", APP_ENVIRONMENTS)
def test_app_rules(promtool, app_objects, tmp_path, env):
    rule = only_rule(app_objects[env])
    [deployment] = [o for o in app_objects[env] if o["kind"] == "Deployment"]
    check_rules(promtool, rule_file(tmp_path, rule, f"app-{env}"))
    tests = app_tests(env, deployment["metadata"]["namespace"], deployment["metadata"]["name"])
    assert_passes(promtool_test(promtool, tmp_path, rule, f"app-{env}", tests))


# ---------------------------------------------------------------------------------------------------------
# The tests can fail: the same synthetic series catch a rule broken on purpose.

def _mutate(rule: dict, alertname: str, change) -> dict:
    broken = copy.deepcopy(rule)
    hits = [r for g in broken["spec"]["groups"] for r in g["rules"] if r.get("alert") == alertname]
    assert hits, alertname
    for r in hits:
        change(r)
    return broken


MUTATIONS = {
    "VeleroBackupFailed counts only Failed": ("VeleroBackupFailed",
                                              lambda r: r.update(expr=r["expr"].split(" or ")[0])),
    "VeleroBackupStale waits a window more (for:)": ("VeleroBackupStale", lambda r: r.update({"for": "1h"})),
    "VeleroBackupStale without its never-succeeded branch": ("VeleroBackupStale",
                                                             lambda r: r.update(expr=r["expr"].split(" or ")[0])),
    "VeleroBackupLocationUnavailable fires at once": ("VeleroBackupLocationUnavailable", lambda r: r.pop("for")),
    "VeleroBackupPartiallyFailed on the failure counter": (
        "VeleroBackupPartiallyFailed", lambda r: r.update(expr=r["expr"].replace("partial_failure", "failure"))),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_velero_tests_catch_a_broken_rule(promtool, addon_rules, tmp_path, mutation):
    alertname, change = MUTATIONS[mutation]
    broken = _mutate(only_rule(addon_rules["local"]["velero"]), alertname, change)
    run = promtool_test(promtool, tmp_path, broken, "velero-broken", velero_tests(addon_rules["local"]["velero_schedules"]))
    assert run.returncode != 0 and "FAILED" in run.stdout + run.stderr, (
        f"the rule broken on purpose ({mutation}) still passed the tests:\n{run.stdout[-3000:]}")
