"""Retries that wait: exponential backoff with jitter, and `Retry-After` honoured.

elastic-transport retries 429/502/503/504 and connection errors immediately, which hammers a
cluster that is already overloaded. `BackoffAsyncTransport` lets the parent send each attempt
(node selection, dead-node marking, logging without auth headers stay as they are) and adds
the waiting between attempts. TLS errors are never retried: they don't heal by waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from elastic_transport import (
    AsyncTransport,
    ConnectionError,
    ConnectionTimeout,
    TlsError,
    TransportApiResponse,
)
from elastic_transport.client_utils import DEFAULT, DefaultType, resolve_default

from sluice.core.es.node import TlsFailure
from sluice.core.retry_after import parse_retry_after

_logger = logging.getLogger("sluice.es.retry")


@dataclass(frozen=True)
class BackoffPolicy:
    """Wait `initial * multiplier**attempt` seconds, capped at `max_wait`, with "equal jitter"
    (half fixed, half random) so many clients don't retry in lockstep. Named after Elastic's
    config.yml keys `initial_backoff_duration`, `backoff_multiplier`, `max_wait_duration`."""

    initial: float = 1.0
    multiplier: float = 2.0
    max_wait: float = 240.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.max_wait, self.initial * self.multiplier**attempt)
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)

    def wait_for(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before the next attempt; None when `Retry-After` asks for longer
        than `max_wait` (better to report the 429 than to block for minutes)."""
        asked = parse_retry_after(retry_after)
        if asked is None:
            return self.delay(attempt)
        if asked > self.max_wait:
            return None
        return asked


class BackoffAsyncTransport(AsyncTransport):
    """AsyncTransport whose retries wait according to `backoff` (set after construction,
    since the Elasticsearch client builds the transport itself)."""

    backoff: BackoffPolicy = BackoffPolicy()

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        *,
        body: Any | None = None,
        headers: Mapping[str, Any] | DefaultType = DEFAULT,
        max_retries: int | DefaultType = DEFAULT,
        retry_on_status: Collection[int] | DefaultType = DEFAULT,
        retry_on_timeout: bool | DefaultType = DEFAULT,
        request_timeout: float | DefaultType | None = DEFAULT,
        client_meta: tuple[tuple[str, str], ...] | DefaultType = DEFAULT,
        otel_span: Any = DEFAULT,
    ) -> TransportApiResponse:
        retries = resolve_default(max_retries, self.max_retries)
        statuses = resolve_default(retry_on_status, self.retry_on_status)
        on_timeout = resolve_default(retry_on_timeout, self.retry_on_timeout)
        errors: list[Exception] = []
        for attempt in range(retries + 1):
            last = attempt >= retries
            try:
                response = await super().perform_request(
                    method,
                    target,
                    body=body,
                    headers=headers,
                    max_retries=0,
                    retry_on_status=statuses,
                    retry_on_timeout=on_timeout,
                    request_timeout=request_timeout,
                    client_meta=client_meta,
                    otel_span=otel_span,
                )
            except TlsFailure:
                raise
            except TlsError as exc:
                raise TlsFailure(exc.message, errors=exc.errors) from exc
            except (ConnectionTimeout, ConnectionError) as exc:
                if last or (isinstance(exc, ConnectionTimeout) and not on_timeout):
                    exc.errors = tuple(errors)
                    raise
                errors.append(exc)
                wait = self.backoff.delay(attempt)
                reason = type(exc).__name__
            else:
                if response.meta.status not in statuses or last:
                    return response
                asked = self.backoff.wait_for(attempt, response.meta.headers.get("retry-after"))
                if asked is None:
                    return response
                wait = asked
                reason = f"HTTP {response.meta.status}"
            _logger.warning(
                "%s %s: %s, retrying in %.1f s (retry %d of %d)",
                method,
                target.split("?", 1)[0],
                reason,
                wait,
                attempt + 1,
                retries,
            )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns
