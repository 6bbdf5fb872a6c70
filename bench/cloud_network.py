#!/usr/bin/env python3
"""Time and AWS API calls of the network role: first converge vs a no-change re-run.

Runs playbooks/network.yml (inventory beta or prod) against a moto_server on loopback,
twice, then tears the network down. Every AWS request is counted from moto's own request
log (its recorder, /moto-api/recorder/*), named by operation (Action parameter, X-Amz-Target
header, or the REST route of the service's botocore model), and printed with the wall time
and the ratio of the two runs. The figures are printed, never asserted.

    .venv/bin/python bench/cloud_network.py [beta|prod]

The distinct operations of the three runs are the AWS permissions the role uses; the role
README's IAM list was checked against this output. The ECR cache step is skipped (moto lacks
its API), as in tests/cloud.
"""
from __future__ import annotations

import base64
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from helpers import run_playbook  # noqa: E402
from cloud.awslocal import VAULT_VARS, free_port  # noqa: E402

SKIP = "cloud_network_ecr_cache"


def _rest_routes():
    """(service, method, regex) -> operation, from botocore's models of the REST services used."""
    import botocore.session

    session = botocore.session.get_session()
    routes = []
    for service in ("eks", "s3"):
        model = session.get_service_model(service)
        for name in model.operation_names:
            http = model.operation_model(name).http
            path = http["requestUri"].split("?")[0]
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", path.rstrip("/")) + "/?$"
            routes.append((service, http["method"], re.compile(pattern), name))
    return routes


ROUTES = _rest_routes()


def operation(entry: dict) -> str:
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    service = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = service.group(1) if service else "?"
    if "x-amz-target" in headers:
        return f"{service}:{headers['x-amz-target'].rsplit('.', 1)[-1]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(entry["url"]).query)
    action = urllib.parse.parse_qs(body).get("Action") or query.get("Action")
    if action:
        return f"{service}:{action[0]}"
    path = urllib.parse.urlsplit(entry["url"]).path
    for svc, method, pattern, name in ROUTES:
        if svc == service and method == entry["method"] and pattern.match(path.rstrip("/") or "/"):
            return f"{service}:{name}"
    return f"{service}:{entry['method']} {path}"


class Recorder:
    def __init__(self, url: str):
        self.url = url

    def _call(self, what: str, method: str = "POST") -> bytes:
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{what}", method=method)
        return urllib.request.urlopen(request, timeout=30).read()

    def restart(self) -> None:
        self._call("reset-recording")
        self._call("start-recording")

    def operations(self) -> collections.Counter:
        text = self._call("download-recording", method="GET").decode()
        return collections.Counter(operation(json.loads(line)) for line in text.splitlines() if line.strip())


def main() -> int:
    env_name = sys.argv[1] if len(sys.argv) > 1 else "beta"
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-cloud-network-"))
    moto_env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                "MOTO_RECORDER_FILEPATH": str(workdir / "requests.jsonl")}
    log = (workdir / "moto_server.log").open("w")
    proc = subprocess.Popen([str(REPO / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            env=moto_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    aws_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-3",
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        recorder = Recorder(url)
        results = {}
        everything = collections.Counter()
        for label, extra in (("first converge", {}), ("no-change re-run", {}),
                             ("teardown", {"cloud_network_state": "absent"})):
            recorder.restart()
            started = time.monotonic()
            run = run_playbook("playbooks/network.yml", f"inventories/{env_name}/hosts.yml",
                               extra_vars={"cloud_network_endpoint_url": url, **VAULT_VARS, **extra},
                               env=aws_env, extra_args=["--skip-tags", SKIP])
            elapsed = time.monotonic() - started
            if run.returncode != 0:
                print(run.tail(), file=sys.stderr)
                return 1
            ops = recorder.operations()
            everything.update(ops)
            results[label] = (elapsed, sum(ops.values()), run.changed, ops)

        print(f"cloud_network, inventory {env_name}, against moto_server {url} (step skipped: {SKIP})")
        print(f"{'run':<18} {'seconds':>8} {'API calls':>10} {'changed':>8}")
        for label, (elapsed, calls, changed, _) in results.items():
            print(f"{label:<18} {elapsed:>8.1f} {calls:>10} {changed:>8}")
        first, rerun = results["first converge"], results["no-change re-run"]
        print(f"re-run / first: time {rerun[0] / first[0]:.2f}, API calls {rerun[1] / first[1]:.2f}")
        print("\nre-run calls by operation:")
        for name, count in sorted(rerun[3].items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {count:>4} {name}")
        print("\ndistinct operations of the three runs (the role's AWS permissions, without ECR):")
        print("  " + ", ".join(sorted(everything)))
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
