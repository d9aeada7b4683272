"""The keys of config.yml Sluice and Elastic's service know, what each accepts, and the checks
that turn a wrong value into a message naming the key, the problem and the fix.

Unknown keys are kept (Elastic's service ignores them) but warned about with the closest known
key, because a typo such as `elasticsearch.apikey` silently falls back to a default otherwise.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sluice.core.address import address_problem
from sluice.core.config.problems import Problem
from sluice.core.secrets import SECRET_FIELD_NAMES, mask

Path = tuple[str | int, ...]
#: Looks up where a path was written: `(line, column)` 1-based, or None.
Locate = Callable[[Path], tuple[int, int] | None]


def format_path(path: Path) -> str:
    """`("connectors", 0, "api_key")` → `connectors[0].api_key`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def show(value: Any, secret: bool = False) -> str:
    """How a wrong value is quoted back in a message (secrets masked)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(mask(value)) if secret else repr(value)
    if isinstance(value, int | float):
        return "a number" if secret else str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@dataclass
class Spec:
    """One key's rules. `check` returns a message (without the key) or None when fine."""

    nullable: bool = False
    deprecated: str | None = None
    sluice_only: bool = False

    def check(self, value: Any, secret: bool) -> str | None:
        return None


@dataclass
class Anything(Spec):
    pass


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None

    def expected(self) -> str:
        if self.min is not None and self.max is not None:
            return f"an integer between {self.min} and {self.max}"
        if self.min is not None:
            return f"an integer of at least {self.min}"
        return "an integer"

    def check(self, value: Any, secret: bool) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and self.min is not None and value < self.min:
            ok = False
        if ok and self.max is not None and value > self.max:
            ok = False
        return None if ok else f"must be {self.expected()} (got {show(value, secret)})"


@dataclass
class Number(Spec):
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False

    def expected(self) -> str:
        if self.min is not None and self.max is not None:
            return f"a number between {_num(self.min)} and {_num(self.max)}"
        if self.min is not None:
            word = "greater than" if self.min_exclusive else "of at least"
            return f"a number {word} {_num(self.min)}"
        return "a number"

    def check(self, value: Any, secret: bool) -> str | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and self.min is not None:
            ok = value > self.min if self.min_exclusive else value >= self.min
        if ok and self.max is not None:
            ok = value <= self.max
        return None if ok else f"must be {self.expected()} (got {show(value, secret)})"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class Bool(Spec):
    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "yes", "no"}:
            return (
                f"must be true or false, not the text {value!r} — remove the quotes "
                "(Elastic's service reads any non-empty text as true)"
            )
        return f"must be true or false (got {show(value, secret)})"


@dataclass
class Text(Spec):
    allow_int: bool = False

    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, str):
            return None if value.strip() else "must not be empty"
        if self.allow_int and isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"must be text (got {show(value, secret)}) — put the value in quotes"
        return f"must be text (got {show(value, secret)})"


@dataclass
class Url(Spec):
    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, str):
            try:
                parts = urlsplit(value.strip())
            except ValueError as exc:  # "Invalid IPv6 URL" and the like
                return f"is not a valid URL ({exc}) (got {_without_password(value)!r})"
            if parts.scheme in {"http", "https"} and parts.hostname:
                problem = address_problem(value)
                return f"{problem} (got {_without_password(value)!r})" if problem else None
        shown = show(_without_password(value) if isinstance(value, str) else value, secret)
        return f"must be a URL starting with http:// or https:// (got {shown})"


@dataclass
class Choice(Spec):
    values: tuple[str, ...] = ()

    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, str) and value.strip().upper() in self.values:
            return None
        return f"must be one of {', '.join(self.values)} (got {show(value, secret)})"


@dataclass
class FilePath(Text):
    """A path Elastic's service opens; a missing file is worth a warning, not an error (the
    config may be written for another machine)."""


@dataclass
class Fingerprint(Spec):
    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f]{64}", value.replace(":", "")):
            return None
        return (
            "must be the certificate's SHA-256 fingerprint, 64 hex digits with or without "
            f"colons (got {show(value, secret)})"
        )


