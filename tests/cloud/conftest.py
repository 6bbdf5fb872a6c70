"""The local AWS endpoint for the cloud tier: moto_server on loopback, one per session.

moto_server runs with the project's EKS extension (cloud/moto_eks.py: the EKS APIs moto lacks,
model-validated) and logs every operation it serves, so a test can say which calls ran against
moto and which against the extension. Modules reach it through `endpoint_url` (the roles'
*_endpoint_url variables) and dummy credentials in the environment; nothing here can reach the
real AWS.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cloud.awslocal import REGION, Moto, free_port
from helpers import require

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    binary = VENV_BIN / "moto_server"
    require(binary.exists(), f"{binary} is missing (moto[server] from requirements.txt); run `make venv`")
    port = free_port()
    folder = tmp_path_factory.mktemp("moto")
    log = folder / "moto_server.log"
    calls = folder / "calls.jsonl"
    with log.open("w") as out:
        # AWS managed IAM policies (AmazonEKSClusterPolicy, ...) exist in every real account; moto loads them on request.
        proc = subprocess.Popen([sys.executable, "-m", "cloud.moto_eks", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent,
                                env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                                     "OUI_MOTO_CALL_LOG": str(calls)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {url}:\n{log.read_text()[-2000:]}")
                time.sleep(0.3)
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            # no profile or instance metadata lookups: the dummy credentials above are the only ones
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        print(f"\nmoto_server {url} (log {log})")
        yield Moto(url=url, env=env, call_log=calls)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def aws(moto_server):
    """An empty account at the start of the test."""
    moto_server.reset()
    return moto_server
