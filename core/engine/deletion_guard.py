"""The mass-deletion guard: a full sync about to delete much of its index stops first.

A misconfigured path, an expired share permission or a renamed table makes a source yield
little or nothing; a full sync would then delete every document it no longer saw. The guard
counts the stale documents before the first delete and, when they are both more than
`max_percent` of the index and more than `min_documents`, ends the sync in `error` with
nothing deleted and a reason saying how to go on: confirm (`confirmed`: the user accepts
deleting up to that many, from the dashboard or `sluice sync --confirm-deletions`), or raise
the connector's limit (two advanced settings of its configuration, `GUARD_FIELDS`).

The settings live in the connector's configuration (Elastic's schema format, `advanced`), so
Kibana shows them too; Elastic's service ignores them (it has no guard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluice.core.invocation import sluice_command

DEFAULT_MAX_PERCENT = 30
DEFAULT_MIN_DOCUMENTS = 1000
PERCENT_KEY = "sluice_deletion_guard_percent"
MINIMUM_KEY = "sluice_deletion_guard_min_docs"

#: The two settings as configuration-schema entries, shown under "Advanced settings".
GUARD_FIELDS: dict[str, dict[str, Any]] = {
    PERCENT_KEY: {
        "label": "Deletion guard: largest share of the index one sync may delete (%)",
        "type": "int",
        "display": "numeric",
        "value": DEFAULT_MAX_PERCENT,
        "default_value": DEFAULT_MAX_PERCENT,
        "required": False,
        "order": 900,
        "tooltip": (
            "A full sync that would delete more than this share of the index (and more than "
            "the minimum below) stops before deleting anything, until you confirm. 100 turns "
            "the guard off."
        ),
        "validations": [
            {"type": "greater_than", "constraint": -1},
            {"type": "less_than", "constraint": 101},
        ],
        "ui_restrictions": ["advanced"],
    },
    MINIMUM_KEY: {
        "label": "Deletion guard: deletions always allowed (documents)",
        "type": "int",
        "display": "numeric",
        "value": DEFAULT_MIN_DOCUMENTS,
        "default_value": DEFAULT_MIN_DOCUMENTS,
        "required": False,
        "order": 901,
        "tooltip": "A sync may always delete up to this many documents, whatever the share.",
        "validations": [{"type": "greater_than", "constraint": -1}],
        "ui_restrictions": ["advanced"],
    },
}


@dataclass(frozen=True, slots=True)
class DeletionGuard:
    """When a full sync may not delete its stale documents without a confirmation."""

    max_percent: float = DEFAULT_MAX_PERCENT
    min_documents: int = DEFAULT_MIN_DOCUMENTS
    confirmed: int | None = None  # the user accepted deleting up to this many

    def check(self, stale: int, indexed: int) -> GuardTrip | None:
        """None when `stale` of the `indexed` documents may go; else why not."""
        if stale <= self.min_documents or self.max_percent >= 100 or indexed <= 0:
            return None
        if self.confirmed is not None and stale <= self.confirmed:
            return None
        percent = 100.0 * stale / indexed
        if percent <= self.max_percent:
            return None
        return GuardTrip(stale, indexed, percent, self.max_percent, self.min_documents)


@dataclass(frozen=True, slots=True)
class GuardTrip:
    """A sync the guard stopped: what it would have deleted, against which limits."""

    stale: int
    indexed: int
    percent: float
    max_percent: float
    min_documents: int

    def message(self, connector_id: str | None = None) -> str:
        return (
            f"deletion guard: this full sync would delete {self.stale:,} of the index's "
            f"{self.indexed:,} documents ({self.percent:.0f} %), over the limit of "
            f"{self.max_percent:g} % and {_documents(self.min_documents)}; nothing was "
            f"deleted. {self.next_steps(connector_id)}"
        )

    def next_steps(self, connector_id: str | None = None) -> str:
        target = connector_id or "CONNECTOR_ID"
        return (
            "If the source really lost them, confirm with "
            f"`{sluice_command()} sync {target} --confirm-deletions` (or d on the dashboard); "
            "if not, fix the source's settings (path, permissions, table) and sync again; "
            f"or raise the limit (`{sluice_command()} connector configure {target} --set "
            f"{PERCENT_KEY}=N`, or the connector's advanced settings)"
        )

    def as_doc(self) -> dict[str, Any]:
        return {
            "would_delete": self.stale,
            "indexed": self.indexed,
            "percent": round(self.percent, 1),
            "max_percent": self.max_percent,
            "min_documents": self.min_documents,
        }

    @classmethod
    def from_doc(cls, doc: Any) -> GuardTrip | None:
        if not isinstance(doc, Mapping):
            return None
        try:
            return cls(
                int(doc["would_delete"]),
                int(doc["indexed"]),
                float(doc["percent"]),
                float(doc["max_percent"]),
                int(doc["min_documents"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _documents(count: int) -> str:
    return f"{count:,} document" + ("" if count == 1 else "s")


def guard_trip_of(metadata: Any) -> GuardTrip | None:
    """What the deletion guard stopped in a job's sync (`metadata.sluice.deletion_guard`)."""
    section = metadata.get("sluice") if isinstance(metadata, Mapping) else None
    return (
        GuardTrip.from_doc(section.get("deletion_guard")) if isinstance(section, Mapping) else None
    )


def _number(configuration: Mapping[str, Any] | None, key: str, default: int) -> int:
    entry = (configuration or {}).get(key)
    value = entry.get("value") if isinstance(entry, Mapping) else entry
    if value in (None, ""):
        return default
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default  # an unreadable limit keeps the safe default


def guard_of(
    configuration: Mapping[str, Any] | None, confirmed: int | None = None
) -> DeletionGuard:
    """The guard a connector's configuration asks for (defaults where it says nothing)."""
    return DeletionGuard(
        max_percent=_number(configuration, PERCENT_KEY, DEFAULT_MAX_PERCENT),
        min_documents=_number(configuration, MINIMUM_KEY, DEFAULT_MIN_DOCUMENTS),
        confirmed=confirmed,
    )


def confirmed_deletions(metadata: Any) -> int | None:
    """The confirmation a job carries (`metadata.sluice.confirm_deletions`), if any."""
    section = metadata.get("sluice") if isinstance(metadata, Mapping) else None
    value = section.get("confirm_deletions") if isinstance(section, Mapping) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