@dataclass
class SourceRef(Spec):
    def check(self, value: Any, secret: bool) -> str | None:
        if isinstance(value, str) and re.fullmatch(r"[\w.]+:[A-Za-z_]\w*", value.strip()):
            return None
        return f"must be 'python.module:ClassName' (got {show(value, secret)})"


@dataclass
class Section(Spec):
    children: dict[str, Spec] = field(default_factory=dict)
    required: tuple[str, ...] = ()


@dataclass
class FreeMap(Spec):
    """A mapping with keys of the user's choosing (headers, sources)."""

    values: Spec = field(default_factory=Anything)


@dataclass
class ListOf(Spec):
    item: Spec = field(default_factory=Anything)


LOG_LEVELS = ("NOTSET", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL")


def _positive(*, sluice_only: bool = False) -> Number:
    """A number above zero (Elastic's timeouts, sizes and intervals)."""
    return Number(min=0, min_exclusive=True, sluice_only=sluice_only)


BULK = Section(
    children={
        "queue_max_size": Int(min=1),
        "queue_max_mem_size": _positive(),
        "queue_refresh_interval": _positive(),
        "queue_refresh_timeout": _positive(),
        "display_every": Int(min=1),
        "chunk_size": Int(min=1, max=10000),
        "max_concurrency": Int(min=1, max=1000),
        "chunk_max_mem_size": _positive(),
        "max_text_document_size": _positive(),
        "max_retries": Int(min=0),
        "retry_interval": Number(min=0),
        # Sluice-only: seconds a bulk request may go unanswered before it is retried
        # (default 60, see core.engine.settings); Elastic's service ignores it.
        "request_timeout": _positive(sluice_only=True),
        "concurrent_downloads": Int(min=1, max=1000),
        "enable_operations_logging": Bool(),
        "error_monitor": Section(
            children={
                "enabled": Bool(),
                "max_total_errors": Int(min=0),
                "max_consecutive_errors": Int(min=0),
                "max_error_rate": Number(min=0, max=1),
                "error_window_size": Int(min=1),
                "error_queue_size": Int(min=0),
            }
        ),
    }
)

ELASTICSEARCH = Section(
    children={
        "host": Url(),
        "api_key": Text(nullable=True),
        "username": Text(nullable=True),
        "password": Text(nullable=True),
        "ssl": Bool(),
        "verify_certs": Bool(),
        "ca_certs": FilePath(nullable=True),
        "request_timeout": _positive(),
        "retry_on_timeout": Bool(),
        "max_retries": Int(min=0),
        "retry_interval": Number(min=0),
        "max_wait_duration": Number(min=0),
        "initial_backoff_duration": Number(min=0),
        "backoff_multiplier": _positive(),
        "log_level": Choice(values=LOG_LEVELS),
        "feature_use_connectors_api": Bool(),
        "headers": FreeMap(values=Text()),
        "bulk": BULK,
        # Sluice-only: Elastic's service ignores these keys.
        "ca_fingerprint": Fingerprint(nullable=True, sluice_only=True),
        "bearer_auth": Text(nullable=True, sluice_only=True),
    }
)

SERVICE = Section(
    children={
        "idling": _positive(),
        "heartbeat": _positive(),
        "preflight_max_attempts": Int(min=0),
        "preflight_idle": Number(min=0),
        "max_errors": Int(min=0),
        "max_errors_span": _positive(),
        "max_concurrent_content_syncs": Int(min=1),
        "max_concurrent_access_control_syncs": Int(min=1),
        "max_concurrent_scheduling_tasks": Int(min=1),
        "incremental_sync_interval_seconds": _positive(),
        "max_file_download_size": Int(min=1),
        "job_cleanup_interval": _positive(),
        "log_level": Choice(values=LOG_LEVELS),
        "worker_mode": Bool(),
        "service_types": ListOf(item=Text(), nullable=True),
        "fips_mode": Bool(),
    }
)

CONNECTOR = Section(
    children={
        "connector_id": Text(allow_int=True),
        "service_type": Text(),
        "api_key": Text(nullable=True),
    },
    required=("connector_id", "service_type"),
)

EXTRACTION_SERVICE = Section(
    nullable=True,
    children={
        "host": Url(nullable=True),
        "timeout": _positive(),
        "use_file_pointers": Bool(),
        "stream_chunk_size": Int(min=1),
        "shared_volume_dir": Text(),
    },
)

_MOVE_TO_CONNECTORS = (
    "deprecated at the top level — put it in an entry of `connectors` "
    "(Elastic's service still reads it only when `connectors` is empty)"
)

ROOT = Section(
    children={
        "elasticsearch": ELASTICSEARCH,
        "service": SERVICE,
        "connectors": ListOf(item=CONNECTOR, nullable=True),
        "sources": FreeMap(values=SourceRef()),
        "extraction_service": EXTRACTION_SERVICE,
        "connector_id": Text(allow_int=True, nullable=True, deprecated=_MOVE_TO_CONNECTORS),
        "service_type": Text(nullable=True, deprecated=_MOVE_TO_CONNECTORS),
        "native_service_types": ListOf(
            nullable=True,
            deprecated="deprecated and ignored: native connectors only run inside Elastic Cloud",
        ),
    }
)


#: Unknown keys listed one by one (with a "did you mean"); the rest are only counted.
MAX_UNKNOWN_LISTED = 20


def known_paths(spec: Section = ROOT, prefix: str = "") -> Iterator[str]:
    """Every dotted key the schema knows (`elasticsearch.bulk.chunk_size`, ...)."""
    for name, child in spec.children.items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        if isinstance(child, Section):
            yield from known_paths(child, path)


def _sluice_only(spec: Section, prefix: str) -> Iterator[str]:
    for name, child in spec.children.items():
        if child.sluice_only:
            yield f"{prefix}.{name}"
        if isinstance(child, Section):
            yield from _sluice_only(child, f"{prefix}.{name}")


SLUICE_ONLY_KEYS = tuple(_sluice_only(ELASTICSEARCH, "elasticsearch"))


def is_secret_path(path: Path) -> bool:
    return bool(path) and isinstance(path[-1], str) and path[-1] in SECRET_FIELD_NAMES


@dataclass
class Validator:
    """Walks the user's nested data (before defaults) against `ROOT`."""

    locate_key: Locate
    locate_value: Locate
    file: str | None = None
    base_dir: str | None = None
    problems: list[Problem] = field(default_factory=list)
    unknown_seen: int = 0

    def run(self, data: Mapping[str, Any]) -> list[Problem]:
        self._section(ROOT, data, ())
        unlisted = self.unknown_seen - MAX_UNKNOWN_LISTED
        if unlisted > 0:
            self.problems.append(
                Problem(
                    "",
                    f"and {unlisted:,} more unknown keys (not listed) — neither Sluice nor "
                    "Elastic's service uses them",
                    severity="warning",
                    file=self.file,
                )
            )
        return self.problems

    def _add(
        self,
        path: Path,
        message: str,
        *,
        hint: str | None = None,
        severity: str = "error",
        at_value: bool = True,
    ) -> None:
        where = (self.locate_value(path) if at_value else None) or self.locate_key(path)
        self.problems.append(
            Problem(
                key=format_path(path),
                message=message,
                hint=hint,
                line=where[0] if where else None,
                column=where[1] if where else None,
                severity=severity,  # type: ignore[arg-type]
                file=self.file,
            )
        )

    def _value(self, spec: Spec, value: Any, path: Path) -> None:
        if spec.deprecated and value is not None:
            self._add(path, spec.deprecated, severity="warning", at_value=False)
        if value is None:
            if not spec.nullable:
                self._empty(spec, path)
            return
        if isinstance(spec, Section):
            self._section(spec, value, path)
        elif isinstance(spec, FreeMap):
            self._free_map(spec, value, path)
        elif isinstance(spec, ListOf):
            self._list(spec, value, path)
        else:
            message = spec.check(value, is_secret_path(path) or _under_headers(path))
            if message:
                self._add(path, message)
            elif isinstance(spec, FilePath):
                self._file_exists(value, path)

    def _empty(self, spec: Spec, path: Path) -> None:
        if isinstance(spec, Section | FreeMap):
            self._add(
                path,
                "is empty — give it keys or remove the line "
                "(Elastic's service cannot start with an empty section)",
            )
        else:
            self._add(path, "has no value — set one or remove the line (the default applies)")

    def _section(self, spec: Section, value: Any, path: Path) -> None:
        if not isinstance(value, Mapping):
            where = format_path(path) or "the file"
            self._add(
                path,
                f"must be a mapping of keys (got {show(value)})",
                hint=f"write the keys of {where} indented below it",
            )
            return
        for name in spec.required:
            if value.get(name) in (None, ""):
                self._add(
                    path,
                    f"`{name}` is missing",
                    hint="every entry needs connector_id and service_type (see Kibana or "
                    "`sluice connector list`)",
                    at_value=False,
                )
        for key, child in value.items():
            child_path = (*path, key)
            child_spec = spec.children.get(key) if isinstance(key, str) else None
            if child_spec is None:
                self._unknown(spec, key, child_path)
            elif not (key in spec.required and child in (None, "")):
                self._value(child_spec, child, child_path)

    def _free_map(self, spec: FreeMap, value: Any, path: Path) -> None:
        if not isinstance(value, Mapping):
            self._add(path, f"must be a mapping (got {show(value)})")
            return
        for key, child in value.items():
            self._value(spec.values, child, (*path, key))

    def _list(self, spec: ListOf, value: Any, path: Path) -> None:
        if not isinstance(value, list):
            hint = "write each entry on its own line starting with `- `"
            self._add(path, f"must be a list (got {show(value)})", hint=hint)
            return
        for index, item in enumerate(value):
            self._value(spec.item, item, (*path, index))

    def _unknown(self, spec: Section, key: Any, path: Path) -> None:
        self.unknown_seen += 1
        if self.unknown_seen > MAX_UNKNOWN_LISTED:
            return  # counted only: "did you mean" costs a fuzzy match against every key
        name = format_path(path)
        parent = format_path(path[:-1])
        if isinstance(key, str) and "." in key and parent:
            full = f"{parent}.{key}"
            if full in _KNOWN:
                self._add(
                    path,
                    f"dotted key `{key}` inside `{parent}` is not read by Elastic's service "
                    "(it splits dots only at the top level)",
                    hint=f"write `{full}:` at the top level, or nest it under `{parent}`",
                    severity="warning",
                    at_value=False,
                )
                return
        suggestion = _suggest(spec, str(key), parent)
        if suggestion:
            message = f"unknown key `{name}` — did you mean `{suggestion}`?"
        else:
            message = f"unknown key `{name}` — neither Sluice nor Elastic's service uses it"
        self._add(path, message, severity="warning", at_value=False)

    def _file_exists(self, value: str, path: Path) -> None:
        candidates = [value]
        if self.base_dir and not os.path.isabs(value):
            candidates.append(os.path.join(self.base_dir, value))
        if not any(os.path.isfile(c) for c in candidates):
            self._add(
                path,
                f"file not found: {value}",
                hint="Elastic's service will fail to connect until the CA file exists there",
                severity="warning",
            )


_KNOWN = frozenset(known_paths())
_LEAVES: dict[str, list[str]] = {}
for _path in sorted(_KNOWN):
    _LEAVES.setdefault(_path.rsplit(".", 1)[-1], []).append(_path)


def _suggest(spec: Section, key: str, parent: str) -> str | None:
    """Closest known key: a near spelling in the same section, then the same name elsewhere,
    then a near spelling of the whole dotted path."""
    prefix = f"{parent}." if parent else ""
    close = difflib.get_close_matches(key, list(spec.children), n=1, cutoff=0.6)
    if close:
        return prefix + close[0]
    leaf = key.rsplit(".", 1)[-1]
    if leaf in _LEAVES and not parent.endswith("]"):
        return _LEAVES[leaf][0]
    close = difflib.get_close_matches(prefix + key, sorted(_KNOWN), n=1, cutoff=0.75)
    return close[0] if close else None


def _under_headers(path: Path) -> bool:
    return len(path) >= 2 and path[-2] == "headers"


def _without_password(url: str) -> str:
    """A URL as it may be shown: `https://user:***@host`."""
    return re.sub(r"(//[^/@:\s]*:)[^/@\s]*@", r"\1***@", url)
