"""Content fingerprints: how a full sync knows a document is unchanged without sending it.

Each document Sluice writes carries `_sluice_fingerprint`, a hash of what the source
yielded for it (before lazy content: for a file, its metadata, so an unchanged file is not
even read). The fingerprint lives in the index, not in a local cache, so every instance of
the service — on any host — sees the same state. A sync lists the index's fingerprints with
the ids it lists anyway and skips every document whose fingerprint matches.

The hash covers:
* a salt: what else shapes the indexed document — the ingest pipeline, the sync rules and
  the connector's non-secret settings (`fingerprint_salt`), and this scheme's version;
  changing any of them re-sends everything once;
* the document without its *volatile* fields: values that change on every read without the
  content changing (a file's access time, a row's "synced at" `_timestamp`). A source names
  them in `volatile_fields`; a `_timestamp` the engine fills in is never hashed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from sluice.core.engine.deletion_guard import GUARD_FIELDS

#: The document field that holds the fingerprint (keyword, not indexed: read from _source).
FINGERPRINT_FIELD = "_sluice_fingerprint"
#: Its mapping: stored in _source only, costing no index structures.
FINGERPRINT_MAPPING: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}
#: Bumped when what is hashed changes, so old fingerprints never match by accident.
SCHEME = b"sluice-fp-1\0"

_RULE_KEYS = ("field", "rule", "value", "policy", "order")
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


class Fingerprints:
    """Fingerprints of one sync's documents (one salt, one set of volatile fields)."""

    __slots__ = ("_salt", "_volatile")

    def __init__(self, salt: str = "", volatile: Iterable[str] = ()) -> None:
        self._salt = hashlib.blake2b(SCHEME + salt.encode(), digest_size=16)
        self._volatile = frozenset(volatile) | {FINGERPRINT_FIELD}

    def of(self, document: Mapping[str, Any]) -> str | None:
        """The fingerprint of `document` (its `_id` already taken out); None when it cannot
        be hashed (then it is simply written every time)."""
        volatile = self._volatile
        held = None
        if not volatile.isdisjoint(document) and isinstance(document, dict):
            # set aside and put back (cheaper than copying the other fields; the order of
            # keys is not hashed: they are sorted)
            held = {k: document.pop(k) for k in volatile.intersection(document)}
        elif not volatile.isdisjoint(document):
            document = {k: v for k, v in document.items() if k not in volatile}
        try:
            body = orjson.dumps(document, default=str, option=_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return None
        finally:
            if held:
                document.update(held)  # type: ignore[attr-defined]
        digest = self._salt.copy()
        digest.update(body)
        return digest.hexdigest()


def fingerprint_salt(
    configuration: Mapping[str, Any] | None,
    *,
    pipeline: Any = None,
    filtering: Mapping[str, Any] | None = None,
) -> str:
    """What, besides a document's own fields, decides what is indexed for it: the pipeline,
    the sync rules and the connector's settings. Secret values are left out (a rotated
    password changes no document); a field counts as secret when its schema says
    `sensitive`. Works on Elastic's configuration shape (`{key: {value, sensitive, ...}}`)."""
    settings: dict[str, Any] = {}
    for key, entry in (configuration or {}).items():
        if key in GUARD_FIELDS:  # the deletion guard's limits change no document
            continue
        if isinstance(entry, Mapping):
            if entry.get("sensitive"):
                continue
            settings[str(key)] = entry.get("value")
        else:
            settings[str(key)] = entry
    filtering = filtering or {}
    rules = [
        {k: rule.get(k) for k in _RULE_KEYS}
        for rule in filtering.get("rules") or []
        if isinstance(rule, Mapping)
    ]
    snippet = filtering.get("advanced_snippet")
    shaped = {
        "pipeline": pipeline or None,  # its name, or Elastic's whole pipeline settings
        "rules": rules,  # without their ids and timestamps: a re-saved rule is the same rule
        "advanced": snippet.get("value") if isinstance(snippet, Mapping) else None,
        "settings": settings,
    }
    body = orjson.dumps(shaped, default=str, option=_OPTIONS)
    return hashlib.blake2b(body, digest_size=12).hexdigest()
