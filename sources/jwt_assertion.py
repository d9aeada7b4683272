"""RS256-signed JWTs, the proof an app or a service account sends to a token endpoint.

Microsoft's identity platform (a certificate's client assertion, RFC 7523) and Google's
OAuth 2.0 server (a service account's JWT-bearer grant) both take a compact JWT signed with
RSASSA-PKCS1-v1_5 and SHA-256; only the claims differ, so each caller builds its own.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs encode every part."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def signed_jwt(
    claims: Mapping[str, Any], key: rsa.RSAPrivateKey, headers: Mapping[str, Any] | None = None
) -> str:
    """`header.claims.signature`, signed with `key` (RS256); `headers` adds to alg/typ."""
    header = {"alg": "RS256", "typ": "JWT", **(headers or {})}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def pem_bytes(text: str) -> bytes:
    """PEM text as pasted. Also accepted: the escaped form of a JSON string (literal `\\n`
    for the line breaks) and Kibana's single-line form (spaces for the line breaks)."""
    text = (text or "").strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\r", "").replace("\\n", "\n").strip()
    parts = text.split("-----")  # ['', 'BEGIN X', ' body ', 'END X', '']
    if "\n" not in text and len(parts) >= 5:
        body = "\n".join(parts[2].split())
        text = f"-----{parts[1]}-----\n{body}\n-----{parts[3]}-----"
    return text.encode()
