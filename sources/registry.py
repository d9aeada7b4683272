"""Which class implements a `service_type`.

Three places, the later winning: Sluice's built-in sources, third-party packages through
the `sluice.sources` entry-point group, and the `sources:` map of Elastic's config.yml
(`service_type: "module.path:ClassName"`). A config written for Elastic's service names
Elastic's classes (`connectors.sources.directory:DirectoryDataSource`); when such a class
cannot be imported, or is not a Sluice source, Sluice's built-in of the same service type
runs instead, with a warning.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from sluice.sources.base import BaseSource
from sluice.sources.errors import SourceError

logger = logging.getLogger("sluice.sources.registry")

ENTRY_POINT_GROUP = "sluice.sources"
BUILT_IN: dict[str, str] = {
    "dir": "sluice.sources.directory:DirectorySource",
    "postgresql": "sluice.sources.postgresql:PostgreSQLSource",
    "mysql": "sluice.sources.mysql:MySQLSource",
    "sharepoint_online": "sluice.sources.sharepoint_online:SharePointOnlineSource",
    "s3": "sluice.sources.s3:S3Source",
    "network_drive": "sluice.sources.network_drive:NetworkDriveSource",
    "google_cloud_storage": "sluice.sources.google_cloud_storage:GoogleCloudStorageSource",
    "azure_blob_storage": "sluice.sources.azure_blob_storage:AzureBlobStorageSource",
}
# Elastic's class paths for the same types (config.yml.example), recognised quietly.
ELASTIC_CLASSES: dict[str, str] = {
    "dir": "connectors.sources.directory:DirectoryDataSource",
    "postgresql": "connectors.sources.postgresql:PostgreSQLDataSource",
    "mysql": "connectors.sources.mysql:MySqlDataSource",
    "sharepoint_online": (
        "connectors.sources.sharepoint.sharepoint_online:SharepointOnlineDataSource"
    ),
    "s3": "connectors.sources.s3:S3DataSource",
    "network_drive": "connectors.sources.network_drive:NASDataSource",
    "google_cloud_storage": (
        "connectors.sources.google_cloud_storage:GoogleCloudStorageDataSource"
    ),
    "azure_blob_storage": "connectors.sources.azure_blob_storage:AzureBlobStorageDataSource",
}


class UnknownSourceError(SourceError, LookupError):
    """No class is registered for a service type, or the configured one is unusable."""


@dataclass(frozen=True)
class SourceInfo:
    """What a UI lists about a source type."""

    service_type: str
    display_name: str
    description: str
    prerequisites: list[str] = field(default_factory=list)
    class_path: str = ""
    origin: str = "built-in"  # "built-in", "entry point", "config.yml", "elastic"
    #: who runs it: "sluice" (Sluice's engine) or "elastic" (only Elastic's connector service)
    runner: str = "sluice"
    category: str = "Other"
    docs_url: str = ""

    @property
    def runner_label(self) -> str:
        return "run by Sluice" if self.runner == "sluice" else "run by Elastic's connector service"


def _candidates(extra: Mapping[str, str] | None) -> dict[str, tuple[str, str]]:
    """service_type -> (class path, origin); later origins override earlier ones."""
    found = {name: (path, "built-in") for name, path in BUILT_IN.items()}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in BUILT_IN:
            logger.warning(
                "Package entry point %s=%s replaces Sluice's built-in '%s' source.",
                entry.name,
                entry.value,
                entry.name,
            )
        found[entry.name] = (entry.value, "entry point")
    for name, path in (extra or {}).items():
        found[str(name)] = (str(path), "config.yml")
    return found


def load_class(class_path: str) -> type[BaseSource]:
    """Import `module.path:ClassName` (Elastic also writes `module.path.ClassName`)."""
    module_name, sep, class_name = class_path.partition(":")
    if not sep:
        module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise ImportError(f"'{class_path}' is not of the form module.path:ClassName")
    module = importlib.import_module(module_name)
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise ImportError(f"module {module_name} has no class {class_name}") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseSource)):
        raise TypeError(
            f"{class_path} is not a Sluice source (a subclass of sluice.sources.base.BaseSource)"
        )
    return cls


def get_source_class(service_type: str, extra: Mapping[str, str] | None = None) -> type[BaseSource]:
    """The source class for `service_type`. `extra` is config.yml's `sources:` map.

    Raises `UnknownSourceError` naming the known types when there is none.
    """
    return _resolve(service_type, _candidates(extra))[0]


def create_source(
    service_type: str,
    configuration: Mapping[str, Any],
    extra: Mapping[str, str] | None = None,
) -> BaseSource:
    """A configured source instance: the engine's `SourceFactory`."""
    return get_source_class(service_type, extra)(configuration)


