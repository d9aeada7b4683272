"""A FAKE Google OAuth 2.0 token endpoint for service accounts, on loopback.

Google cannot be reached from tests, so this fake answers the one request a service account
makes, shaped as Google documents it ("Using OAuth 2.0 for Server to Server Applications"):

    POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT

The JWT must be signed RS256 with a key the account has (header `kid`), `iss` = the
account's e-mail, `aud` = this endpoint's URL, a `scope`, and `exp` at most an hour after
`iat`. The answer is `{"access_token", "expires_in", "token_type": "Bearer"}`, or Google's
error JSON with HTTP 400: `invalid_grant` "Invalid JWT Signature." (a key the account does
not have), `invalid_grant` "Invalid grant: account not found" (an unknown e-mail), ...

Tokens it issued are remembered, so a fake API on loopback can check a bearer token
(`token_info`). Not a product: lives under `tests/`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_LIFETIME = 3600


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_KEYS: list[rsa.RSAPrivateKey] = []


def rsa_key(number: int = 0) -> rsa.RSAPrivateKey:
    """RSA keys made once per session (making one costs ~0.1 s); `number` picks one."""
    while len(_KEYS) <= number:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[number]


def pkcs8_pem(key: rsa.RSAPrivateKey) -> str:
    """The key as Google's JSON key files hold it (PKCS#8, unencrypted)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class ServiceAccount:
    email: str
    project_id: str
    client_id: str
    keys: dict[str, Any] = field(default_factory=dict)  # private_key_id -> public key


@dataclass
class Issued:
    email: str
    scope: str
    expires: float


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


def google_error(error: str, description: str, status: int = 400) -> Answer:
    return Answer(status, {"error": error, "error_description": description})


class FakeGoogleOAuth:
    """Google's token endpoint for service accounts. `add_account` makes an account with a
    key; `key_json` gives the JSON key file a user would download, its `token_uri` here."""

    def __init__(self) -> None:
        self.accounts: dict[str, ServiceAccount] = {}
        self.issued: dict[str, Issued] = {}
        self.token_requests = 0
        self.token_lifetime = 3599
        self.fail_next: list[int] = []  # HTTP statuses to answer before serving again
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def __enter__(self) -> FakeGoogleOAuth:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ accounts
    def add_account(
        self, name: str = "sluice-reader", project_id: str = "sluice-project", key: int = 0
    ) -> ServiceAccount:
        email = f"{name}@{project_id}.iam.gserviceaccount.com"
        account = ServiceAccount(email, project_id, str(10**20 + len(self.accounts)))
        self.accounts[email] = account
        self.add_key(account, key)
        return account

    def add_key(self, account: ServiceAccount, key: int = 0) -> str:
        key_id = secrets.token_hex(20)
        account.keys[key_id] = rsa_key(key).public_key()
        return key_id

    def key_json(self, account: ServiceAccount, key: int = 0, **changes: Any) -> str:
        """The JSON key file of `account`'s key number `key`, as Google's console gives it
        (`changes` replace or, with None, remove its keys)."""
        public = rsa_key(key).public_key().public_numbers()
        key_id = next(
            (kid for kid, k in account.keys.items() if k.public_numbers() == public),
            secrets.token_hex(20),  # a key the account does not have
        )
        data: dict[str, Any] = {
            "type": "service_account",
            "project_id": account.project_id,
            "private_key_id": key_id,
            "private_key": pkcs8_pem(rsa_key(key)),
            "client_email": account.email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + account.email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }
        for name, value in changes.items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        return json.dumps(data, indent=2)

    def token_info(self, token: str) -> Issued | None:
        """The token's account and scope while it is valid; None otherwise."""
        with self._lock:
            issued = self.issued.get(token)
        return issued if issued is not None and issued.expires > time.time() else None

    # ------------------------------------------------------------------ the endpoint
    def handle(self, method: str, path: str, body: bytes) -> Answer:
        if method != "POST" or path.split("?")[0] != "/token":
            return Answer(404, {"error": "not_found", "error_description": "Not Found"})
        with self._lock:
            self.token_requests += 1
            if self.fail_next:
                status = self.fail_next.pop(0)
                return google_error("internal_failure", "Backend Error", status)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != JWT_BEARER:
            return google_error(
                "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"
            )
        assertion = form.get("assertion", "")
        try:
            head_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(head_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except ValueError:
            return google_error("invalid_grant", "Invalid JWT: malformed.")
        account = self.accounts.get(str(claims.get("iss", "")))
        if account is None:
            return google_error("invalid_grant", "Invalid grant: account not found")
        public_key = account.keys.get(str(header.get("kid", "")))
        if public_key is None or header.get("alg") != "RS256":
            return google_error("invalid_grant", "Invalid JWT Signature.")
        try:
            public_key.verify(
                signature, f"{head_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return google_error("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") != self.token_uri:
            return google_error(
                "invalid_grant",
                f"Invalid JWT: Failed audience check. The right audience is {self.token_uri}",
            )
        issued_at, expires = claims.get("iat"), claims.get("exp")
        now = time.time()
        if (
            not isinstance(issued_at, int)
            or not isinstance(expires, int)
            or not 0 < expires - issued_at <= MAX_LIFETIME
            or abs(issued_at - now) > 300
        ):
            return google_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scope = str(claims.get("scope") or "")
        if not scope:
            return google_error("invalid_scope", "Invalid OAuth scope or ID token audience.")
        token = f"ya29.fake-{uuid.uuid4().hex}"
        with self._lock:
            self.issued[token] = Issued(account.email, scope, now + self.token_lifetime)
        return Answer(
            200,
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"},
        )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            answer = self.server.fake.handle(self.command, self.path, body)
        except Exception as exc:  # a fake's bug must show as a 500, not a hang
            answer = google_error("internal_failure", f"{type(exc).__name__}: {exc}", 500)
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeGoogleOAuth
