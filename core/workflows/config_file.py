"""config.yml as the wizard writes it: the existing file edited in place (comments kept) or
a fresh commented one, and a preview of the write with secrets masked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.core.config import ConfigDocument, new_config_text
from sluice.core.config.redaction import mask_secret_lines


@dataclass(frozen=True)
class ConfigPreview:
    """What writing config.yml would do: the new text (secrets masked), and the diff when
    the file exists."""

    path: Path
    text: str
    diff: str
    exists: bool


def config_document(
    path: str | Path,
    es_settings: Mapping[str, Any],
    connector: Mapping[str, Any] | None,
) -> ConfigDocument:
    """config.yml as it would be written: `es_settings` set (None unsets a key) and the
    connector's entry upserted. Raises `ConfigError` for a file that cannot be edited."""
    target = Path(path)
    if target.exists():
        document = ConfigDocument.open(target)
        for key, value in es_settings.items():
            if value is None:
                document.unset(f"elasticsearch.{key}")
            else:
                document.set(f"elasticsearch.{key}", value)
        if connector:
            document.upsert_connector(
                connector["connector_id"], connector["service_type"], connector.get("api_key")
            )
        return document
    entries = [dict(connector)] if connector else []
    settings = {k: v for k, v in es_settings.items() if v is not None}
    return ConfigDocument(new_config_text(settings, entries), target)


def preview_config(document: ConfigDocument) -> ConfigPreview:
    exists = bool(document.path and document.path.exists())
    return ConfigPreview(
        path=document.path or Path("config.yml"),
        text=mask_secret_lines(document.render()),
        diff=document.diff() if exists else "",
        exists=exists,
    )
