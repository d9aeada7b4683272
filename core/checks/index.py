"""The connector's content index and ingest pipeline: a valid name, a usable existing index
(a regular, open index with mappings), and a pipeline that exists (a missing one is a
warning: Sluice indexes without it, Elastic's service fails the sync)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, NotFoundError

from sluice.core.checks.context import CheckContext
from sluice.core.checks.failures import error_reason, explain_network_failure
from sluice.core.checks.index_names import (
    index_name_advice,
    index_name_problems,
    suggested_index_name,
)
from sluice.core.checks.result import Outcome, fail, ok, skip, warn
from sluice.core.echo import quoted


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


NO_INDEX = "no index named (pass --index NAME to check one)"


async def check_index_name(ctx: CheckContext) -> Outcome:
    name = ctx.index_name
    if name is None:
        return skip(NO_INDEX)
    problems = index_name_problems(name)
    if problems:
        return fail(
            f"{quoted(name)} is not a valid index name: it " + "; it ".join(problems),
            f"try {suggested_index_name(name)!r}",
            "index_name",
        )
    advice = index_name_advice(name)
    if advice:
        hint = (
            f"name it {suggested_index_name(name)!r} unless your stack accepts other names"
            if not name.startswith(("search-", "."))
            else None
        )
        return warn(f"{quoted(name)} " + "; it ".join(advice), hint, "index_name")
    return ok(f"{quoted(name)} is a valid content index name")


async def check_index(ctx: CheckContext) -> Outcome:
    name = ctx.index_name
    if name is None:
        return skip(NO_INDEX)
    if index_name_problems(name):
        return skip("the index name is invalid")
    es = ctx.es
    try:
        resolved = (await es.indices.resolve_index(name=name)).body
    except NotFoundError:
        return ok(
            f"{quoted(name)} doesn't exist yet; it will be created with the connector mappings"
        )
    except ApiError as exc:
        return _api_problem(exc, f"GET _resolve/index/{name}")
    except TransportError as exc:
        return explain_network_failure(exc, ctx.probe_url, ctx.timeout)
    if resolved.get("data_streams"):
        return fail(
            f"{quoted(name)} is a data stream; connectors need a regular index (they update and "
            "delete documents by id)",
            f"choose another index name, e.g. {suggested_index_name(name + '-content')!r}",
            "index_name",
        )
    notes: list[str] = []
    concrete = name
    aliases = resolved.get("aliases") or []
    if aliases:
        targets = aliases[0].get("indices") or []
        if len(targets) != 1:
            return fail(
                f"{quoted(name)} is an alias of {len(targets)} indices; a connector writes to one",
                "name the concrete index, or an alias with a single index",
                "index_name",
            )
        concrete = targets[0]
        notes.append(f"alias of {concrete!r}")
    indices = resolved.get("indices") or []
    attributes = indices[0].get("attributes", []) if indices else []
    if "closed" in attributes:
        return fail(f"{quoted(name)} is closed", f"open it: POST /{concrete}/_open", "index_name")
    try:
        mapping = (await es.indices.get_mapping(index=concrete)).body
        count = (await es.count(index=concrete)).body.get("count", 0)
    except ApiError as exc:
        return _api_problem(exc, f"reading {concrete!r}")
    except TransportError as exc:
        return explain_network_failure(exc, ctx.probe_url, ctx.timeout)
    entry: Mapping[str, Any] = mapping.get(concrete) or next(iter(mapping.values()), {})
    mappings = entry.get("mappings") or {}
    fields = len(mappings.get("properties") or {})
    prefix = f"{quoted(name)} exists" + (f" ({', '.join(notes)})" if notes else "")
    if not mappings.get("properties") and not mappings.get("dynamic_templates"):
        return warn(
            f"{prefix} but has no mappings: connectors don't sync into an index without them "
            f"({plural(count, 'document')})",
            "delete it and let Sluice create it with the connector mappings, or put mappings "
            "on it first",
            "index_name",
        )
    message = f"{prefix}: {plural(count, 'document')}, {plural(fields, 'mapped field')}"
    if count:
        message += "; a full sync deletes documents the source no longer has"
    if aliases:
        return warn(message, "writing through an alias works only while it has one index")
    return ok(message)


def _api_problem(exc: ApiError, what: str) -> Outcome:
    if exc.meta.status == 403:
        return warn(
            f"the credentials may not read the index ({what}: {error_reason(exc)})",
            "grant view_index_metadata and read on it",
        )
    return fail(f"{what} failed: {error_reason(exc)}")


async def check_pipeline(ctx: CheckContext) -> Outcome:
    name = ctx.pipeline
    if not name:
        return skip("no ingest pipeline named")
    try:
        response = await ctx.es.ingest.get_pipeline(id=name)
    except NotFoundError:
        # What each service does, as the engine does it (`core.engine.engine`).
        return warn(
            f"ingest pipeline {quoted(name)} doesn't exist: Sluice indexes without it (no "
            "pipeline processing); Elastic's connector service fails the sync",
            "create it, or set the connector's pipeline to one that exists "
            "(search-default-ingestion is Elastic's default)",
            "pipeline",
        )
    except ApiError as exc:
        if exc.meta.status == 403:
            return warn(
                f"can't read ingest pipeline {quoted(name)} (needs cluster privilege "
                "read_pipeline or manage_ingest_pipelines)",
                None,
                "pipeline",
            )
        return fail(f"GET _ingest/pipeline/{name} failed: {error_reason(exc)}")
    except TransportError as exc:
        return explain_network_failure(exc, ctx.probe_url, ctx.timeout)
    processors = (response.body.get(name) or {}).get("processors") or []
    return ok(f"ingest pipeline {quoted(name)} exists ({plural(len(processors), 'processor')})")
