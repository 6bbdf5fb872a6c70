"""The whole platform on the test cluster, proved with real requests.

playbooks/site.yml on the local inventory (the `platform` fixture: every chart from the chart
mirror, Traefik, cert-manager and metrics-server as real pods on the real node) completes, and a
second run changes nothing. Then the app is released onto the real node by the app role with an
Ingress of class nginx under the test bed's DNS zone (OUI_INGRESS_DOMAIN): Traefik's ingress-nginx
provider serves it, cert-manager gets its certificate from the ACME test server (Pebble, standing
in for Let's Encrypt behind the ClusterIssuer letsencrypt-prod) by a real HTTP-01 round trip
through Traefik, and curl checks what a user sees, verifying the certificate against Pebble's root
(OUI_CA_BUNDLE, never -k): HTTPS answers `Hello OUI!`, HTTP redirects to HTTPS, and the same
Ingress answers 403 to a source outside its allow-list (OUI_DENIED_SOURCE_ADDRESS, a network
namespace of this machine). Every request is printed with its answer; times are printed, never
asserted. Last, cert-manager issues the certificate a second time while a steady HTTPS load runs
through Traefik, and not one request of the load fails.
"""
from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time
from datetime import datetime, timezone

from cryptography import x509

import pytest

from helpers import run_playbook
from tests.ci.awx import credential_type, inject, load_assets, runner_run, templates
from realnode import Load, RealApp, get_json, ready
from realnode_lock import real_node_lock

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]
ASSETS = load_assets()


def changed_tasks(output: str) -> list[str]:
    """The tasks a run reported changed (the TASK line above each `changed:`)."""
    found, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:") and task:
            found.append(task)
    return found


def test_site_converges_on_local(platform):
    run = platform["run"]
    assert all(h["failed"] == 0 and h["unreachable"] == 0 for h in run.recap.values()), run.recap
    print(f"\nsite.yml on local, first converge in this session: {platform['seconds']:.0f} s, recap {run.recap}")


def test_site_rerun_changes_nothing(platform, test_cluster):
    t0 = time.monotonic()
    run = run_playbook("playbooks/site.yml", "inventories/local/hosts.yml", env=platform["env"], timeout=3600)
    seconds = time.monotonic() - t0
    assert run.returncode == 0, run.tail()
    print(f"\nsite.yml on local, re-run on the converged platform: {seconds:.0f} s, recap {run.recap}")
    assert run.changed == 0, f"a re-run changed {changed_tasks(run.output)}"


def test_awx_site_template_on_local_runs_on_the_converged_platform(platform, test_cluster, tmp_path):
    """The job template "OUI site - local" as AWX runs it (ansible-runner with the template's playbook,
    inventory and extra vars, the kubeconfig from the "OUI kubeconfig" credential type's injectors):
    on the platform site.yml converged, the job succeeds and changes nothing."""
    template = next(t for t in templates(ASSETS) if t.name == "OUI site - local")
    kube = credential_type(ASSETS, "OUI kubeconfig")
    credential = inject(kube, {"kubeconfig": test_cluster.kubeconfig.read_text(), "kube_context": ""}, tmp_path)
    t0 = time.monotonic()
    runner, output = runner_run(tmp_path, template, {**platform["env"], **credential, "ANSIBLE_NOCOLOR": "1"})
    changed = sum((runner.stats or {}).get("changed", {}).values())
    print(f"\n{template.name}: status={runner.status} rc={runner.rc} changed={changed} "
          f"in {time.monotonic() - t0:.0f} s")
    assert runner.status == "successful" and runner.rc == 0, output[-4000:]
    assert changed == 0, f"the job changed {changed_tasks(output)}"


def test_check_mode_on_the_converged_platform_reports_no_change(platform, test_cluster):
    t0 = time.monotonic()
    run = run_playbook("playbooks/site.yml", "inventories/local/hosts.yml", env=platform["env"], check=True,
                       diff=True, timeout=3600)
    assert run.returncode == 0, run.tail()
    print(f"\nsite.yml --check --diff on the converged platform: {time.monotonic() - t0:.0f} s, recap {run.recap}")
    assert run.changed == 0, f"--check reports changes: {changed_tasks(run.output)}"


class Https:
    """The app on the real node behind an Ingress of its own host name, and how to ask it."""

    def __init__(self, app: RealApp, env: dict):
        self.app = app
        self.address = env["OUI_INGRESS_ADDRESS"]
        self.ca = env["OUI_CA_BUNDLE"]
        self.netns = env["OUI_DENIED_SOURCE_NETNS"]
        self.denied = env["OUI_DENIED_SOURCE_ADDRESS"]
        self.host = f"{app.namespace}.{env['OUI_INGRESS_DOMAIN']}"
        self.secret = app.vars.get("app_ingress_tls_secret", "oui-app-tls")
        self.certificate_seconds = 0.0
        self.served_seconds = 0.0

    def curl(self, url: str, *, netns: str = "") -> tuple[str, str]:
        """(status line from curl's --write-out, body) of a request to the ingress address, the
        host name resolved to it, the certificate verified against the CA bundle; printed."""
        port = "443" if url.startswith("https") else "80"
        cmd = ["curl", "--silent", "--show-error", "--max-time", "15", "--cacert", self.ca,
               "--resolve", f"{self.host}:{port}:{self.address}",
               "--write-out", "\n%{http_code} %{redirect_url} ssl_verify_result=%{ssl_verify_result}", url]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        assert proc.returncode == 0, f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}"
        body, _, status = proc.stdout.rpartition("\n")
        print(f"\n$ {' '.join(cmd)}\n  -> {status}; body {body.strip()[:80]!r}")
        return status, body

    def peer_certificate(self) -> dict:
        """The certificate the ingress controller serves for the host, verified against the CA bundle."""
        context = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection((self.address, 443), timeout=10) as sock:
            with context.wrap_socket(sock, server_hostname=self.host) as tls:
                return tls.getpeercert()

    def get(self, context: ssl.SSLContext, served: list) -> tuple[int, bytes]:
        """GET / on a new connection to the ingress address, as curl --resolve does: the host name in
        SNI and in Host, the certificate verified against the CA bundle (a certificate it refuses
        raises). Appends (time, serial of the certificate served) to `served`."""
        conn = http.client.HTTPSConnection(self.address, 443, timeout=5, context=context)
        try:
            conn.sock = context.wrap_socket(socket.create_connection((self.address, 443), timeout=5),
                                            server_hostname=self.host)
            served.append((time.monotonic(), int(conn.sock.getpeercert()["serialNumber"], 16)))
            conn.request("GET", "/", headers={"Host": self.host})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def secret_serial(self, cluster) -> int:
        """The serial of the certificate in the Secret cert-manager writes."""
        data = get_json(cluster, "secret", self.secret, "-n", self.app.namespace)["data"]
        return x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"])).serial_number


