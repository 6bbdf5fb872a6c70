"""The local AWS endpoint (moto_server) as the cloud tests use it; fixtures in conftest.py."""
from __future__ import annotations

import socket
import urllib.request
from dataclasses import dataclass, field

REGION = "eu-west-3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Moto:
    url: str
    env: dict = field(default_factory=dict)

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
