"""The `backup_stack` session fixture: the local backup stack (backup/up.sh: moto's S3 on loopback
and a `velero server` process built from the Velero Go module) against the shared test cluster.
Used by tests/backup and by the AWX template runs of tests/ci (backup now, restore drill)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import REPO, VENV_BIN, require


@dataclass
class BackupStack:
    env: dict = field(repr=False)      # subprocess environment: the cluster's plus velero on PATH
    info: dict                          # what backup/up.sh printed (VELERO, OUI_LOCAL_S3_URL, ...)
    cluster: object = field(repr=False)

    def bucket_bytes(self) -> tuple[int, int]:
        """(objects, bytes) under the cluster's prefix of the backup bucket."""
        import boto3
        import botocore.config

        s3 = boto3.client("s3", endpoint_url=self.info["OUI_LOCAL_S3_URL"], region_name="us-east-1",
                          aws_access_key_id="oui-local", aws_secret_access_key="oui-local",
                          config=botocore.config.Config(s3={"addressing_style": "path"}))
        count = size = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.info["OUI_BACKUP_BUCKET"],
                                                                  Prefix=self.info["OUI_BACKUP_PREFIX"] + "/"):
            for obj in page.get("Contents", []):
                count, size = count + 1, size + obj["Size"]
        return count, size


@pytest.fixture(scope="session")
def backup_stack(test_cluster) -> BackupStack:
    require(shutil.which("go") is not None, "no Go toolchain: velero is built from its Go module (cluster/components.yml, group backup)")
    started = time.monotonic()
    proc = subprocess.run(["bash", str(REPO / "backup" / "up.sh")], env={**test_cluster.env, "PATH": f"{VENV_BIN}{os.pathsep}{test_cluster.env['PATH']}"},
                          capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, f"backup/up.sh failed:\n{proc.stderr[-4000:]}"
    info = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    print(f"backup stack up in {time.monotonic() - started:.1f} s: {info['VELERO']}")
    env = {**test_cluster.env, "OUI_LOCAL_S3_URL": info["OUI_LOCAL_S3_URL"],
           "PATH": f"{Path(info['VELERO']).parent}{os.pathsep}{test_cluster.env['PATH']}"}
    return BackupStack(env=env, info=info, cluster=test_cluster)
