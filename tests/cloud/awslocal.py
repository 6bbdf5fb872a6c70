"""The local AWS endpoint (moto_server) as the cloud tests use it; fixtures in conftest.py."""
from __future__ import annotations

import json
import socket
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REGION = "eu-west-3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Moto:
    url: str
    env: dict = field(default_factory=dict)
    call_log: Path | None = None

    def calls(self) -> list[dict]:
        """Every operation served so far: service, operation, served_by (moto | extension | moto+extension), status."""
        if self.call_log is None or not self.call_log.exists():
            return []
        return [json.loads(line) for line in self.call_log.read_text().splitlines() if line]

    def mark(self) -> int:
        """A position in the call log; calls_since(mark) returns what was served after it."""
        return len(self.calls())

    def calls_since(self, mark: int) -> list[dict]:
        return self.calls()[mark:]

    def reset(self) -> None:
        """Forget every resource (between tests, so each starts from an empty account)."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).read()

    def client(self, service: str):
        import boto3

        from botocore.config import Config

        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                            aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))


# Inputs the beta/prod inventories leave to the operator: the ARNs of the ECR cache credentials
# (network.yml, ecr_*_credential_arn).
VAULT_VARS = {
    "ecr_docker_hub_credential_arn":
        "arn:aws:secretsmanager:eu-west-3:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf",
    "ecr_ghcr_credential_arn": "arn:aws:secretsmanager:eu-west-3:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf",
}


def moto_lacks(call) -> str | None:
    """What moto answers an API it does not implement with (HTTP 404 or 500 and an HTML page), else None."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("404", "500", "NotImplemented") and "<html" in error.get("Message", "").lower():
            return f"HTTP {error['Code']} for {exc.operation_name}"
    return None


def served_table(calls: list[dict], service: str = "eks") -> str:
    """The operations of one service, by who served them, as a markdown table (printed by the tests)."""
    counts = Counter((c["operation"], c["served_by"]) for c in calls if c["service"] == service)
    rows = ["| Operation | Served by | Calls |", "|---|---|---|"]
    rows += [f"| {op} | {by} | {n} |" for (op, by), n in sorted(counts.items(), key=lambda x: (x[0][1], x[0][0]))]
    return "\n".join(rows)
