"""`sluice sync ID --dry-run` and the wizard's "Preview": what a sync of a connector would
do, with nothing written and no job recorded.

The connector's record is read (never written) and turned into the request a job would
carry; the engine then runs in preview mode (`core.engine.preview`), reading a bounded
sample of the source (or all of it). The report says how many documents would be written
(new, updated), left unchanged and — when the whole source was read — deleted, which the
sync rules exclude and which are over the size limit, the documents as they would be
indexed, their fields with the mapping Elasticsearch would give them (or the existing
index's conflicts), and the size distribution.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from elasticsearch import AsyncElasticsearch

from sluice.core.content_index import content_index_body
from sluice.core.engine.engine import SyncEngine
from sluice.core.engine.failures import FailureLog
from sluice.core.engine.preview import FieldSeen, PreviewCollector, human_size
from sluice.core.engine.progress import SyncStatus
from sluice.core.engine.runner import engine_request
from sluice.core.engine.settings import EngineSettings
from sluice.core.protocol import (
    ConnectorNotFound,
    ConnectorStore,
    JobType,
    SyncJob,
    TriggerMethod,
)
from sluice.core.protocol import documents as records
from sluice.core.protocol.timeutil import iso_now
from sluice.core.workflows.cluster import Cluster

DEFAULT_LIMIT = 100

#: Dynamic mapping of a JSON kind when no template applies (Elasticsearch's defaults).
DYNAMIC_TYPES = {
    "string": "text + keyword",
    "date": "date",
    "long": "long",
    "float": "float",
    "boolean": "boolean",
    "object": "object",
}


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field of the previewed documents and how the index maps (or would map) it."""

    path: str
    mapping: str  # "keyword", "text + keyword", "date", … or "not indexed (dynamic: false)"
    origin: str  # "mapped" (the index or Sluice's mapping says), "dynamic", "template"
    seen_as: dict[str, int]  # JSON kind -> documents
    example: Any = None
    conflict: str | None = None


@dataclass(frozen=True)
class DryRunReport:
    """What a sync would do (see the module docstring). `deleted` is None unless the whole
    source was read."""

    connector_id: str
    index_name: str
    index_exists: bool
    complete: bool
    limit: int | None
    read: int
    new: int
    updated: int
    unchanged: int
    deleted: int | None
    excluded: int
    excluded_sample: list[str]
    too_large: int
    too_large_sample: list[str]
    failed: int
    sample_ids: list[str]
    sample_documents: list[dict[str, Any]]
    deleted_sample: list[str]
    sizes: dict[str, Any]
    fields: list[FieldPlan]
    conflicts: list[str]
    deletion_guard: dict[str, Any] | None = None  # the guard would stop the sync
    notices: list[str] = field(default_factory=list)
    error: str | None = None  # the preview itself failed (the source could not be read)
    elapsed: float = 0.0

    @property
    def would_write(self) -> int:
        return self.new + self.updated

    def as_dict(self) -> dict[str, Any]:
        shaped = asdict(self)
        shaped["would_write"] = self.would_write
        shaped["dry_run"] = True
        return shaped


async def dry_run(
    es_settings: Mapping[str, Any],
    connector_id: str,
    *,
    source_factory: Callable[[str, Mapping[str, Any]], Any],
    limit: int | None = DEFAULT_LIMIT,
    settings: EngineSettings | None = None,
) -> DryRunReport:
    """Preview a full sync of `connector_id` (`limit` source items; None: all). Raises
    ConnectorNotFound for an unknown id; the source's failures are in the report."""
    async with Cluster(es_settings, read_only=True, user_agent="sluice-dry-run") as cluster:
        return await preview_connector(
            cluster.client,
            await cluster.store(),
            connector_id,
            source_factory=source_factory,
            limit=limit,
            settings=settings,
        )


