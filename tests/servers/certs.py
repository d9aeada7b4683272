"""Test certificates made with the `openssl` command: a private CA and server certificates
that are good, self-signed, for the wrong host, or expired (`openssl ca -startdate/-enddate`,
since OpenSSL 3.0's `x509` can't back-date)."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

CA_CONFIG = """\
[ca]
default_ca = test
[test]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[loopback]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
[elsewhere]
basicConstraints = CA:FALSE
subjectAltName = DNS:es.example.invalid
"""


@dataclass(frozen=True)
class ServerCert:
    """`chain` is what the server presents (leaf, then CA when CA-signed); `key` its key."""

    name: str
    chain: Path
    key: Path
    leaf: Path


@dataclass(frozen=True)
class CertificateSet:
    ca: Path  # the CA certificate (PEM) to use as ca_certs
    good: ServerCert  # CA-signed, for 127.0.0.1 and localhost, valid
    self_signed: ServerCert  # self-signed, for 127.0.0.1
    wrong_host: ServerCert  # CA-signed, only for es.example.invalid
    expired: ServerCert  # CA-signed, for 127.0.0.1, valid only in January 2020


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def sha256_fingerprint(pem_path: Path) -> str:
    """`AB:CD:…` of the first certificate in a PEM file."""
    der = ssl.PEM_cert_to_DER_cert(pem_path.read_text())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2))


def _ca_signed(
    directory: Path, name: str, subject: str, extensions: str, *dates: str
) -> ServerCert:
    key, csr, leaf = (directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        f"/CN={subject}",
        cwd=directory,
    )
    validity = list(dates) if dates else ["-days", "30"]
    _openssl(
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        "ca.crt",
        "-keyfile",
        "ca.key",
        "-extensions",
        extensions,
        "-in",
        str(csr),
        "-out",
        str(leaf),
        "-notext",
        *validity,
        cwd=directory,
    )
    chain = directory / f"{name}-chain.pem"
    chain.write_text(leaf.read_text() + (directory / "ca.crt").read_text())
    return ServerCert(name, chain, key, leaf)


def make_certificates(directory: Path) -> CertificateSet:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.cnf").write_text(CA_CONFIG.format(dir=directory))
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("1000\n")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=Sluice Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "self.key",
        "-out",
        "self.crt",
        "-days",
        "30",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        cwd=directory,
    )
    self_signed = ServerCert(
        "self_signed", directory / "self.crt", directory / "self.key", directory / "self.crt"
    )
    return CertificateSet(
        ca=directory / "ca.crt",
        good=_ca_signed(directory, "good", "127.0.0.1", "loopback"),
        self_signed=self_signed,
        wrong_host=_ca_signed(directory, "wrong_host", "es.example.invalid", "elsewhere"),
        expired=_ca_signed(
            directory,
            "expired",
            "127.0.0.1",
            "loopback",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ),
    )
