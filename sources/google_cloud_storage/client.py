"""The Cloud Storage JSON API over httpx: a service account's token, and the four reads the
source makes (list buckets, list objects a page at a time, read an object, its bytes).

The token is asked for once and reused until shortly before it expires. Requests for JSON
are retried with back-off when Google says "slow down" (429) or fails for a moment (5xx, a
dropped connection); downloads are retried by the file-tree layer, which counts them.
Errors leave this module as `ApiError`, `TokenRefused` or `Unreachable`: `problems` turns
them into messages a person can act on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sluice.core.redact import remember_secret
from sluice.sources.filetree.retries import retrying
from sluice.sources.google_cloud_storage.credentials import ServiceAccount

DEFAULT_ENDPOINT = "https://storage.googleapis.com"
#: The JSON API's largest page of objects.
MAX_PAGE_SIZE = 1000
#: Ask for a new token this long before the current one expires.
TOKEN_MARGIN = 300
#: Tries per request (Elastic's RETRY_COUNT).
ATTEMPTS = 3
#: Only what the documents need: a page of objects is half the bytes (partial response).
OBJECT_FIELDS = (
    "nextPageToken,items(id,name,bucket,size,contentType,contentEncoding,contentLanguage,"
    "componentCount,metadata,storageClass,timeCreated,updated,generation,etag)"
)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """A non-2xx answer of the storage API, with Google's `reason` and `message`."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        super().__init__(f"HTTP {status}{' ' + reason if reason else ''}: {message}")


