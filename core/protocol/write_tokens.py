"""Write tokens: how a store recognises its own conditional write after a lost answer.

Every conditional write (`if_seq_no`/`if_primary_term`) carries a fresh random token in the
document. When the answer to it is lost — a connection reset or a timeout after the server
applied the write — the transport sends the same request again, and the server, whose
sequence number has moved on, answers 409. Taken at its word that 409 means "someone else
changed the document" and a claim is given up while its lock stays held. Reading the
document back settles it: our token in it proves our write applied (nobody else can write
it); no token means a real conflict.

The last `RECENT` tokens are kept, not only the last one, so a write that landed between
ours and the retry (a check-in, a stats heartbeat, another instance's cancel) does not hide
ours. They live where Elastic's readers ignore them: a job's free-form `metadata.sluice`,
and a `sluice` object in the connector document (both connector indices are
`dynamic: false`, and Elasticsearch's connector parser skips unknown fields). Writes by
other tools keep them: Kibana and Elastic's service send partial updates.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

#: Where the tokens live: in a job, under `metadata.sluice`; in a connector, under `sluice`.
JOB_SECTION = ("metadata", "sluice")
CONNECTOR_SECTION = ("sluice",)
#: How many recent tokens a document keeps.
RECENT = 8
#: Entries of a job's `metadata.sluice` that belong to the store, not to the caller that
#: replaces `metadata` (the runner's counters): they survive that replacement.
STORE_KEYS = ("worker", "writes")


def new_token() -> str:
    return secrets.token_hex(8)


def _section(doc: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    current: Any = doc
    for key in path:
        current = current.get(key) if isinstance(current, Mapping) else None
    return current if isinstance(current, Mapping) else {}


def stamped(doc: Mapping[str, Any], token: str, path: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `doc` with `token` added to the recent tokens at `path`."""
    result = dict(doc)
    parent = result
    for key in path:
        child = parent.get(key)
        parent[key] = dict(child) if isinstance(child, Mapping) else {}
        parent = parent[key]
    recent = parent.get("writes")
    recent = [t for t in recent if isinstance(t, str)] if isinstance(recent, list) else []
    parent["writes"] = [*recent, token][-RECENT:]
    return result


def carries(doc: Mapping[str, Any], token: str, path: tuple[str, ...]) -> bool:
    """True when `doc` holds `token`, i.e. the write that carried it was applied."""
    recent = _section(doc, path).get("writes")
    return isinstance(recent, list) and token in recent


def merged_metadata(stored: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` as a job's new `metadata`, keeping the store's own entries (the worker's
    identity, the write tokens) from the `stored` one."""
    result = copy.deepcopy(dict(given))
    own = _section({"m": stored}, ("m", "sluice"))
    kept = {k: copy.deepcopy(v) for k, v in own.items() if k in STORE_KEYS}
    if kept:
        section = result.get("sluice")
        result["sluice"] = {**(section if isinstance(section, Mapping) else {}), **kept}
    return result
