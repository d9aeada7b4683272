"""Edit config.yml in place: comments, key order, quoting and the file's own style (dotted
`elasticsearch.host:` keys or nested sections) survive, so adding one connector changes only
the lines of that connector. ruamel.yaml's round-trip mode does the heavy lifting."""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import ScalarString

from sluice.core.config import safeyaml
from sluice.core.config.atomic import atomic_write
from sluice.core.config.comments import put_trailing, take_trailing
from sluice.core.config.files import read_config_text
from sluice.core.config.problems import ConfigError, Problem
from sluice.core.config.redaction import (
    has_plaintext_secret,
    mask_secret_lines,
    scrub_removed_secrets,
)
from sluice.core.config.roundtrip import merge, plain, round_trip_yaml
from sluice.core.config.safeyaml import YamlSyntaxError

_MISSING = object()


class ConfigDocument:
    """One config.yml being edited. Nothing touches the disk until `save()`."""

    def __init__(self, text: str = "", path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._label = str(path) if path is not None else "config.yml"
        self._disk_text = text
        self._yaml = round_trip_yaml(text)
        try:
            safeyaml.check(text, self._label)  # bounds first: ruamel has none of its own
        except YamlSyntaxError as exc:
            raise ConfigError([exc.problem]) from None
        try:
            root = self._yaml.load(text) if text.strip() else None
        except MarkedYAMLError as exc:
            raise ConfigError([_syntax_problem(exc, self._label)]) from None
        except (RuamelError, ValueError, RecursionError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                [Problem("", f"cannot be read: {message}", file=self._label)]
            ) from None
        self._preamble = ""
        if root is None:
            # Only comments (like Elastic's config.yml.example): keep them verbatim on top.
            self._preamble = text if not text or text.endswith("\n") else text + "\n"
            root = CommentedMap()
        if not isinstance(root, CommentedMap):
            raise ConfigError(
                [
                    Problem(
                        "",
                        "the file must be a mapping of keys such as `elasticsearch.host:`",
                        line=1,
                        column=1,
                        file=self._label,
                    )
                ]
            )
        if root.fa.flow_style():
            root.fa.set_block_style()
        self._root = root

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ConfigDocument:
        """The document at `path`; a missing file gives an empty document for that path."""
        return cls(read_config_text(path, missing_ok=True), path)

    # -- reading ---------------------------------------------------------------------------

    def get(self, dotted_key: str, default: Any = None) -> Any:
        """The value Elastic's service would read for `dotted_key`, as written (no `${VAR}`
        substitution, no defaults), as plain Python data."""
        node: Any = self.as_dict()
        for part in dotted_key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def as_dict(self) -> dict[str, Any]:
        """The whole document as plain nested data (dotted top-level keys split)."""
        nested: dict[str, Any] = {}
        for key, value in self._root.items():
            parts = str(key).split(".")
            target = nested
            for part in parts[:-1]:
                if not isinstance(target.get(part), dict):
                    target[part] = {}
                target = target[part]
            converted = plain(value)
            if isinstance(target.get(parts[-1]), dict) and isinstance(converted, dict):
                target[parts[-1]] = merge(target[parts[-1]], converted)
            else:
                target[parts[-1]] = converted
        return nested

    @property
    def connectors(self) -> list[dict[str, Any]]:
        value = self._root.get("connectors")
        return [plain(entry) for entry in value] if isinstance(value, list) else []

    @property
    def uses_dotted_keys(self) -> bool:
        return any("." in str(key) for key in self._root)

    # -- editing ---------------------------------------------------------------------------

    def set(self, dotted_key: str, value: Any) -> None:
        """Set a key where the file already has it, else in the file's style: a top-level
        dotted key when the file uses them, otherwise nested sections. Values are written as
        given: a `$` that must stay literal needs `escape_dollars`."""
        parts = _split(dotted_key)
        places = list(self._places(parts))
        if places:
            for container, key in places:
                container[key] = _node(value, container[key])
            return
        container, remaining = self._deepest_container(parts)
        if container is self._root and self.uses_dotted_keys:
            self._insert_dotted(".".join(parts), value)
            return
        if container is self._root and not remaining:
            remaining = parts
        node = _node(value, _MISSING)
        for part in reversed(remaining[1:]):
            section = CommentedMap()
            section[part] = node
            node = section
        _append(container, remaining[0], node)

    def unset(self, dotted_key: str) -> bool:
        """Remove a key wherever it is written; False when it was not there."""
        places = list(self._places(_split(dotted_key)))
        for container, key in places:
            _remove(container, key)
        return bool(places)

    def upsert_connector(
        self, connector_id: str, service_type: str, api_key: str | None = None
    ) -> None:
        """Add a `connectors` entry, or update the one with this id (its other keys, comments
        and position stay). `api_key=None` leaves an existing key as it is."""
        connector_id = str(connector_id)
        entries = self._connector_list()
        for entry in entries:
            if isinstance(entry, CommentedMap) and str(entry.get("connector_id")) == connector_id:
                entry["service_type"] = _node(service_type, entry.get("service_type", _MISSING))
                if api_key is not None:
                    if "api_key" in entry:
                        entry["api_key"] = _node(api_key, entry["api_key"])
                    else:
                        _append(entry, "api_key", api_key)
                return
        entry = CommentedMap()
        entry["connector_id"] = connector_id
        entry["service_type"] = service_type
        if api_key is not None:
            entry["api_key"] = api_key
        if entries:
            lines = take_trailing(entries, len(entries) - 1)
            entries.append(entry)
            put_trailing(entries, len(entries) - 1, lines)
        else:
            entries.append(entry)

    def remove_connector(self, connector_id: str) -> bool:
        """Drop every entry with this id; False when there was none."""
        entries = self._root.get("connectors")
        if not isinstance(entries, CommentedSeq):
            return False
        found = [
            i
            for i, entry in enumerate(entries)
            if isinstance(entry, Mapping) and str(entry.get("connector_id")) == str(connector_id)
        ]
        for index in reversed(found):
            _remove(entries, index)
        return bool(found)

    # -- output ----------------------------------------------------------------------------

    def render(self) -> str:
        """Exactly the text `save()` would write."""
        stream = io.StringIO()
        self._dump(stream)
        return stream.getvalue()

    @property
    def changed(self) -> bool:
        return self.render() != self._disk_text

    def diff(self, *, mask_secrets: bool = True) -> str:
        """Unified diff from the file on disk to `render()`; secret values masked."""
        name = self.path.name if self.path else "config.yml"
        lines = difflib.unified_diff(
            self._disk_text.splitlines(keepends=True),
            self.render().splitlines(keepends=True),
            fromfile=f"{name} (on disk)",
            tofile=f"{name} (new)",
        )
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        return mask_secret_lines(text) if mask_secrets else text

    def has_plaintext_secret(self) -> bool:
        """True when an api_key/password/bearer_auth (or a header) holds a value in clear,
        rather than a `${VAR}` or `keyring:` reference."""
        return has_plaintext_secret(self._root)

    def save(self) -> Path:
        """Write atomically (temp file, fsync, `os.replace`), keep `<name>.bak`, and make the
        file 0600 when it holds a secret in plain text. Raises `ConfigError` on failure."""
        if self.path is None:
            raise ConfigError([Problem("", "this document has no file path to save to")])
        mode = 0o600 if self.has_plaintext_secret() else None
        written: list[str] = []

        def check(text: str) -> None:
            try:
                yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ConfigError(
                    [Problem("", f"refusing to write invalid YAML: {exc}", file=self._label)]
                ) from None
            written.append(text)

        try:
            target = atomic_write(
                self.path,
                self._dump,
                mode=mode,
                check=check,
                backup_text=lambda old: scrub_removed_secrets(old, written[0]),
            )
        except OSError as exc:
            raise ConfigError(
                [Problem("", f"could not be saved: {exc.strerror or exc}", file=self._label)]
            ) from None
        self._disk_text = written[0]
        return target

    def __repr__(self) -> str:
        return f"<ConfigDocument {self._label}: {len(self._root)} top-level key(s)>"

    # -- internals -------------------------------------------------------------------------

    def _dump(self, stream: TextIO) -> None:
        stream.write(self._preamble)
        if len(self._root):
            self._yaml.dump(self._root, stream)

    def _places(self, parts: list[str]):
        """Every (container, key) where `parts` is written: `a.b.c:` or `a.b:` + `c:` or
        `a:` + `b:` + `c:`."""
        for split in range(len(parts), 0, -1):
            top = ".".join(parts[:split])
            if top not in self._root:
                continue
            if split == len(parts):
                yield self._root, top
                continue
            node = self._root[top]
            for part in parts[split:-1]:
                node = node.get(part) if isinstance(node, CommentedMap) else None
            if isinstance(node, CommentedMap) and parts[-1] in node:
                yield node, parts[-1]

    def _deepest_container(self, parts: list[str]) -> tuple[CommentedMap, list[str]]:
        """The existing mapping that can take `parts` with the fewest new sections."""
        best: tuple[CommentedMap, list[str]] = (self._root, [])
        best_depth = 0
        for split in range(1, len(parts)):
            top = ".".join(parts[:split])
            node = self._root.get(top)
            if not isinstance(node, CommentedMap):
                continue
            depth = split
            for part in parts[split:-1]:
                child = node.get(part)
                if not isinstance(child, CommentedMap):
                    break
                node, depth = child, depth + 1
            if depth >= best_depth:
                best, best_depth = (node, parts[depth:]), depth
        return best

    def _insert_dotted(self, key: str, value: Any) -> None:
        """Add a top-level dotted key after its closest relatives (`elasticsearch.bulk.*`,
        then `elasticsearch.*`), or at the end."""
        keys = [str(k) for k in self._root]
        parts = key.split(".")
        position = len(keys)
        for depth in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:depth])
            related = [i for i, k in enumerate(keys) if k == prefix or k.startswith(prefix + ".")]
            if related:
                position = related[-1] + 1
                break
        _insert(self._root, position, key, _node(value, _MISSING))

    def _connector_list(self) -> CommentedSeq:
        current = self._root.get("connectors", _MISSING)
        if isinstance(current, CommentedSeq):
            if current.fa.flow_style():
                current.fa.set_block_style()
            return current
        entries = CommentedSeq()
        if current is _MISSING:
            _append(self._root, "connectors", entries)
        else:
            self._root["connectors"] = entries
        return entries


