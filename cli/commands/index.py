"""`sluice index list`: content indices with their size and the connector writing them."""

from __future__ import annotations

import argparse
from typing import Any

from sluice.cli.common import (
    add_config_option,
    add_json_option,
    command,
    note,
    open_connection,
    print_json,
    print_table,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="list indices and the connectors using them")
    actions = parser.add_subparsers(dest="index_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="indices: documents, size, connector")
    listing.add_argument(
        "--all",
        action="store_true",
        help="include hidden and system indices (names starting with '.')",
    )
    add_json_option(listing)
    add_config_option(listing)
    listing.set_defaults(handler=list_indices)


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@command
async def list_indices(args: argparse.Namespace) -> int:
    from sluice.core.protocol.es_errors import translated

    async with open_connection(args) as conn:
        with translated("listing indices"):  # worded once, in core, without bodies
            rows = await conn.client.cat.indices(
                format="json",
                h="index,docs.count,store.size",
                bytes="b",
                expand_wildcards="all" if args.all else "open",
            )
        connectors = await conn.store.list_connectors()
    by_index = {c.index_name: c for c in connectors if c.index_name}
    indices = []
    for row in rows.body:
        name = row.get("index", "")
        if name.startswith(".") and not args.all:
            continue
        connector = by_index.get(name)
        indices.append(
            {
                "index": name,
                "docs_count": _int(row.get("docs.count")),
                "size_bytes": _int(row.get("store.size")),
                "connector_id": connector.id if connector else None,
                "connector_name": connector.name if connector else None,
            }
        )
    indices.sort(key=lambda item: item["index"])
    if args.json:
        print_json(indices)
        return 0
    if not indices:
        note("no indices")
        return 0
    print_table(
        [
            (
                i["index"],
                i["docs_count"],
                human_size(i["size_bytes"]),
                f"{i['connector_name']} ({i['connector_id']})" if i["connector_id"] else None,
            )
            for i in indices
        ],
        ["index", "docs", "size", "connector"],
    )
    return 0