def _resolve(
    service_type: str, candidates: Mapping[str, tuple[str, str]]
) -> tuple[type[BaseSource], str, str]:
    """(class, origin, class path) actually used for `service_type`."""
    if service_type not in candidates:
        known = ", ".join(sorted(candidates))
        raise UnknownSourceError(
            f"Unknown source type '{service_type}'.",
            f"Known types: {known}. Install a package that provides it (entry point group "
            f"'{ENTRY_POINT_GROUP}') or map it in config.yml under 'sources:'.",
            fields=["service_type"],
        )
    class_path, origin = candidates[service_type]
    try:
        return load_class(class_path), origin, class_path
    except Exception as exc:
        builtin = BUILT_IN.get(service_type)
        if builtin is None or class_path == builtin:
            fix = "Install the package that provides it, or fix the class path."
            if class_path.startswith("connectors."):
                fix = (
                    f"Sluice has no built-in '{service_type}' source; install a package that "
                    f"provides one (entry point group '{ENTRY_POINT_GROUP}')."
                )
            raise UnknownSourceError(
                f"The class for source type '{service_type}' ({class_path}, from {origin}) "
                f"cannot be used: {exc}.",
                fix,
                fields=["service_type"],
            ) from exc
        log = logger.info if ELASTIC_CLASSES.get(service_type) == class_path else logger.warning
        log(
            "Source type '%s': %s (from %s) cannot be used (%s); using Sluice's built-in %s.",
            service_type,
            class_path,
            origin,
            exc,
            builtin,
        )
        return load_class(builtin), "built-in", builtin


def available_sources(extra: Mapping[str, str] | None = None) -> list[SourceInfo]:
    """Every usable source type, sorted by display name. Unusable entries are left out
    (with a warning, or quietly for Elastic classes Sluice has no equivalent of, since
    Elastic's config.yml.example maps them all)."""
    candidates = _candidates(extra)
    infos: list[SourceInfo] = []
    for service_type, (class_path, _origin) in candidates.items():
        try:
            cls, origin, used_path = _resolve(service_type, candidates)
        except UnknownSourceError as exc:
            log = logger.debug if class_path.startswith("connectors.") else logger.warning
            log("%s", exc)
            continue
        infos.append(
            SourceInfo(
                service_type=service_type,
                display_name=cls.display_name or service_type,
                description=cls.description,
                prerequisites=list(cls.prerequisites),
                class_path=used_path,
                origin=origin,
            )
        )
    return sorted(infos, key=lambda info: info.display_name.lower())


def source_catalog(extra: Mapping[str, str] | None = None) -> list[SourceInfo]:
    """Every type a user can set up: Sluice's usable sources, then each type of Elastic's
    connector service that Sluice does not run (run by Elastic's service), grouped by
    category (`elastic_catalog.CATEGORIES` order) and sorted by name within a group."""
    from dataclasses import replace

    from sluice.sources.elastic_catalog import CATEGORIES, ELASTIC_TYPES

    elastic = {entry.service_type: entry for entry in ELASTIC_TYPES}
    infos: list[SourceInfo] = []
    for info in available_sources(extra):
        entry = elastic.get(info.service_type)
        infos.append(
            replace(
                info,
                category=entry.category if entry else info.category,
                docs_url=entry.docs_url if entry else info.docs_url,
            )
        )
    ours = {info.service_type for info in infos}
    for entry in ELASTIC_TYPES:
        if entry.service_type in ours:
            continue
        infos.append(
            SourceInfo(
                service_type=entry.service_type,
                display_name=entry.display_name,
                description=entry.description,
                prerequisites=list(entry.needs),
                origin="elastic",
                runner="elastic",
                category=entry.category,
                docs_url=entry.docs_url,
            )
        )
    order = {name: n for n, name in enumerate(CATEGORIES)}
    return sorted(infos, key=lambda i: (order.get(i.category, len(order)), i.display_name.lower()))


def find_source(service_type: str, extra: Mapping[str, str] | None = None) -> SourceInfo | None:
    """The catalog entry of one type, or None when neither service knows it."""
    return next((i for i in source_catalog(extra) if i.service_type == service_type), None)


def runs_in_sluice(service_type: str, extra: Mapping[str, str] | None = None) -> bool:
    """True when Sluice's engine has a usable source for `service_type`."""
    try:
        _resolve(service_type, _candidates(extra))
    except UnknownSourceError:
        return False
    return True


@functools.lru_cache(maxsize=128)
def sluice_runs(service_type: str) -> bool:
    """`runs_in_sluice` for the built-in and installed sources, cached: front ends ask on
    every redraw, and the answer changes only with an install."""
    return bool(service_type) and runs_in_sluice(service_type)


def types_run_by(runner: str) -> frozenset[str]:
    """The service types a runner can run: "elastic", Elastic's connector service (every
    type of its catalog); "sluice", Sluice's engine."""
    if runner == "elastic":
        from sluice.sources.elastic_catalog import ELASTIC_TYPES

        return frozenset(entry.service_type for entry in ELASTIC_TYPES)
    return frozenset(info.service_type for info in source_catalog() if info.runner == "sluice")
