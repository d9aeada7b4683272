"""HTTP to Microsoft: tokens, throttling, retries and paging, shared by every request of one
tenant.

Throttling is Microsoft's normal answer to a busy tenant, not a failure: a `429` or `503`
carries `Retry-After`, and Microsoft asks clients to wait that long before *any* further
request. So a throttled answer pauses every request of this client until then (one shared
clock, `_paused_until`), the wait is reported to whoever listens ("throttled by Microsoft,
resuming in 30 s"), and the request is retried. Only a storm that lasts longer than
`max_throttle_wait` fails the sync. Without `Retry-After`, the wait backs off exponentially
with jitter. Concurrency is bounded per tenant (`concurrency` requests in flight).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sluice.core.retry_after import parse_retry_after
from sluice.sources.errors import SourceError
from sluice.sources.sharepoint_online import problems
from sluice.sources.sharepoint_online.clouds import Cloud
from sluice.sources.sharepoint_online.credentials import Credential

GRAPH = "graph"
SHAREPOINT = "sharepoint"
#: Refresh a token this long before it expires.
TOKEN_MARGIN = 300
#: Server errors (500/502/504) and dropped connections are retried this many times.
RETRIES = 5
#: The longest back-off between retries without Retry-After.
MAX_BACKOFF = 60.0


class NotFound(Exception):
    """404: the caller decides whether that is an error (a site) or an empty result."""


class Gone(Exception):
    """410: a delta link expired (`resyncRequired`)."""


class LinkExpired(Exception):
    """A pre-authenticated download address no longer works (they last about an hour)."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """Microsoft is throttling: every request waits until `until` (wall-clock seconds);
    `since` is when this storm began."""

    since: float
    until: float
    status: int

    def message(self, now: float | None = None) -> str:
        left = max(0, round(self.until - (time.time() if now is None else now)))
        return f"throttled by Microsoft (HTTP {self.status}), resuming in {left} s"


WaitListener = Callable[[Throttled | None], None]


@dataclass(slots=True)
class _Token:
    value: str
    expires: float


class MicrosoftClient:
    """One tenant's Graph and SharePoint REST client. `what`/`permission` on each call name
    what is read and the application permission it needs, for the error a person sees."""

    def __init__(
        self,
        *,
        cloud: Cloud,
        tenant_id: str,
        tenant_name: str,
        client_id: str,
        credential: Credential,
        auth_method: str,
        concurrency: int = 8,
        max_throttle_wait: float = 3600.0,
        timeout: float = 60.0,
    ) -> None:
        self.cloud = cloud
        self.tenant_id = tenant_id
        self.tenant_name = tenant_name
        self.client_id = client_id
        self.credential = credential
        self.auth_method = auth_method
        self.max_throttle_wait = max_throttle_wait
        self.listeners: list[WaitListener] = []
        self.requests = 0
        self.throttled = 0
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            follow_redirects=True,
            headers={"Accept": "application/json", "User-Agent": "Sluice (SharePoint Online)"},
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._tokens: dict[str, _Token] = {}
        self._token_locks = {GRAPH: asyncio.Lock(), SHAREPOINT: asyncio.Lock()}
        self._paused_until = 0.0
        self._storm: Throttled | None = None

    @property
    def consent_url(self) -> str:
        return self.cloud.admin_consent_url(self.tenant_id, self.client_id)

    @property
    def graph_root(self) -> str:
        return f"{self.cloud.graph}/v1.0"

    async def close(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ tokens
    def _scope(self, audience: str) -> str:
        if audience == GRAPH:
            return f"{self.cloud.graph}/.default"
        return f"https://{self.cloud.sharepoint_host(self.tenant_name)}/.default"

    async def token(self, audience: str) -> str:
        """A valid access token for Graph or SharePoint (cached until near expiry)."""
        async with self._token_locks[audience]:
            cached = self._tokens.get(audience)
            if cached and cached.expires - TOKEN_MARGIN > time.time():
                return cached.value
            url = self.cloud.token_url(self.tenant_id)
            attempt = 0
            while True:
                form = {  # a certificate's assertion is fresh on each try (it expires)
                    "client_id": self.client_id,
                    "grant_type": "client_credentials",
                    "scope": self._scope(audience),
                    **self.credential.form(url, self.client_id),
                }
                try:
                    response = await self._http.post(url, data=form)
                except httpx.TransportError as exc:
                    if attempt >= _tries(exc):
                        raise problems.unreachable(httpx.URL(url).host, _reason(exc)) from None
                    await asyncio.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                if response.status_code in (429, 503):  # the sign-in service throttles too
                    retry_after = response.headers.get("Retry-After")
                    await self._throttled(response.status_code, retry_after, attempt)
                    await self._wait_if_paused()
                    attempt += 1
                    continue
                if response.status_code >= 500 and attempt < RETRIES:
                    await asyncio.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                break
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict):
                raise problems.token_problem(
                    body,
                    response.status_code,
                    cloud=self.cloud,
                    tenant_id=self.tenant_id,
                    tenant_name=self.tenant_name,
                    client_id=self.client_id,
                    auth_method=self.auth_method,
                )
            token = _Token(
                str(body.get("access_token", "")),
                time.time() + float(body.get("expires_in") or 3599),
            )
            self._tokens[audience] = token
            return token.value

    # ------------------------------------------------------------------ requests
    async def get_json(
        self, url: str, *, audience: str = GRAPH, what: str, permission: str
    ) -> dict[str, Any]:
        response = await self._send(url, audience=audience, what=what, permission=permission)
        body = _json(response)
        if not isinstance(body, dict):
            raise SourceError(f"Microsoft answered {what} with something that is not JSON.")
        return body

    async def pages(
        self,
        url: str,
        *,
        audience: str = GRAPH,
        what: str,
        permission: str,
        missing_ok: bool = False,
    ) -> AsyncIterator[dict[str, Any]]:
        """Each page of a collection (Graph's `@odata.nextLink`, REST's `odata.nextLink`),
        one at a time: a collection of any size costs one page of memory. `missing_ok`: a
        404 (a list, a library or a site gone meanwhile) ends it instead of raising."""
        next_url: str | None = url
        while next_url:
            try:
                page = await self.get_json(
                    next_url, audience=audience, what=what, permission=permission
                )
            except NotFound:
                if missing_ok:
                    return
                raise
            yield page
            next_url = page.get("@odata.nextLink") or page.get("odata.nextLink")

    async def download(
        self, url: str, *, audience: str | None = GRAPH, what: str, max_bytes: int
    ) -> bytes | None:
        """A file's bytes, streamed; None when it is bigger than `max_bytes`. `audience`
        None: a pre-authenticated address (Graph's `downloadUrl`), sent without a token;
        `LinkExpired` when it no longer works."""
        attempt = 0
        while True:
            await self._wait_if_paused()
            async with self._slots:
                headers = (
                    {}
                    if audience is None
                    else {"Authorization": f"Bearer {await self.token(audience)}"}
                )
                try:
                    async with self._http.stream("GET", url, headers=headers) as response:
                        self.requests += 1
                        if response.status_code == 200:
                            self._calm()
                            return await _read_capped(response, max_bytes)
                        await response.aread()
                except httpx.TransportError as exc:
                    attempt = await self._transport_retry(attempt, url, exc)
                    continue
            if audience is None and response.status_code in (401, 403, 404):
                raise LinkExpired(url)
            attempt = await self._retry_or_raise(
                response,
                attempt,
                url=url,
                audience=audience or GRAPH,
                what=what,
                permission="Files.Read.All",
            )

    async def _send(self, url: str, *, audience: str, what: str, permission: str) -> httpx.Response:
        attempt = 0
        while True:
            await self._wait_if_paused()
            async with self._slots:
                headers = {"Authorization": f"Bearer {await self.token(audience)}"}
                try:
                    response = await self._http.get(url, headers=headers)
                except httpx.TransportError as exc:
                    attempt = await self._transport_retry(attempt, url, exc)
                    continue
                self.requests += 1
            if response.status_code == 200:
                self._calm()
                return response
            attempt = await self._retry_or_raise(
                response, attempt, url=url, audience=audience, what=what, permission=permission
            )

    async def _transport_retry(self, attempt: int, url: str, exc: Exception) -> int:
        if attempt >= _tries(exc):
            field = (
                "cloud"
                if url.startswith((self.cloud.graph, self.cloud.login))
                else "site_collections"
            )
            raise problems.unreachable(httpx.URL(url).host, _reason(exc), field) from None
        await asyncio.sleep(_backoff(attempt))
        return attempt + 1

    async def _retry_or_raise(
        self,
        response: httpx.Response,
        attempt: int,
        *,
        url: str,
        audience: str,
        what: str,
        permission: str,
    ) -> int:
        """Wait and return the next attempt number, or raise what the answer means."""
        status = response.status_code
        body = _json(response)
        if status in (429, 503):
            await self._throttled(status, response.headers.get("Retry-After"), attempt)
            return attempt + 1
        if status == 401 and audience in self._tokens and attempt == 0:
            code, message = problems.graph_error_of(body)
            if "roles" not in message and "Unsupported app only" not in message:
                self._tokens.pop(audience, None)  # expired early or revoked: sign in again
                return attempt + 1
        if status in (401, 403):
            raise problems.access_problem(
                status,
                body,
                what=what,
                permission=permission,
                consent_url=self.consent_url,
                rest=audience == SHAREPOINT,
            )
        if status == 404:
            raise NotFound(url)
        if status == 410:
            raise Gone(url)
        if status in (500, 502, 504) and attempt < RETRIES:
            await asyncio.sleep(_backoff(attempt))
            return attempt + 1
        code, message = problems.graph_error_of(body)
        raise SourceError(
            f"Microsoft answered HTTP {status}{' ' + code if code else ''} while reading {what}"
            f"{': ' + message[:300] if message else ''}.",
            "If it persists, check Microsoft 365's service health.",
        )

    # ------------------------------------------------------------------ throttling
    async def _throttled(self, status: int, retry_after: str | None, attempt: int) -> None:
        now = time.time()
        wait = parse_retry_after(retry_after)
        if wait is None:
            wait = _backoff(attempt)
        since = self._storm.since if self._storm else now
        if now + wait - since > self.max_throttle_wait:
            minutes = self.max_throttle_wait / 60
            raise problems.ThrottledTooLongError(
                f"Microsoft has throttled this tenant for {round((now - since) / 60, 1)} min "
                f"and asks for {round(wait)} s more, past the limit of {minutes:g} min.",
                "Sync at a quieter time, lower 'Concurrent requests', or raise 'Throttling "
                "limit (minutes)'.",
                fields=["max_throttle_minutes"],
            )
        self.throttled += 1
        self._paused_until = max(self._paused_until, now + wait)
        self._storm = Throttled(since, self._paused_until, status)
        for listener in self.listeners:
            listener(self._storm)

    def _calm(self) -> None:
        if self._storm is not None and time.time() >= self._paused_until:
            self._storm = None
            for listener in self.listeners:
                listener(None)

    async def _wait_if_paused(self) -> None:
        while (left := self._paused_until - time.time()) > 0:
            await asyncio.sleep(left)


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it passes `max_bytes` (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes(1 << 16):
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _tries(exc: Exception) -> int:
    """Retries for a failed request: a refused connection or an unknown host is answered at
    once and rarely heals in seconds (two quick tries, so a wrong endpoint is named fast);
    a timeout or a dropped connection gets all of them."""
    return 2 if isinstance(exc, httpx.ConnectError) else RETRIES


def _backoff(attempt: int) -> float:
    """Exponential back-off with full jitter: 0.5 to 1 times 2^attempt s, at most MAX_BACKOFF."""
    return min(MAX_BACKOFF, 2.0**attempt) * random.uniform(0.5, 1.0)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "connect" in text.lower():
        return "connection refused" if "refused" in text else text
    return text
