"""`Config`: a loaded, validated config.yml with Elastic's defaults merged in — the one object
the TUI, the CLI and the service read settings from."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sluice.core.config.defaults import EXTRACTION_SERVICE_DEFAULTS
from sluice.core.config.parse import Parsed
from sluice.core.config.problems import Problem
from sluice.core.config.schema import format_path
from sluice.core.config.typed import Settings
from sluice.core.secrets import SECRET_FIELD_NAMES, mask

PLACEHOLDER = "changeme"


class Config:
    """Settings as Elastic's service would see them. `data` may hold resolved secrets, so the
    repr never shows it; use `redacted()` to display a config."""

    def __init__(
        self,
        data: dict[str, Any],
        *,
        path: Path | None = None,
        warnings: list[Problem] | None = None,
        parsed: Parsed | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self.warnings: list[Problem] = list(warnings or [])
        self._parsed = parsed

    @property
    def parsed(self) -> Parsed | None:
        """The file as written (before defaults) with positions; None when built in memory."""
        return self._parsed

    @property
    def settings(self) -> Settings:
        """The typed settings every consumer reads (engine, service, TUI): built from `data`
        each time, so an edit of `data` is never hidden behind a stale copy."""
        return Settings.from_data(self.data)

    @property
    def elasticsearch(self) -> dict[str, Any]:
        return self.data["elasticsearch"]

    @property
    def bulk(self) -> dict[str, Any]:
        return self.data["elasticsearch"]["bulk"]

    @property
    def service(self) -> dict[str, Any]:
        return self.data["service"]

    @property
    def sources(self) -> dict[str, str]:
        return self.data.get("sources") or {}

    @property
    def custom_sources(self) -> dict[str, str]:
        """`sources` entries the user added or changed (not Elastic's built-in classes)."""
        return self.settings.custom_sources

    @property
    def extraction_service(self) -> dict[str, Any] | None:
        """The local extraction service settings with Elastic's defaults, or None when off."""
        section = self.data.get("extraction_service")
        if not isinstance(section, Mapping):
            return None
        return {**EXTRACTION_SERVICE_DEFAULTS, **section}

    @property
    def connectors(self) -> list[dict[str, Any]]:
        """The connectors Elastic's service would run: ids as text, a repeated id keeps its
        first place and its last settings, and the deprecated top-level `connector_id` /
        `service_type` pair counts when the list is empty."""
        by_id: dict[str, dict[str, Any]] = {}
        for entry in self.data.get("connectors") or []:
            if isinstance(entry, Mapping) and entry.get("connector_id") not in (None, ""):
                connector_id = str(entry["connector_id"])
                by_id[connector_id] = {**entry, "connector_id": connector_id}
        if not by_id and self.data.get("connector_id") and self.data.get("service_type"):
            connector_id = str(self.data["connector_id"])
            by_id[connector_id] = {
                "connector_id": connector_id,
                "service_type": self.data["service_type"],
            }
        return list(by_id.values())

    def connector(self, connector_id: str) -> dict[str, Any] | None:
        """The entry for one connector id, or None."""
        return next((c for c in self.connectors if c["connector_id"] == str(connector_id)), None)

    def service_problems(self) -> list[Problem]:
        """Why Elastic's service would refuse to start with this config: no connector, or a
        connector still set to the `changeme` placeholder. Kept apart from loading because
        the TUI and `sluice check` work with configs that have no connector yet."""
        problems: list[Problem] = []
        if not self.connectors:
            problems.append(
                self._problem(
                    ("connectors",),
                    "no connector is configured — Elastic's service refuses to start "
                    '("You must configure at least one connector")',
                    "add one with `sluice connector create --write-config` or the `sluice` wizard",
                )
            )
        for index, entry in enumerate(self.data.get("connectors") or []):
            if not isinstance(entry, Mapping):
                continue
            for field in ("connector_id", "service_type"):
                if entry.get(field) == PLACEHOLDER:
                    problems.append(
                        self._problem(
                            ("connectors", index, field),
                            f"is still the placeholder `{PLACEHOLDER}` — Elastic's service "
                            'refuses to start ("Unmodified default configuration detected")',
                            "set the connector's real id and service type (Kibana shows them; "
                            "so does `sluice connector list`)",
                        )
                    )
        return problems

    def redacted(self) -> dict[str, Any]:
        """A copy of `data` fit for display: secret values masked to a short prefix."""
        return _redact(copy.deepcopy(self.data), ())

    def _problem(self, path: tuple[Any, ...], message: str, hint: str) -> Problem:
        where = None
        if self._parsed is not None:
            where = self._parsed.locate_value(path) or self._parsed.locate_key(path)
            if where is None and len(path) > 1:
                where = self._parsed.locate_key(path[:1])
        return Problem(
            key=format_path(path),
            message=message,
            hint=hint,
            line=where[0] if where else None,
            column=where[1] if where else None,
            file=self._parsed.file if self._parsed else (str(self.path) if self.path else None),
        )

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "<memory>"
        return f"<Config {where}: {len(self.connectors)} connector(s), host {self._host()}>"

    def _host(self) -> str:
        host = str(self.elasticsearch.get("host", ""))
        return host.split("@")[-1] if "@" in host else host


def _redact(value: Any, path: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            secret = key in SECRET_FIELD_NAMES or (path and path[-1] == "headers")
            if secret and isinstance(item, str):
                value[key] = mask(item)
            else:
                value[key] = _redact(item, (*path, key))
    elif isinstance(value, list):
        return [_redact(item, (*path, index)) for index, item in enumerate(value)]
    return value
