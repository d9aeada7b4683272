"""Parts a source could not read, and the stale documents a full sync must therefore keep.

A source that cannot list a folder or read a table yields a failure record instead of that
part's documents (see `core.engine.source`). Every indexed document of the part then looks
stale; deleting it would wipe data the source still has. So before the deletion phase the
engine hands the stale ids to `keep_unread`: each stale id's scope fields are read back from
the index (`_mget`, only when a part failed, only for stale ids, a page at a time) and
matched in Python, so the rule works whatever the index mapping is. Kept: every document a
scope covers, and every one without the scope field (nobody can tell). A failure without a
scope, or an index that cannot be read back, keeps everything. One implementation for every
source: `dir` today, the object-store and file-share sources later, the SQL tables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch
from elasticsearch.exceptions import ApiError, TransportError

from sluice.core.engine.snapshot import IdLedger
from sluice.core.engine.source import Scope, SourceFailure
from sluice.core.log_marks import REPORTED

log = logging.getLogger("sluice.engine")

PAGE = 1000  # stale ids whose scope fields are read per `_mget`
_NAMES_IN_NOTICE = 3


@dataclass(frozen=True, slots=True)
class UnreadPart:
    """One part the source could not read: what a person calls it, how it failed ("list",
    "read"), and the documents it holds (None when the source could not say)."""

    name: str
    operation: str
    scope: Scope | None

    @classmethod
    def of(cls, failure: SourceFailure) -> UnreadPart:
        return cls(failure.name or "part of the source", failure.operation, scope_of(failure))


def scope_of(failure: SourceFailure) -> Scope | None:
    """The scope of a failure: a `Scope`, or its fields as a mapping (for sources that
    build plain dicts); None when absent or unusable."""
    scope: Any = failure.scope
    if isinstance(scope, Scope):
        return scope
    if isinstance(scope, Mapping) and scope.get("field") and scope.get("value") is not None:
        return Scope(str(scope["field"]), str(scope["value"]), bool(scope.get("prefix")))
    return None


async def keep_unread(
    client: AsyncElasticsearch, index: str, ledger: IdLedger, parts: list[UnreadPart]
) -> tuple[bool, str | None]:
    """Take the stale documents of `parts` off `ledger`'s deletion list. Returns whether
    the deletion may go on at all, and the notice for the job result ("stale documents
    kept: /srv/share/closed could not be listed (500 kept)"), None when nothing was unread."""
    if not parts:
        return True, None
    unscoped = [part for part in parts if part.scope is None]
    if unscoped:
        return False, _told(f"stale documents kept: {describe(unscoped)} (nothing was deleted)")
    scopes = [part.scope for part in parts if part.scope is not None]
    fields = sorted({scope.field for scope in scopes})
    kept, after = 0, None
    while page := ledger.unseen_after(after, PAGE):
        after = page[-1]
        try:
            response = await client.mget(index=index, ids=page, source_includes=fields)
        except (ApiError, TransportError) as exc:
            return False, _told(
                f"stale documents kept: {describe(parts)}, and the index could not be "
                f"checked for their documents ({exc}), so nothing was deleted"
            )
        keep = [
            str(doc["_id"])
            for doc in response.get("docs") or []
            if doc.get("found") and covered(scopes, doc.get("_source") or {})
        ]
        ledger.mark_kept(keep)
        kept += len(keep)
    return True, _told(f"stale documents kept: {describe(parts)} ({kept} kept)")


def covered(scopes: list[Scope], source: Mapping[str, Any]) -> bool:
    """True when an indexed document belongs to a part that could not be read, or lacks a
    scope field so nobody can tell: both are kept."""
    return any(scope.covers(source) is not False for scope in scopes)


def describe(parts: list[UnreadPart]) -> str:
    """The parts, as in "/srv/a could not be listed; public.t could not be read" (a few)."""
    phrases = [
        f"{part.name} could not be {'listed' if part.operation == 'list' else 'read'}"
        for part in parts[:_NAMES_IN_NOTICE]
    ]
    if len(parts) > _NAMES_IN_NOTICE:
        phrases.append(f"and {len(parts) - _NAMES_IN_NOTICE} more")
    return "; ".join(phrases)


def _told(notice: str) -> str:
    log.warning("%s", notice, extra=REPORTED)
    return notice
