"""What the real-node tests share: the node's name and taint, the app role's release of the app
onto it (RealApp), and a bounded request loop (Load)."""
from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest

from helpers import run_playbook
from testbed import PATHS

NODE = PATHS["OUI_NODE_NAME"]
TOLERATION = {"key": "node.oui.io/real", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def get_json(cluster, *args) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def ready(obj: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))


class RealApp:
    """The app role's release of the app onto the real node, in a namespace of its own."""

    def __init__(self, cluster, image_ref: str, prefix: str = "oui-real-t"):
        self.cluster = cluster
        self.namespace = f"{prefix}-{secrets.token_hex(3)}"
        repo, tag = image_ref.rsplit(":", 1)
        self.vars = {
            "app_namespace": self.namespace,
            "app_image_repository": repo,
            "app_image_tag": tag,
            "app_image_pull_policy": "Never",
            "app_node_selector": {"node.oui.io/real": "true"},
            "app_tolerations": [TOLERATION],
            "app_hpa_min_replicas": 2,
            "app_hpa_max_replicas": 4,
            "app_hpa_scale_down_stabilization_seconds": 15,
            "app_hpa_scale_down_percent": 100,
            # The local inventory's CPU request (what the HPA's percentage is of); a memory
            # request above what Node.js keeps after a burst of load (~60 MiB), so that the
            # memory target (80 %) does not hold the replicas up after the CPU load stops.
            "app_resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                              "limits": {"cpu": "250m", "memory": "256Mi"}},
        }

    def play(self, **extra):
        return run_playbook("playbooks/app.yml", "inventories/local/hosts.yml", extra_vars={**self.vars, **extra},
                            env=self.cluster.env, timeout=900)

    def pods(self) -> list[dict]:
        items = get_json(self.cluster, "pods", "-n", self.namespace, "-l", "app.kubernetes.io/name=oui-app")["items"]
        return [p for p in items if "deletionTimestamp" not in p["metadata"]]

    def service_url(self, path: str = "/") -> str:
        svc = get_json(self.cluster, "service", "oui-app", "-n", self.namespace)
        return f"http://{svc['spec']['clusterIP']}:{svc['spec']['ports'][0]['port']}{path}"

    def wait_ready(self, count: int | None = None, timeout: float = 180) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            pods = self.pods()
            if pods and all(ready(p) for p in pods) and (count is None or len(pods) == count):
                return pods
            if time.monotonic() > deadline:
                pytest.fail(f"pods not Ready after {timeout} s: " + json.dumps(
                    [(p["metadata"]["name"], p["status"].get("phase"), p["status"].get("containerStatuses"))
                     for p in pods])[:3000])
            time.sleep(1)

    def replicas(self) -> int:
        return int(get_json(self.cluster, "deployment", "oui-app", "-n", self.namespace)["status"].get("replicas", 0))


class Load:
    """A bounded request loop from this process against a URL: counts, failures, latencies."""

    def __init__(self, url: str, workers: int = 4, pause: float = 0.02,
                 request: Callable[[], tuple[int, bytes]] | None = None):
        """`request` (default: GET `url` with urllib) makes one request and returns (status, body);
        it raises on a failure below HTTP (connection, TLS)."""
        self.url, self.workers, self.pause = url, workers, pause
        self.request = request or self._get
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]
        self.started = self.stopped = 0.0

    def _get(self) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.url, timeout=5) as resp:
            return resp.status, resp.read()

    def _run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                status, body = self.request()
                ok = status == 200 and body.strip() == b"Hello OUI!"
                err = None if ok else f"{status} {body[:60]!r}"
            except Exception as exc:  # noqa: BLE001 - every failure counts
                err = f"{type(exc).__name__}: {exc}"
            with self.lock:
                self.latencies.append(time.monotonic() - t0)
                if err:
                    self.failures.append(err)
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self):
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)
        self.stopped = time.monotonic()

    def summary(self) -> str:
        lat = sorted(self.latencies)
        p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
        seconds = (self.stopped or time.monotonic()) - self.started
        return (f"{len(lat)} requests in {seconds:.1f} s ({len(lat) / seconds:.1f}/s), {len(self.failures)} failed, p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
                f"max {p(1.0):.1f} ms")
