"""The gateway's TLS identity: a sandbox CA and a 127.0.0.1 server certificate, kept in the store.

kubectl (client-go) sends bearer tokens only over TLS, so the gateway also speaks HTTPS on its
port; kubeconfigs carry the CA (`certificate-authority-data`). The pair is made once per state
directory and reused after a restart, so written kubeconfigs stay valid.
(`cryptography` comes with google-auth, PyJWT and Prefect.)
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox.store import Store

TLS = "k8s.tls"
_VALID_DAYS = 3650


@dataclass(frozen=True)
class GatewayTls:
    """PEM texts: the CA clients trust, and the server's certificate and key."""

    ca_pem: str
    cert_pem: str
    key_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue() -> GatewayTls:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    until = now + datetime.timedelta(days=_VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("mlplat sandbox CA"))
        .issuer_name(_name("mlplat sandbox CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("connectgateway.sandbox"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return GatewayTls(
        ca_pem=ca.public_bytes(pem).decode(),
        cert_pem=cert.public_bytes(pem).decode(),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def gateway_tls(store: Store) -> GatewayTls:
    """The stored TLS identity, made on first use."""
    with store.transaction():
        doc = store.get(TLS, "gateway")
        if doc is None:
            made = _issue()
            doc = {"ca": made.ca_pem, "cert": made.cert_pem, "key": made.key_pem}
            store.put(TLS, "gateway", doc)
    return GatewayTls(doc["ca"], doc["cert"], doc["key"])


def server_context(tls: GatewayTls) -> ssl.SSLContext:
    """An SSL context serving the gateway certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="gateway-tls-") as folder:
        chain = os.path.join(folder, "chain.pem")
        key = os.path.join(folder, "key.pem")
        with open(chain, "w") as out:
            out.write(tls.cert_pem + tls.ca_pem)
        with open(key, "w") as out:
            out.write(tls.key_pem)
        context.load_cert_chain(chain, key)
    return context
