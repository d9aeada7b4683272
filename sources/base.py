"""The interface every Sluice source implements.

A source turns a configuration (Elastic's schema format) into documents. It satisfies the
engine's protocols in `core.engine.source`: `get_docs(filtering)` is an async generator of
dicts carrying `_id` and `_timestamp` (or `SourceDocument`s, `SourceFailure`s); `close()`
releases resources. Optional capabilities, each a protocol there: counting
(`count_documents`), cursor-based incremental syncs (`supports_incremental_sync`,
`get_docs_incrementally(sync_cursor, filtering)` yielding `(doc, Operation)`, and
`self.sync_cursor` set when done), advanced rules (`advanced_rules_enabled`,
`validate_advanced_rules`) and lazy content (`lazy_content`, `with_content`).

Per-document failures (an unreadable file, a value that cannot be converted) do not fail
the sync: the document is yielded with its metadata and, beside it, the reason
(`with_error`), which the engine records in its failure log; the index receives the
document alone.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from sluice.core.engine.deletion_guard import GUARD_FIELDS
from sluice.core.engine.source import (
    ContentError,
    ContentLoader,
    Scope,
    SourceDocument,
    SourceFailure,
    SourceItem,
)
from sluice.core.redact import remember_secret
from sluice.sources.errors import ConfigurationError
from sluice.sources.schema import (
    complete_entry,
    complete_schema,
    is_configuration,
    merge_values,
    redacted,
    typed_values,
    validate_configuration,
    visible_fields,
)

Document = dict[str, Any]

__all__ = [
    "BaseSource",
    "ContentError",
    "Document",
    "Scope",
    "SourceDocument",
    "SourceFailure",
    "SourceItem",
    "advanced_rules",
    "folder_scope",
    "source_failure",
    "with_content",
    "with_error",
]


class BaseSource(ABC):
    """Base class of all sources. Subclasses set the class attributes and implement
    `get_default_configuration` and `get_docs`; most also override `ping`,
    `validate_config` (calling `super()` first) and `close`."""

    service_type: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    """One line: what the source reads."""
    prerequisites: ClassVar[list[str]] = []
    """What the user must prepare at the source (permissions, a read-only user, network)."""
    advanced_rules_enabled: ClassVar[bool] = False
    """Accepts advanced sync rules (then override `advanced_rules_validate`)."""
    incremental_sync_enabled: ClassVar[bool] = False
    """Has `get_docs_incrementally` (an `IncrementalSource`); `supports_incremental_sync()`
    says whether a configured instance can use it."""
    lazy_content: ClassVar[bool] = False
    """Yields documents whose content loads only if the engine writes them (`with_content`)."""

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        """`configuration` is either the stored schema-with-values map of a connector
        record, or a plain `key -> value` map; either is completed from the defaults."""
        self.configuration: dict[str, dict[str, Any]] = self._merge(configuration)
        self.values: dict[str, Any] = typed_values(self.configuration)
        for entry in self.configuration.values():
            if entry.get("sensitive"):
                remember_secret(entry.get("value"))
        self.sync_cursor: Any = None
        self.logger = logging.getLogger(f"sluice.sources.{self.service_type or 'custom'}")

    # ------------------------------------------------------------ schema

    @classmethod
    @abstractmethod
    def get_default_configuration(cls) -> dict[str, dict[str, Any]]:
        """The configuration schema with default values, in Elastic's format."""

    @classmethod
    def default_configuration(cls) -> dict[str, dict[str, Any]]:
        """The schema with every attribute of every entry present (what Sluice writes to
        the connector record, so Kibana and Elastic's service read it too), with the
        engine's own advanced settings (the deletion guard's limits) after the source's."""
        return complete_schema({**cls.get_default_configuration(), **GUARD_FIELDS})

    @classmethod
    def features(cls) -> dict[str, Any]:
        """The connector record's `features`, as Elastic's service reports them."""
        return {
            "sync_rules": {
                "basic": {"enabled": True},
                "advanced": {"enabled": cls.advanced_rules_enabled},
            },
            "document_level_security": {"enabled": False},
            "incremental_sync": {"enabled": cls.incremental_sync_enabled},
        }

    def _merge(self, configuration: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        schema = self.default_configuration()
        if not is_configuration(configuration):
            return merge_values(schema, configuration)
        # The source's own schema decides types and rules; the record supplies the values.
        # Keys the schema does not know (e.g. fields of a newer Elastic release) are kept.
        merged = merge_values(schema, configuration)
        for key, entry in configuration.items():
            if key not in merged:
                merged[key] = complete_entry(key, entry)
        return merged

    # ------------------------------------------------------------ checks

    def check_values(self) -> dict[str, str]:
        """Source-specific checks that need no connection (`key -> message`). Override to
        add rules the schema format cannot express; called only for visible fields."""
        return {}

    def validation_errors(self) -> dict[str, str]:
        """Every local problem of the configuration: schema rules, then `check_values`."""
        errors = validate_configuration(self.configuration)
        visible = set(visible_fields(self.configuration))
        for key, message in self.check_values().items():
            if key in visible or key not in self.configuration:
                errors.setdefault(key, message)
        return errors

    async def validate_config(self) -> None:
        """Raise `ConfigurationError` (with `field_errors`) when the configuration is
        invalid. Sources that talk to a server extend this with remote checks (database
        and tables exist and are readable) raising the typed errors of `sources.errors`."""
        errors = self.validation_errors()
        if errors:
            raise ConfigurationError(errors)

    async def ping(self) -> None:  # noqa: B027 (optional hook)
        """Check that the source answers; raise a typed, actionable `SourceError`."""

    def coverage(self) -> str | None:
        """What a sync will cover, in words, as the last `validate_config()` found it
        ("2 sites, 3 document libraries"); None when the source cannot tell."""
        return None

    def setup_links(self) -> list[tuple[str, str]]:
        """(label, address) the user needs while setting this source up, built from the
        values typed so far (an admin-consent page, say); shown to copy."""
        return []

    # ------------------------------------------------------------ documents

    @abstractmethod
    def get_docs(self, filtering: Mapping[str, Any] | None = None) -> AsyncIterator[SourceItem]:
        """Yield every document (full sync). Each has a stable `_id` and a `_timestamp`;
        `with_error`, `with_content` and `source_failure` wrap what the engine must know."""

    def supports_incremental_sync(self) -> bool:
        """True when this configured instance can yield changes since a cursor."""
        return False

    def advanced_rules_validate(self, rules: Any) -> list[str]:
        """Problems of an advanced-rules snippet, one message each; empty = valid."""
        if rules in (None, "", [], {}):
            return []
        return [f"{self.display_name or self.service_type} does not support advanced sync rules."]

    async def validate_advanced_rules(self, rules: Any) -> list[str]:
        """Like `advanced_rules_validate`, and also against the source where it can check
        more (tables exist, queries parse). Empty = valid."""
        return self.advanced_rules_validate(rules)

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections, pools and files. Safe to call more than once."""

    async def __aenter__(self) -> BaseSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redacted(self.configuration)}>"


def advanced_rules(filtering: Any) -> Any:
    """The advanced-rules snippet value in a filtering object, or None when there is none.

    Accepts the connector's `filtering` list (the DEFAULT domain's `active` rules are
    used), one `{domain, active, draft}` item, an `{rules, advanced_snippet}` object, or the
    snippet `{value: ...}` itself.
    """
    if filtering is None:
        return None
    if isinstance(filtering, list):
        chosen = next(
            (f for f in filtering if isinstance(f, Mapping) and f.get("domain") == "DEFAULT"),
            filtering[0] if filtering else None,
        )
        return advanced_rules(chosen)
    if not isinstance(filtering, Mapping):
        return None
    if "active" in filtering:
        return advanced_rules(filtering["active"])
    snippet = filtering.get("advanced_snippet", filtering if "value" in filtering else None)
    if not isinstance(snippet, Mapping):
        return None
    value = snippet.get("value")
    return None if value in (None, "", [], {}) else value


def with_error(document: Document | SourceDocument, message: str) -> SourceDocument:
    """A document the source could only partly read: indexed with what it has (metadata
    intact), counted failed, with `message` in the failure log."""
    if isinstance(document, SourceDocument):
        document.error = message
        return document
    return SourceDocument(document, error=message)


def with_content(document: Document, content: ContentLoader) -> SourceDocument:
    """A document whose content (`content()` returns the fields to add, such as `body`) is
    loaded only if the engine writes it; raise `ContentError` in it to fail that document
    with its message, keeping the metadata."""
    return SourceDocument(document, content=content)


def source_failure(
    name: str, reason: str, operation: str = "extract", scope: Scope | None = None
) -> SourceFailure:
    """Not a document: something the source could not read outside any one document (a
    folder it could not list, a table it may not read), to yield in its place. The engine
    counts it as failed and records it under `name`; nothing is indexed.

    `scope` names the indexed documents of that part, which a full sync then keeps instead
    of deleting them as stale; without one the sync deletes nothing (see `core.engine.source`).
    """
    return SourceFailure(name, reason, operation, scope)


def folder_scope(folder: str, field: str = "relative_path") -> Scope:
    """The documents under `folder` (relative to the root, `""` for the root itself) of a
    source that walks a tree and writes each file's relative path in `field`."""
    folder = folder.strip("/")
    return Scope(field, f"{folder}/" if folder else "", prefix=True)
