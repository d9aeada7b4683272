"""What a front end asks of a source type before a sync: its schema with a connector's
values filled in, the local problems of a configuration, and a real "Test connection"
(`validate_config()` then `ping()`), answered as a typed result that never raises."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sluice.sources import schema
from sluice.sources.errors import SourceError
from sluice.sources.registry import get_source_class


def merge_configuration(
    service_type: str, stored: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The source's schema (defaults, every attribute) with a connector record's values."""
    defaults = get_source_class(service_type).default_configuration()
    return schema.merge_values(defaults, stored or {})


@dataclass(frozen=True)
class FormFeedback:
    """What a form shows while values are typed: `errors` (`key -> message`, the schema's
    rules plus the source's own) and `links` (the source's `setup_links()`)."""

    errors: dict[str, str]
    links: list[tuple[str, str]]


def form_feedback(
    service_type: str, configuration: Mapping[str, Mapping[str, Any]]
) -> FormFeedback:
    """Local problems and setup links of these values, from one source instance (a form
    asks on every keystroke). Raises what building the source raises; a failing
    `setup_links()` only leaves the links out."""
    source = get_source_class(service_type)(configuration)
    errors = source.validation_errors()
    try:
        links = source.setup_links()
    except Exception:
        links = []
    return FormFeedback(errors, links)


@dataclass(frozen=True)
class SourceTest:
    """Outcome of "Test connection": ok, one line, and the message under each field."""

    ok: bool
    message: str
    field_errors: dict[str, str] = field(default_factory=dict)


async def check_source(
    service_type: str, configuration: Mapping[str, Mapping[str, Any]]
) -> SourceTest:
    """Run the source's `validate_config()` then `ping()`; never raises (a third-party
    source may raise anything: it becomes the message)."""
    source_class = get_source_class(service_type)
    try:
        source = source_class(configuration)
    except SourceError as exc:
        return SourceTest(False, str(exc), exc.field_errors)
    try:
        await source.validate_config()
        await source.ping()
    except SourceError as exc:
        return SourceTest(False, str(exc), exc.field_errors)
    except Exception as exc:
        return SourceTest(False, f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(Exception):
            await source.close()
    name = source_class.display_name or service_type
    covered = source.coverage()
    found = f" It will sync {covered}." if covered else ""
    return SourceTest(True, f"{name}: configuration valid and the source answers.{found}")