def _split(dotted_key: str) -> list[str]:
    parts = dotted_key.split(".")
    if not dotted_key or any(not part for part in parts):
        raise ValueError(f"not a config key: {dotted_key!r}")
    return parts


def _node(value: Any, previous: Any) -> Any:
    """`value` as a ruamel node; a replaced string keeps its quoting style."""
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _node(item, _MISSING)
        return node
    if isinstance(value, list | tuple):
        return CommentedSeq(_node(item, _MISSING) for item in value)
    if (
        isinstance(value, str)
        and isinstance(previous, ScalarString)
        and not isinstance(value, ScalarString)
    ):
        return type(previous)(value)
    return value


def _append(container: CommentedMap, key: str, value: Any) -> None:
    _insert(container, len(container), key, value)


def _insert(container: CommentedMap, position: int, key: str, value: Any) -> None:
    """Insert keeping the comment lines that followed the previous entry after the new one."""
    lines = take_trailing(container, list(container.keys())[position - 1]) if position else None
    container.insert(position, key, value)
    put_trailing(container, key, lines)


def _remove(container: CommentedMap | CommentedSeq, key: Any) -> None:
    """Delete an entry; comment lines after it move to the entry before, if any."""
    keys = list(container.keys()) if isinstance(container, CommentedMap) else None
    index = keys.index(key) if keys is not None else key
    lines = take_trailing(container, key)
    del container[key]
    if container.ca.items.get(key) is not None and keys is not None:
        container.ca.items.pop(key, None)
    if index > 0 and lines:
        previous = keys[index - 1] if keys is not None else index - 1
        put_trailing(container, previous, lines)
    if isinstance(container, CommentedSeq):
        _renumber_seq_comments(container, index)


def _renumber_seq_comments(seq: CommentedSeq, removed: int) -> None:
    """Sequence comments are keyed by index; shift those after a removed item."""
    items = seq.ca.items
    moved = {(i - 1 if i > removed else i): c for i, c in items.items() if i != removed}
    items.clear()
    items.update(moved)


def _syntax_problem(exc: MarkedYAMLError, label: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    return Problem(
        "",
        f"YAML syntax error: {problem}",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        file=label,
    )
