"""The app's credential: a client secret, or a certificate and its private key.

With a certificate the app proves itself with a JWT signed by its key (RFC 7523 client
assertion, as the identity platform documents it: header `alg` RS256 and `x5t` the
certificate's SHA-1 thumbprint; claims `aud` the token URL, `iss` = `sub` the client id,
`jti`, `nbf`, `exp`). The PEM text is checked here, before any network, so a pasted
certificate without its key, or a key of another certificate, is named on its field.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from sluice.sources.errors import ConfigurationError
from sluice.sources.jwt_assertion import b64url as _b64url
from sluice.sources.jwt_assertion import pem_bytes as _pem_bytes
from sluice.sources.jwt_assertion import signed_jwt

#: How long a client assertion is valid (the identity platform accepts up to an hour).
ASSERTION_LIFETIME = 600


@dataclass(frozen=True, slots=True)
class ClientSecret:
    value: str = field(repr=False)

    def form(self, token_url: str, client_id: str) -> dict[str, str]:
        return {"client_secret": self.value}


@dataclass(frozen=True)
class ClientCertificate:
    """A certificate registered on the app, and the RSA key that signs the assertions."""

    thumbprint: str  # base64url SHA-1, the JWT `x5t`
    key: Any = field(repr=False)

    @classmethod
    def from_pem(cls, certificate: str, private_key: str) -> ClientCertificate:
        errors: dict[str, str] = {}
        cert = key = None
        try:
            cert = x509.load_pem_x509_certificate(_pem_bytes(certificate))
        except ValueError:
            errors["certificate"] = (
                "'Content of certificate file' is not a PEM certificate: paste the whole "
                "file, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
            )
        try:
            key = load_pem_private_key(_pem_bytes(private_key), password=None)
        except TypeError:
            errors["private_key"] = (
                "'Content of private key file' is encrypted: export it without a password "
                "(openssl rsa -in key.pem -out plain.pem)."
            )
        except (ValueError, Exception):
            errors["private_key"] = (
                "'Content of private key file' is not a PEM private key: paste the whole "
                "file, from -----BEGIN ... PRIVATE KEY----- to its END line."
            )
        if key is not None and not isinstance(key, rsa.RSAPrivateKey):
            errors["private_key"] = (
                "'Content of private key file' is not an RSA key: Microsoft's identity "
                "platform signs app assertions with RS256, so create an RSA key "
                "(openssl req -x509 -newkey rsa:2048 ...)."
            )
        if errors:
            raise ConfigurationError(errors)
        assert cert is not None and isinstance(key, rsa.RSAPrivateKey)
        if _spki(cert.public_key()) != _spki(key.public_key()):
            raise ConfigurationError(
                {
                    "private_key": "'Content of private key file' does not belong to the "
                    "certificate: paste the key that was created with this certificate."
                }
            )
        return cls(_b64url(cert.fingerprint(hashes.SHA1())), key)

    def assertion(self, token_url: str, client_id: str, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": str(uuid.uuid4()),
            "nbf": issued,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        return signed_jwt(claims, self.key, {"x5t": self.thumbprint})

    def form(self, token_url: str, client_id: str) -> dict[str, str]:
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(token_url, client_id),
        }


Credential = ClientSecret | ClientCertificate


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
