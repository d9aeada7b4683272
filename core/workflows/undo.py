"""The writes workflows take back, worded once: each undo step returns what it removed, or
what is left behind with how to remove it — never raising, so one failed undo step doesn't
stop the next."""

from __future__ import annotations

import os
from pathlib import Path

from elasticsearch import AsyncElasticsearch

from sluice.core.echo import quoted
from sluice.core.protocol import ConnectorStoreError
from sluice.core.protocol.es_errors import translated


def config_write_problem(path: Path) -> str | None:
    """Why config.yml can't be written, or None. The save writes a temporary file next to
    it, so its folder must be writable too — checked before a workflow's first write."""
    folder = path.parent
    if not folder.is_dir():
        return f"its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


async def invalidate_api_key(client: AsyncElasticsearch, key_id: str) -> tuple[bool, str]:
    """(removed?, the words for it): a fresh key nobody records must not stay valid."""
    try:
        with translated(f"invalidating API key {key_id}"):
            await client.security.invalidate_api_key(ids=[key_id])
    except ConnectorStoreError:
        return False, f"API key {key_id} (invalidate it in Kibana)"
    return True, f"API key {key_id}"


async def delete_index(client: AsyncElasticsearch, index: str) -> tuple[bool, str]:
    """(removed?, the words for it) for an index the workflow created itself."""
    try:
        with translated(f"deleting index {quoted(index)}"):
            await client.options(ignore_status=404).indices.delete(index=index)
    except ConnectorStoreError:
        return False, f"index {quoted(index)} (delete it in Kibana: Index Management)"
    return True, f"index {quoted(index)}"


def outcome(failure: str, removed: list[str], left: list[str]) -> str:
    """A failed workflow in one line: what failed, then what was undone or left behind."""
    if left:
        return f"{failure} — left behind: {', '.join(left)}"
    if removed:
        return f"{failure} — undone: removed {', '.join(removed)}"
    return failure
