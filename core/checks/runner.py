"""Run the checks concurrently, in dependency order, yielding each result as it finishes.

A check whose prerequisite failed is skipped with the reason ("skipped: Connection failed"),
so one root cause shows as one failure instead of eleven. A check that is merely "not
applicable" (skip) does not block the ones after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch

from sluice.core.checks.cluster import (
    check_api_keys,
    check_authentication,
    check_connector_api,
    check_license,
    check_product,
)
from sluice.core.checks.context import DEFAULT_CHECK_TIMEOUT, CheckContext
from sluice.core.checks.index import check_index, check_index_name, check_pipeline
from sluice.core.checks.network import check_connection, check_tls
from sluice.core.checks.privileges import check_privileges
from sluice.core.checks.result import CheckResult, Outcome, fail, skip
from sluice.core.es.client import ConnectionSettingsError, build_client, host_url, tls_options
from sluice.core.secrets import mask

CheckFunction = Callable[[CheckContext], Awaitable[Outcome]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    run: CheckFunction
    requires: tuple[str, ...] = ()


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("connection", "Connection and latency", check_connection),
    CheckSpec("tls", "TLS certificate", check_tls, ("connection",)),
    CheckSpec("authentication", "Authentication", check_authentication, ("tls",)),
    CheckSpec("product", "Product and version", check_product, ("authentication",)),
    CheckSpec("connector_api", "Connector API", check_connector_api, ("product",)),
    CheckSpec("license", "License", check_license, ("authentication",)),
    CheckSpec("api_keys", "API keys enabled", check_api_keys, ("authentication",)),
    CheckSpec(
        "privileges",
        "Privileges for the connector",
        check_privileges,
        ("authentication", "product", "connector_api"),
    ),
    CheckSpec("index_name", "Index name", check_index_name),
    CheckSpec("index", "Existing index", check_index, ("authentication", "index_name")),
    CheckSpec("pipeline", "Ingest pipeline", check_pipeline, ("authentication",)),
)


def planned_checks(
    settings: Mapping[str, Any] | None = None,
    *,
    index_name: str | None = None,
    pipeline: str | None = None,
) -> list[tuple[str, str]]:
    """`(id, title)` of every check `run_checks` will report, in display order (checks that
    don't apply still report, as "skip", so the list never changes under a spinner)."""
    return [(spec.id, spec.title) for spec in CHECKS]


def make_context(
    settings: Mapping[str, Any],
    *,
    index_name: str | None,
    pipeline: str | None,
    client: AsyncElasticsearch | None,
    timeout: float,
) -> tuple[CheckContext, bool]:
    """The context, and whether we built (and so must close) the client."""
    ctx = CheckContext(settings, client, index_name=index_name, pipeline=pipeline, timeout=timeout)
    try:
        ctx.host = host_url(settings)
        ctx.tls = tls_options(settings)
        if client is None:
            ctx.client = build_client(settings, user_agent="sluice-check")
            return ctx, True
    except ConnectionSettingsError as exc:
        ctx.settings_error = exc
    return ctx, False


def scrub(text: str | None, secrets: list[str]) -> str | None:
    """Replace any secret that slipped into a message by its masked form; keep one line."""
    if text is None:
        return None
    for secret in secrets:
        text = text.replace(secret, mask(secret))
    return " ".join(text.split())


async def _run_one(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    try:
        return await spec.run(ctx)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug must not hide the other results
        text = str(exc).splitlines()[0] if str(exc) else ""
        return fail(f"unexpected error: {type(exc).__name__}: {text}".rstrip(": "))


async def run_checks(
    settings: Mapping[str, Any],
    *,
    index_name: str | None = None,
    pipeline: str | None = None,
    client: AsyncElasticsearch | None = None,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
) -> AsyncIterator[CheckResult]:
    """Yield a `CheckResult` for every planned check, each as soon as it is known.

    `settings` is the config's `elasticsearch` mapping. A given `client` is used (and left
    open); otherwise one is built from `settings` and closed at the end. Never raises for bad
    settings or an unreachable cluster: those are results.
    """
    ctx, owns_client = make_context(
        settings, index_name=index_name, pipeline=pipeline, client=client, timeout=timeout
    )
    secrets = ctx.secrets()
    titles = {spec.id: spec.title for spec in CHECKS}
    done: dict[str, asyncio.Event] = {spec.id: asyncio.Event() for spec in CHECKS}
    blocked_by: dict[str, str] = {}  # check id -> title of the failure that blocks it
    queue: asyncio.Queue[CheckResult] = asyncio.Queue()

    async def run(spec: CheckSpec) -> None:
        for dependency in spec.requires:
            await done[dependency].wait()
        start = time.perf_counter()
        blocker = next((blocked_by[d] for d in spec.requires if d in blocked_by), None)
        if blocker is not None:
            outcome = skip(f"skipped: {blocker} failed")
            blocked_by[spec.id] = blocker
        else:
            outcome = await _run_one(spec, ctx)
            if outcome.status == "fail":
                blocked_by[spec.id] = titles[spec.id]
        result = CheckResult(
            id=spec.id,
            title=spec.title,
            status=outcome.status,
            message=scrub(outcome.message, secrets) or "",
            hint=scrub(outcome.hint, secrets),
            duration_ms=round((time.perf_counter() - start) * 1000, 1),
            field=outcome.field,
        )
        done[spec.id].set()
        await queue.put(result)

    tasks = [asyncio.create_task(run(spec), name=f"check-{spec.id}") for spec in CHECKS]
    try:
        for _ in CHECKS:
            yield await queue.get()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if owns_client and ctx.client is not None:
            await ctx.client.close()


async def collect_checks(settings: Mapping[str, Any], **kwargs: Any) -> list[CheckResult]:
    """All results, in planned order (for the CLI and tests)."""
    order = {spec.id: n for n, spec in enumerate(CHECKS)}
    results = [result async for result in run_checks(settings, **kwargs)]
    return sorted(results, key=lambda r: order[r.id])