@pytest.fixture(scope="module")
def https(test_cluster, platform, image):
    """The app released onto the real node with its Ingress (issuer letsencrypt-prod) under the test
    bed's DNS zone; the certificate awaited (Ready); removed at the end."""
    app = RealApp(test_cluster, image, prefix="oui-https")
    site = Https(app, test_cluster.env)
    app.vars.update({"app_ingress_host": site.host, "app_hpa_min_replicas": 1, "app_hpa_max_replicas": 2})
    with real_node_lock(exclusive=False):
        run = app.play()
        assert run.returncode == 0, run.tail()
        t0 = time.monotonic()
        try:
            done = test_cluster.kubectl("-n", app.namespace, "wait", f"certificate/{site.secret}", "--for=condition=Ready",
                                        "--timeout=300s", check=False, timeout=320)
            site.certificate_seconds = time.monotonic() - t0
            if done.returncode != 0:
                events = test_cluster.kubectl("-n", app.namespace, "get", "certificates,certificaterequests,orders,"
                                              "challenges,events", "-o", "wide", check=False).stdout
                pytest.fail(f"the certificate of {site.host} is not Ready after 300 s:\n{events[-4000:]}")
            # Traefik loads the Secret cert-manager wrote on its next sync: until then it serves its
            # default (self-signed) certificate, which the CA bundle refuses.
            deadline, served = time.monotonic() + 60, None
            while served is None:
                try:
                    served = site.peer_certificate()
                except ssl.SSLCertVerificationError as err:
                    if time.monotonic() > deadline:
                        pytest.fail(f"Traefik still serves a certificate the CA bundle refuses for {site.host}: {err}")
                    time.sleep(1)
            site.served_seconds = time.monotonic() - t0
            app.wait_ready()
            yield site
        finally:
            gone = app.play(app_state="absent")
            assert gone.returncode == 0, gone.output[-3000:]


def test_https_answers_hello_with_an_acme_certificate(https, test_cluster):
    status, body = https.curl(f"https://{https.host}/")
    assert status.split()[0] == "200" and body.strip() == "Hello OUI!", (status, body)
    assert "ssl_verify_result=0" in status
    cert = https.peer_certificate()
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
    issuer = dict(item for rdn in cert["issuer"] for item in rdn)
    assert names == [https.host], names
    # Issued through the ClusterIssuer letsencrypt-prod by ACME (an Order and its HTTP-01 Challenge).
    request = get_json(test_cluster, "certificaterequests", "-n", https.app.namespace)["items"][-1]
    assert request["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer",
                                            "name": "letsencrypt-prod"}, request["spec"]["issuerRef"]
    order = json.loads(test_cluster.kubectl("-n", https.app.namespace, "get", "orders", "-o", "json").stdout)["items"]
    assert order and order[-1]["status"]["state"] == "valid", order
    print(f"\ncertificate of {https.host}: subjectAltName {names}, issuer {issuer.get('commonName')!r}, "
          f"valid {cert['notBefore']} .. {cert['notAfter']}; ACME order {order[-1]['metadata']['name']} valid "
          f"(HTTP-01 through Traefik); app role done (Ingress applied) -> Certificate Ready {https.certificate_seconds:.1f} s, "
          f"-> served by Traefik {https.served_seconds:.1f} s")


def test_http_redirects_to_https(https):
    status, _ = https.curl(f"http://{https.host}/")
    code, _, location = status.partition(" ")
    assert code in {"301", "302", "307", "308"}, status
    assert location.split()[0] == f"https://{https.host}/", status


def test_allow_list_admits_an_allowed_source_and_refuses_another(https):
    probe = secrets.token_hex(4)
    allowed, body = https.curl(f"https://{https.host}/?probe={probe}")
    assert allowed.split()[0] == "200" and body.strip() == "Hello OUI!", (allowed, body)
    denied, body = https.curl(f"https://{https.host}/?probe={probe}", netns=https.netns)
    assert denied.split()[0] == "403", (denied, body)
    print(f"\nsame Ingress, same URL: from this machine -> {allowed.split()[0]}, from {https.denied} "
          f"(network namespace {https.netns}, outside {https.app.vars.get('app_ingress_allowlist', 'the inventory allow-list')}) "
          f"-> {denied.split()[0]}")


def condition(obj: dict, kind: str) -> dict:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), {})