async def preview_connector(
    client: AsyncElasticsearch,
    store: ConnectorStore,
    connector_id: str,
    *,
    source_factory: Callable[[str, Mapping[str, Any]], Any],
    limit: int | None = DEFAULT_LIMIT,
    settings: EngineSettings | None = None,
) -> DryRunReport:
    """`dry_run` on a client and store the caller holds (the CLI's connection)."""
    started = time.monotonic()
    connector = await store.get_connector(connector_id)
    if connector is None or connector.deleted:
        raise ConnectorNotFound(connector_id)
    # The request a job queued now would carry, built in memory: no job is written.
    snapshot = records.new_job_document(connector, JobType.FULL, TriggerMethod.ON_DEMAND, iso_now())
    request = engine_request(SyncJob("dry-run", snapshot))
    collector = PreviewCollector(limit=limit)
    engine = SyncEngine(client, settings, failure_log=FailureLog(None), preview=collector)
    try:
        source = source_factory(str(connector.service_type), connector.configuration)
    except Exception as exc:
        return _failed(connector_id, request.index_name, limit, f"{exc}", started)
    try:
        result = await engine.run(source, request)
    finally:
        with contextlib.suppress(Exception):  # as the job runner closes its source
            await source.close()
    exists = collector.index_exists
    mappings = collector.mappings or content_index_body(request.language)["mappings"]
    c = result.counters
    error = result.error if result.status is not SyncStatus.COMPLETED else None
    return DryRunReport(
        connector_id=connector_id,
        index_name=request.index_name,
        index_exists=exists,
        complete=collector.complete and error is None,
        limit=limit,
        read=c.extracted,
        new=collector.new,
        updated=collector.updated,
        unchanged=c.unchanged,
        deleted=collector.deleted if collector.complete and exists and error is None else None,
        excluded=collector.excluded,
        excluded_sample=collector.excluded_sample,
        too_large=collector.too_large,
        too_large_sample=collector.too_large_sample,
        failed=c.failed,
        sample_ids=collector.sample_ids,
        sample_documents=collector.sample_documents,
        deleted_sample=collector.deleted_sample,
        sizes=collector.sizes(),
        fields=plan_fields(collector.fields, mappings, collector.conflicts),
        conflicts=list(collector.conflicts.values()),
        deletion_guard=result.deletion_guard.as_doc() if result.deletion_guard else None,
        notices=list(result.notices),
        error=error,
        elapsed=round(time.monotonic() - started, 3),
    )


def _failed(connector_id: str, index: str, limit: int | None, error: str, started: float):
    return DryRunReport(
        connector_id, index, False, False, limit, 0, 0, 0, 0, None, 0, [], 0, [], 0, [], [],
        [], {"documents": 0}, [], [], error=f"cannot start the source: {error}",
        elapsed=round(time.monotonic() - started, 3),
    )  # fmt: skip


def plan_fields(
    seen: Mapping[str, FieldSeen], mappings: Mapping[str, Any], conflicts: Mapping[str, str]
) -> list[FieldPlan]:
    """Each field seen, with the mapping the index has or would give it."""
    plans = []
    for path in sorted(seen):
        found = seen[path]
        main_kind = max(found.kinds, key=lambda k: found.kinds[k])
        mapping, origin = mapping_of(path, main_kind, mappings)
        plans.append(
            FieldPlan(path, mapping, origin, dict(found.kinds), found.example, conflicts.get(path))
        )
    return plans


def mapping_of(path: str, kind: str, mappings: Mapping[str, Any]) -> tuple[str, str]:
    """(mapping in words, where it comes from) for a field path under `mappings`."""
    node: Mapping[str, Any] = mappings
    dynamic = str(mappings.get("dynamic", "true")).lower()
    parts = path.split(".")
    for depth, part in enumerate(parts):
        properties = node.get("properties") or {}
        child = properties.get(part)
        if child is None:
            break
        node = child
        if "dynamic" in node:
            dynamic = str(node["dynamic"]).lower()
        if depth == len(parts) - 1:
            return _described(node), "mapped"
    if dynamic == "false":
        return "not indexed (dynamic: false)", "dynamic"
    if dynamic == "strict":
        return "rejected (strict mapping)", "dynamic"
    template = _template_for(kind, mappings.get("dynamic_templates") or [])
    if template is not None:
        return _described(template), "template"
    return DYNAMIC_TYPES.get(kind, kind), "dynamic"


