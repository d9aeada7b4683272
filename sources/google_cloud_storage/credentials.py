"""The service account's JSON key: read and checked before any request, then used to sign
the JWT that Google's token endpoint exchanges for an access token.

Google's OAuth 2.0 server for service accounts ("Using OAuth 2.0 for Server to Server
Applications"): POST `token_uri` with `grant_type=urn:ietf:params:oauth:grant-type:
jwt-bearer` and `assertion` = a JWT signed with the key (RS256, header `kid` = the key's
id), claims `iss` = the account's e-mail, `scope`, `aud` = `token_uri`, `iat`, and `exp`
at most an hour later.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from sluice.sources.jwt_assertion import pem_bytes, signed_jwt

FIELD = "service_account_credentials"
LABEL = "Google Cloud service account JSON"
#: Elastic's REQUIRED_CREDENTIAL_KEYS (connectors/sources/google_cloud_storage/datasource.py).
REQUIRED_KEYS = (
    "type",
    "project_id",
    "private_key_id",
    "private_key",
    "client_email",
    "client_id",
    "auth_uri",
    "token_uri",
)
#: Read-only access to objects and buckets (Elastic's CLOUD_STORAGE_READ_ONLY_SCOPE).
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Google accepts assertions valid for at most an hour.
ASSERTION_LIFETIME = 3600
NEW_KEY = (
    "In the Google Cloud console open IAM & Admin → Service accounts → the account → Keys "
    "→ Add key → Create new key → JSON, and paste the whole downloaded file."
)


class CredentialsProblem(ValueError):
    """What is wrong with the pasted JSON, as a sentence for the field's message."""


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of the key Sluice uses (never printed: `key` is left out of repr)."""

    project_id: str
    client_email: str
    private_key_id: str = field(repr=False)
    token_uri: str
    key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def from_json(cls, text: str) -> ServiceAccount:
        """Raise `CredentialsProblem` with what to do when `text` is not a usable key."""
        data = _load(text)
        kind = data.get("type")
        if kind != "service_account":
            raise CredentialsProblem(
                f"'{LABEL}' is not a service account's key (its \"type\" is {_shown(kind)}, "
                f'not "service_account"). {NEW_KEY}'
            )
        missing = [key for key in REQUIRED_KEYS if not _text(data.get(key))]
        if missing:
            raise CredentialsProblem(
                f"'{LABEL}' lacks {', '.join(missing)}: it is not a whole key file. {NEW_KEY}"
            )
        token_uri = _text(data["token_uri"]).strip()
        if not token_uri.startswith(("https://", "http://")):
            raise CredentialsProblem(
                f"'{LABEL}': token_uri {token_uri!r} is not an address (Google's is "
                f"https://oauth2.googleapis.com/token). {NEW_KEY}"
            )
        return cls(
            project_id=_text(data["project_id"]).strip(),
            client_email=_text(data["client_email"]).strip(),
            private_key_id=_text(data["private_key_id"]).strip(),
            token_uri=token_uri,
            key=_private_key(_text(data["private_key"])),
        )

    def assertion(self, scope: str = READ_ONLY_SCOPE, now: float | None = None) -> str:
        """The signed JWT of a token request (fresh for each request: it expires)."""
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.client_email,
            "scope": scope,
            "aud": self.token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        return signed_jwt(claims, self.key, {"kid": self.private_key_id})

    def token_form(self, scope: str = READ_ONLY_SCOPE) -> dict[str, str]:
        return {"grant_type": JWT_BEARER, "assertion": self.assertion(scope)}


def _load(text: str) -> dict[str, Any]:
    """The JSON object; a JSON string holding the JSON (pasted escaped) is read twice, as
    Elastic's `load_service_account_json` does."""
    if not str(text or "").strip():
        raise CredentialsProblem(f"'{LABEL}' is empty. {NEW_KEY}")
    try:
        data = json.loads(text)
        if isinstance(data, str):
            data = json.loads(data)
    except ValueError as exc:
        raise CredentialsProblem(
            f"'{LABEL}' is not valid JSON ({exc.args[0] if exc.args else exc}). {NEW_KEY}"
        ) from None
    if not isinstance(data, dict):
        raise CredentialsProblem(f"'{LABEL}' is JSON, but not an object {{...}}. {NEW_KEY}")
    return data


def _private_key(text: str) -> rsa.RSAPrivateKey:
    try:
        key = load_pem_private_key(pem_bytes(text), password=None)
    except TypeError:
        raise CredentialsProblem(
            f"'{LABEL}': its private_key is encrypted, which a key file from Google never "
            f"is. {NEW_KEY}"
        ) from None
    except Exception:
        raise CredentialsProblem(
            f"'{LABEL}': its private_key does not load (cut short or altered while "
            f"pasting?). {NEW_KEY}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialsProblem(
            f"'{LABEL}': its private_key is not an RSA key, which Google's keys are. {NEW_KEY}"
        )
    return key


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _shown(value: Any) -> str:
    return "missing" if value is None else json.dumps(value)[:40]