def test_certificate_renewal_under_load_fails_no_request(https, test_cluster):
    """cert-manager issues the app's certificate a second time while a steady HTTPS load runs through
    Traefik: the new certificate (another serial) reaches the Secret and is what Traefik serves,
    and not one request of the load fails, before, during or after the switch."""
    ns = https.app.namespace
    before = get_json(test_cluster, "certificate", https.secret, "-n", ns)
    revision = before["status"]["revision"]
    old = https.secret_serial(test_cluster)
    assert int(https.peer_certificate()["serialNumber"], 16) == old, "Traefik does not serve the Secret's certificate"
    # The trigger. Renewal by time is cert-manager's trigger controller setting the Certificate's
    # Issuing condition when status.renewalTime comes; everything after it (a new private key and
    # CertificateRequest, the ACME order through letsencrypt-prod, the Secret, Traefik reloading it)
    # is the same whatever set the condition. A short duration cannot bring that moment within a
    # test's minute: cert-manager refuses a duration under 1 h, and renewBefore close to it would
    # make every issuance re-issue at once. So the test sets the condition itself, through the
    # status subresource, as cert-manager's own `cmctl renew` does (reason ManuallyTriggered).
    trigger = [{"op": "add", "path": "/status/conditions/-", "value": {
        "type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
        "message": "Certificate re-issuance manually triggered", "observedGeneration": before["metadata"]["generation"],
        "lastTransitionTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}}]
    context = ssl.create_default_context(cafile=https.ca)
    served: list[tuple[float, int]] = []
    with Load(f"https://{https.host}/", workers=4, pause=0.05, request=lambda: https.get(context, served)) as load:
        time.sleep(5)  # steady load on the old certificate first
        t_trigger = time.monotonic()
        test_cluster.kubectl("-n", ns, "patch", "certificate", https.secret, "--subresource=status", "--type=json",
                             "-p", json.dumps(trigger))
        deadline, after = t_trigger + 90, before
        while not (after["status"].get("revision", 0) > revision and ready(after)):
            if time.monotonic() > deadline:
                events = test_cluster.kubectl("-n", ns, "get", "certificates,certificaterequests,orders,challenges,events",
                                              "-o", "wide", check=False).stdout
                pytest.fail(f"no second issuance Ready 90 s after the trigger: {condition(after, 'Issuing')}\n"
                            f"{events[-4000:]}")
            time.sleep(1)
            after = get_json(test_cluster, "certificate", https.secret, "-n", ns)
        t_ready = time.monotonic()
        new = https.secret_serial(test_cluster)
        # Traefik loads the changed Secret on its next sync: wait (bounded) for the load to be served it.
        while not any(serial == new for _, serial in served[-20:]):
            if time.monotonic() > t_ready + 60:
                pytest.fail(f"Traefik still serves serial {served[-1][1]:x} 60 s after the Secret holds {new:x}")
            time.sleep(0.5)
        time.sleep(5)  # and the load goes on on the new certificate
    first_new = next(t for t, serial in served if serial == new)
    counts = {f"{serial:x}": sum(1 for _, s in served if s == serial) for serial in dict.fromkeys(s for _, s in served)}
    print(f"\nrenewal under load ({https.host}): {load.summary()}; certificates served (serial: handshakes) {counts}; "
          f"trigger -> Certificate Ready (revision {revision} -> {after['status']['revision']}) {t_ready - t_trigger:.1f} s, "
          f"-> new certificate served by Traefik {first_new - t_trigger:.1f} s")
    assert new != old, f"the second issuance kept serial {old:x}"
    assert set(counts) <= {f"{old:x}", f"{new:x}"}, counts
    assert int(https.peer_certificate()["serialNumber"], 16) == new
    # Issued again through letsencrypt-prod by ACME: the new revision's CertificateRequest.
    requests = [r for r in get_json(test_cluster, "certificaterequests", "-n", ns)["items"]
                if r["metadata"].get("annotations", {}).get("cert-manager.io/certificate-revision")
                == str(after["status"]["revision"])]
    assert requests and ready(requests[0]), requests
    assert requests[0]["spec"]["issuerRef"]["name"] == "letsencrypt-prod", requests[0]["spec"]["issuerRef"]
    assert load.latencies, "no request was made"
    assert not load.failures, f"{len(load.failures)} failed requests, e.g. {load.failures[:5]}"