def _template_for(kind: str, templates: list[Any]) -> Mapping[str, Any] | None:
    """The mapping of the first dynamic template that matches on the JSON kind alone."""
    wanted = {"string": "string", "long": "long", "float": "double", "boolean": "boolean"}
    for entry in templates:
        if not isinstance(entry, Mapping):
            continue
        for body in entry.values():
            if not isinstance(body, Mapping) or set(body) - {"match_mapping_type", "mapping"}:
                continue  # templates matching on names or paths are not judged here
            if body.get("match_mapping_type") in (wanted.get(kind), "*"):
                return body.get("mapping") or {}
    return None


def _described(node: Mapping[str, Any]) -> str:
    kind = str(node.get("type") or "object")
    subfields = node.get("fields") or {}
    extra = [str(sub.get("type")) for sub in subfields.values() if isinstance(sub, Mapping)]
    return " + ".join([kind, *extra]) if extra else kind


def report_lines(report: DryRunReport, *, documents: int = 2) -> list[str]:
    """The report as plain lines, for the CLI and the TUI's preview (the same words)."""
    scope = "all of the source" if report.limit is None else f"up to {report.limit:,} items"
    lines = [
        f"Dry run of connector {report.connector_id} into {report.index_name} "
        f"({scope}; nothing written, no job recorded)",
    ]
    if report.error:
        lines.append(f"✖ {report.error}")
    lines.append(
        f"Read {report.read:,} items{'' if report.complete else ' (a sample: the source has more)'}"
        f" in {report.elapsed:.1f} s"
    )
    index_words = "existing index" if report.index_exists else "new index (created by the sync)"
    deleted = (
        f"{report.deleted:,}"
        if report.deleted is not None
        else ("0" if not report.index_exists else "unknown from a sample (use --all)")
    )
    lines += [
        f"Into the {index_words}:",
        f"  would write    {report.would_write:,} ({report.new:,} new, {report.updated:,} updated)",
        f"  unchanged      {report.unchanged:,}",
        f"  would delete   {deleted}",
        f"  excluded       {report.excluded:,} by sync rules"
        + (f" (e.g. {', '.join(report.excluded_sample[:3])})" if report.excluded_sample else ""),
        f"  too large      {report.too_large:,}"
        + (f" (e.g. {', '.join(report.too_large_sample[:3])})" if report.too_large_sample else ""),
        f"  failed to read {report.failed:,}",
    ]
    if report.deletion_guard:
        guard = report.deletion_guard
        lines.append(
            f"⚠ The deletion guard would stop this sync: {guard['would_delete']:,} of "
            f"{guard['indexed']:,} documents ({guard['percent']:g} %) over its limit of "
            f"{guard['max_percent']:g} % (confirm with --confirm-deletions)"
        )
    sizes = report.sizes
    if sizes.get("documents"):
        lines.append(
            f"Sizes: median {human_size(sizes['median'])}, 90th percentile "
            f"{human_size(sizes['p90'])}, largest {human_size(sizes['max'])}, "
            f"{human_size(sizes['total_bytes'])} in all"
        )
    if report.conflicts:
        lines.append("✖ Fields the existing index would reject (the real sync stops on these):")
        lines += [f"  - {text}" for text in report.conflicts]
    if report.fields:
        lines.append("Fields and their mapping:")
        width = min(28, max(len(plan.path) for plan in report.fields))
        for plan in report.fields:
            origin = {"mapped": "", "template": " (dynamic template)", "dynamic": " (dynamic)"}
            mark = "  ✖ conflict" if plan.conflict else ""
            lines.append(f"  {plan.path.ljust(width)}  {plan.mapping}{origin[plan.origin]}{mark}")
    if report.sample_ids:
        lines.append(f"Sample ids: {', '.join(report.sample_ids[:5])}")
    for doc in report.sample_documents[:documents]:
        lines.append("Sample document:")
        for key, value in list(doc.items())[:12]:
            text = " ".join(str(value).split())
            lines.append(f"  {key}: {text[:100] + '…' if len(text) > 100 else text}")
    lines += [f"Note: {notice}" for notice in report.notices]
    return lines
