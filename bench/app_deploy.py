#!/usr/bin/env python3
"""Time deploying the app to the test cluster: playbooks/app.yml (first converge, then a
no-change re-run) beside `kubectl apply --server-side` of the same rendered manifests (first
apply, then a no-change re-apply), in the same run, each in a fresh namespace of its own.

The playbook does more than the apply: the shared preflight and environment guard, input
checks, reading CRDs, waiting for the rollout and verifying pods and endpoints. To compare
like with like, the kubectl side is also timed with `kubectl rollout status` after the first
apply. Prints figures and ratios; asserts nothing about timings.

    .venv/bin/python bench/app_deploy.py            (or: make bench-app-deploy)
KUBECONFIG set and OUI_BENCH_USE_KUBECONFIG=1: use that cluster (kubectl from PATH) instead of
starting the test cluster.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from helpers import run_playbook  # noqa: E402  (the tests' helper: run playbooks as a user does)


def cluster_env() -> dict:
    if os.environ.get("OUI_BENCH_USE_KUBECONFIG") == "1":
        return dict(os.environ)
    up = subprocess.run(["bash", "cluster/up.sh"], cwd=REPO, capture_output=True, text=True, check=True)
    info = dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)
    kubeconfig, bin_dir = info["KUBECONFIG"], info["OUI_BIN_DIR"]
    return {**os.environ, "KUBECONFIG": kubeconfig, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def timed(fn):
    t0 = time.monotonic()
    result = fn()
    return time.monotonic() - t0, result


def main() -> int:
    env = cluster_env()
    kubectl = shutil.which("kubectl", path=env["PATH"])
    token = secrets.token_hex(3)
    ns_play, ns_kubectl = f"oui-bench-play-{token}", f"oui-bench-kubectl-{token}"

    def kube(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([kubectl, *args], env=env, capture_output=True, text=True, check=True)

    def play(**extra):
        run = run_playbook("playbooks/app.yml", extra_vars={"app_namespace": ns_play, **extra}, env=env)
        if run.returncode != 0:
            raise SystemExit(f"bench: playbooks/app.yml failed:\n{run.tail(40)}")
        return run

    # The role manages the monitoring objects where their CRDs are (app_monitoring=auto); the
    # render, which sees no cluster, is told the same answer.
    crds = kube("get", "crd", "-o", "name").stdout
    monitoring = "always" if all(f"{c}.monitoring.coreos.com" in crds for c in ("servicemonitors", "prometheusrules")) \
        else "never"
    with tempfile.TemporaryDirectory() as manifests:
        render = run_playbook("playbooks/app.yml", extra_vars={"app_namespace": ns_kubectl, "app_render_dir": manifests,
                                                               "app_monitoring": monitoring})
        if render.returncode != 0:
            raise SystemExit(f"bench: render failed:\n{render.tail(40)}")
        files = sorted(str(p) for p in Path(manifests).glob("*.yaml"))
        apply = ["apply", "--server-side", "--field-manager=oui.platform", "--force-conflicts"]
        try:
            t_first, first = timed(play)
            t_again, again = timed(play)
            t_apply, _ = timed(lambda: kube(*apply, "-f", manifests))
            t_rollout, _ = timed(lambda: kube("rollout", "status", "deployment/oui-app", "-n", ns_kubectl,
                                              "--timeout=300s"))
            t_reapply, _ = timed(lambda: kube(*apply, "-f", manifests))
        finally:
            for ns in (ns_play, ns_kubectl):
                subprocess.run([kubectl, "delete", "namespace", ns, "--wait=false", "--ignore-not-found"],
                               env=env, capture_output=True, check=False)

    print(f"app deploy bench on {env['KUBECONFIG']} ({len(files)} manifests; pods on kwok nodes are simulated)")
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end (shared machines vary)")
    print(f"  playbooks/app.yml first converge   {t_first:7.2f} s  (changed={first.changed})")
    print(f"  playbooks/app.yml no-change re-run {t_again:7.2f} s  (changed={again.changed})")
    print(f"  kubectl apply first                {t_apply:7.2f} s  (+ rollout status {t_rollout:.2f} s)")
    print(f"  kubectl apply no-change re-apply   {t_reapply:7.2f} s")
    print(f"  ratio first converge / (apply + rollout status): {t_first / (t_apply + t_rollout):.1f}x")
    print(f"  ratio no-change re-run / re-apply:               {t_again / t_reapply:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
