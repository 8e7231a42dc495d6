"""The test cluster's certificates and keys, made with the openssl command line (in Debian's base).

One throwaway CA signs the API server's serving certificate and every client certificate; the
client's groups are the certificate's organisations (``O=``), as the API server reads them. The
service-account key pair signs the tokens the API server issues (TokenRequest).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# The API server's in-cluster names and addresses, and the loopback it really serves on.
SERVING_NAMES = (
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1",
    "IP:10.96.0.1",
)
DAYS = "2"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _ec_key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )


def _signed(directory: Path, name: str, subject: str, extensions: str) -> tuple[Path, Path]:
    """A key and a certificate signed by the CA in ``directory``."""
    key, csr, cert = (directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    conf = directory / f"{name}.ext"
    _ec_key(key)
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    conf.write_text(extensions)
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(directory / "ca.crt"),
        "-CAkey", str(directory / "ca.key"), "-CAcreateserial", "-days", DAYS,
        "-extfile", str(conf), "-out", str(cert),
    )  # fmt: skip
    return cert, key


def make(directory: Path, clients: dict[str, str]) -> None:
    """ca.{crt,key}, apiserver.{crt,key}, sa.{key,pub}, and <name>.{crt,key} for each client
    (name -> subject, e.g. "/O=system:masters/CN=e2e-admin")."""
    directory.mkdir(parents=True, exist_ok=True)
    _ec_key(directory / "ca.key")
    _openssl(
        "req", "-x509", "-new", "-key", str(directory / "ca.key"), "-subj", "/CN=jcode-e2e-ca",
        "-days", DAYS, "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(directory / "ca.crt"),
    )  # fmt: skip
    _signed(
        directory,
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName={','.join(SERVING_NAMES)}\n",
    )
    for name, subject in clients.items():
        _signed(
            directory,
            name,
            subject,
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=clientAuth\n",
        )
    # Service-account tokens are RS256-signed.
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", str(directory / "sa.key"))  # fmt: skip
    _openssl("pkey", "-in", str(directory / "sa.key"), "-pubout", "-out", str(directory / "sa.pub"))
