"""Real client identities for the test cluster: client certificates for group members and
ServiceAccount tokens, each written as a kubeconfig of its own (no impersonation involved).

A certificate is signed by the cluster's own CA when its key is found in the cluster's state
directory (kwokctl keeps it in <state>/pki next to the kubeconfig); otherwise it is issued through
the CertificateSigningRequest API (signer kubernetes.io/kube-apiserver-client, approved as admin).
"""
from __future__ import annotations

import base64
import datetime
import time
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def admin_cluster_entry(kubeconfig: Path) -> dict:
    config = yaml.safe_load(kubeconfig.read_text())
    context_name = config.get("current-context") or config["contexts"][0]["name"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
    cluster = dict(next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]))
    if "certificate-authority" in cluster:
        ca_path = Path(cluster.pop("certificate-authority"))
        if not ca_path.is_absolute():
            ca_path = kubeconfig.parent / ca_path
        cluster["certificate-authority-data"] = _b64(ca_path.read_bytes())
    return cluster


def write_kubeconfig(path: Path, cluster: dict, user: dict) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "subject", "user": user}],
        "contexts": [{"name": "subject", "context": {"cluster": "test", "user": "subject"}}],
        "current-context": "subject",
    }))
    path.chmod(0o600)
    return path


def find_cluster_ca(kubeconfig: Path, cluster: dict) -> tuple[x509.Certificate, object] | None:
    """The CA certificate and key the API server trusts, if its key lies in the cluster's state directory."""
    ca_data = cluster.get("certificate-authority-data")
    if not ca_data:
        return None
    trusted = x509.load_pem_x509_certificate(base64.b64decode(ca_data))
    for key_path in sorted(kubeconfig.parent.glob("**/ca.key")):
        cert_path = key_path.with_suffix(".crt")
        if not cert_path.is_file():
            continue
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.fingerprint(hashes.SHA256()) == trusted.fingerprint(hashes.SHA256()):
            return cert, serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return None


def _subject(user: str, groups: list[str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)]
                     + [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups])


def sign_locally(ca: tuple[x509.Certificate, object], user: str, groups: list[str], key) -> bytes:
    ca_cert, ca_key = ca
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_subject(user, groups)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def sign_with_csr_api(api_client, user: str, groups: list[str], key, timeout: float = 30) -> bytes | None:
    """Issue through the CSR API as an admin would; None when no signer answers in time."""
    from kubernetes import client

    csr_pem = (x509.CertificateSigningRequestBuilder().subject_name(_subject(user, groups))
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    certificates = client.CertificatesV1Api(api_client)
    name = f"oui-access-test-{user}-{int(time.time())}"
    certificates.create_certificate_signing_request(client.V1CertificateSigningRequest(
        metadata=client.V1ObjectMeta(name=name, labels={"app.kubernetes.io/name": "access-tests"}),
        spec=client.V1CertificateSigningRequestSpec(
            request=_b64(csr_pem), signer_name="kubernetes.io/kube-apiserver-client",
            usages=["client auth"], expiration_seconds=3600)))
    try:
        csr = certificates.read_certificate_signing_request(name)
        csr.status.conditions = [client.V1CertificateSigningRequestCondition(
            type="Approved", status="True", reason="AccessTests", message="approved by the access tests")]
        certificates.replace_certificate_signing_request_approval(name, csr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            issued = certificates.read_certificate_signing_request(name).status.certificate
            if issued:
                return base64.b64decode(issued)
            time.sleep(1)
        return None
    finally:
        certificates.delete_certificate_signing_request(name)


def client_certificate_kubeconfig(directory: Path, admin_kubeconfig: Path, api_client, user: str,
                                  groups: list[str]) -> tuple[Path, str] | None:
    """A kubeconfig authenticating as `user` in `groups` by client certificate, and how it was issued."""
    cluster = admin_cluster_entry(admin_kubeconfig)
    key = ec.generate_private_key(ec.SECP256R1())
    ca = find_cluster_ca(admin_kubeconfig, cluster)
    if ca is not None:
        cert, how = sign_locally(ca, user, groups, key), "signed by the cluster CA (state dir)"
    else:
        cert, how = sign_with_csr_api(api_client, user, groups, key), "issued via the CSR API"
        if cert is None:
            return None
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path = write_kubeconfig(directory / f"{user}.kubeconfig", cluster,
                            {"client-certificate-data": _b64(cert), "client-key-data": _b64(key_pem)})
    return path, how


def token_kubeconfig(directory: Path, admin_kubeconfig: Path, name: str, token: str) -> Path:
    return write_kubeconfig(directory / f"{name}.kubeconfig", admin_cluster_entry(admin_kubeconfig), {"token": token})