class TokenRefused(Exception):
    """The token endpoint said no: Google's `error` and `error_description`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"HTTP {status} {error}: {description}")


class Unreachable(Exception):
    """No answer from `url` (refused, unknown host, timeout, TLS handshake)."""

    def __init__(self, url: str, cause: httpx.TransportError, *, token: bool) -> None:
        self.url = url
        self.cause = cause
        self.token = token
        """True when it was the token endpoint (the JSON's token_uri)."""
        super().__init__(f"{url}: {type(cause).__name__}: {cause}")


def is_transient(error: BaseException) -> bool:
    """Worth another try: a dropped connection or a timeout, "slow down", a passing 5xx."""
    if isinstance(error, (httpx.TransportError, Unreachable)):
        return True
    if isinstance(error, ApiError):
        return error.status in TRANSIENT_STATUS
    if isinstance(error, TokenRefused):
        return error.status in TRANSIENT_STATUS
    return False


@dataclass(slots=True)
class _Token:
    value: str
    expires: float


class StorageClient:
    """One service account's client of one storage endpoint."""

    def __init__(
        self,
        account: ServiceAccount,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        timeout: float = 60.0,
        attempts: int = ATTEMPTS,
        connections: int = 16,
    ) -> None:
        self.account = account
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.attempts = attempts
        self.token_requests = 0
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            limits=httpx.Limits(max_connections=connections),
            headers={"User-Agent": "Sluice (Google Cloud Storage)"},
        )
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ token
    async def token(self) -> str:
        """A valid access token, asked for once and reused until near its expiry."""
        async with self._token_lock:
            cached = self._token
            if cached is not None and cached.expires - TOKEN_MARGIN > time.time():
                return cached.value
            body = await self._retried(self._ask_token, "asking Google for a token")
            self._token = _Token(
                str(body.get("access_token") or ""),
                time.time() + _seconds(body.get("expires_in"), 3600),
            )
            remember_secret(self._token.value)  # masked wherever it might be logged
            return self._token.value

    async def _ask_token(self) -> dict[str, Any]:
        url = self.account.token_uri
        self.token_requests += 1
        try:
            response = await self._http.post(url, data=self.account.token_form())
        except httpx.TransportError as exc:
            raise Unreachable(url, exc, token=True) from None
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict):
            error = description = ""
            if isinstance(body, dict):
                error = str(body.get("error") or "")
                description = str(body.get("error_description") or "")
            raise TokenRefused(response.status_code, error, description or response.reason_phrase)
        return body

    def forget_token(self) -> None:
        self._token = None

    # ------------------------------------------------------------------ requests
    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET `{endpoint}/storage/v1{path}` as JSON, retried while it is worth it; a 401
        (the token revoked or expired early) is tried once more with a new token."""
        what = f"GET {path}"
        try:
            return await self._retried(lambda: self._get(path, params), what)
        except ApiError as exc:
            if exc.status != 401:
                raise
        self.forget_token()
        return await self._retried(lambda: self._get(path, params), what)

    async def _get(self, path: str, params: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self.endpoint}/storage/v1{path}"
        headers = {"Authorization": f"Bearer {await self.token()}"}
        try:
            # streamed into a buffer of our own: an httpx response that keeps its content
            # is freed only by the cyclic GC, and a page of objects weighs ~0.5 MB
            async with self._http.stream("GET", url, params=params, headers=headers) as response:
                status, phrase = response.status_code, response.reason_phrase
                data = b"".join([chunk async for chunk in response.aiter_bytes()])
        except httpx.TransportError as exc:
            raise Unreachable(self.endpoint, exc, token=False) from None
        body = _loads(data)
        if status != 200:
            raise api_error(status, body, phrase)
        if not isinstance(body, dict):
            raise ApiError(status, "", "the answer is not JSON")
        return body

    async def _retried(self, call: Any, what: str) -> Any:
        return await retrying(call, attempts=self.attempts, transient=is_transient, what=what)

    # ------------------------------------------------------------------ the reads
    async def bucket_names(self, project: str) -> AsyncIterator[str]:
        """Every bucket of `project` (storage.buckets.list), a page at a time."""
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "project": project,
                "maxResults": MAX_PAGE_SIZE,
                "fields": "nextPageToken,items(name)",
            }
            if token:
                params["pageToken"] = token
            page = await self.get_json("/b", params)
            for bucket in page.get("items") or ():
                if isinstance(bucket, dict) and bucket.get("name"):
                    yield str(bucket["name"])
            token = page.get("nextPageToken")
            if not token:
                return

    async def list_page(
        self, bucket: str, prefix: str, token: str | None, page_size: int = MAX_PAGE_SIZE
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the bucket's objects (storage.objects.list), and the next page's
        token (None after the last)."""
        params: dict[str, Any] = {
            "maxResults": max(1, min(page_size, MAX_PAGE_SIZE)),
            "fields": OBJECT_FIELDS,
        }
        if prefix:
            params["prefix"] = prefix
        if token:
            params["pageToken"] = token
        page = await self.get_json(f"/b/{quote(bucket, safe='')}/o", params)
        items = [item for item in page.get("items") or () if isinstance(item, dict)]
        return items, page.get("nextPageToken") or None

    async def read(self, bucket: str, name: str, max_bytes: int) -> bytes:
        """The object's bytes (storage.objects.get, `alt=media`), at most `max_bytes` + 1
        (one more tells it is bigger); nothing past that is read. Not retried here."""
        url = f"{self.endpoint}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self.token()}"}
            try:
                async with self._http.stream(
                    "GET", url, params={"alt": "media"}, headers=headers
                ) as response:
                    if response.status_code == 200:
                        return await _read_capped(response, max_bytes + 1)
                    await response.aread()
            except httpx.TransportError as exc:
                raise Unreachable(self.endpoint, exc, token=False) from None
            if response.status_code == 401 and attempt == 1:
                self.forget_token()
                continue
            raise api_error(response.status_code, _json(response), response.reason_phrase)
        raise AssertionError("unreachable")  # pragma: no cover


def api_error(status: int, body: Any, fallback: str) -> ApiError:
    """Google's error JSON: `{"error": {"code", "message", "errors": [{"reason", ...}]}}`."""
    reason = message = ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        details = error.get("errors")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            reason = str(details[0].get("reason") or "")
            message = message or str(details[0].get("message") or "")
    elif isinstance(error, str):
        reason = error
    return ApiError(status, reason, (message or fallback or "").strip()[:300])


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes(1 << 16):
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _seconds(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
