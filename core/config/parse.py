"""Read config.yml text the way Elastic's service does — PyYAML's safe loader (YAML 1.1, so
`yes`/`on` are booleans there too), then top-level dotted keys split into sections — while
remembering where every key and value was written, for messages with line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from sluice.core.config.problems import Problem
from sluice.core.config.safeyaml import MAX_DEPTH, YamlSyntaxError, load
from sluice.core.config.schema import Path, format_path

__all__ = ["Parsed", "YamlSyntaxError", "parse_text"]


@dataclass
class Parsed:
    """The nested data (dotted top-level keys split) and where each path was written."""

    data: dict[str, Any]
    file: str | None = None
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _by_line: dict[int, Path] | None = field(default=None, init=False, repr=False)

    def locate_key(self, path: Path) -> tuple[int, int] | None:
        return self.keys.get(path)

    def locate_value(self, path: Path) -> tuple[int, int] | None:
        return self.values.get(path)

    def key_at_line(self, line: int) -> str | None:
        """The deepest key whose value starts on `line` (to name the key of a `${VAR}`)."""
        if self._by_line is None:  # built once: a file may hold thousands of `${VAR}`s
            self._by_line = {}
            for path, (ln, _col) in self.values.items():
                if len(path) > len(self._by_line.get(ln, ())):
                    self._by_line[ln] = path
        found = self._by_line.get(line)
        return format_path(found) if found else None


def parse_text(text: str, file: str | None) -> Parsed:
    """Parse and nest. Raises `YamlSyntaxError` when the text is not YAML or breaks one of
    the bounds of `core.config.safeyaml` (aliases, depth, characters, number length)."""
    node, data = load(text, file)
    parsed = Parsed(data={}, file=file)
    if data is None:
        return parsed
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else None
        raise YamlSyntaxError(
            Problem(
                "",
                f"the file must be a mapping of keys such as `elasticsearch.host: ...` "
                f"(found {'a list' if isinstance(data, list) else _short(data)})",
                line=line,
                column=1 if line else None,
                file=file,
            )
        )
    _nest(parsed, node, data, file)
    return parsed


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _nest(parsed: Parsed, root: yaml.MappingNode, data: dict[Any, Any], file: str | None) -> None:
    """Split top-level dotted keys like Elastic's `_nest_configs`: later keys win, mappings
    merge into mappings."""
    key_nodes = {}
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode):
            key_nodes[key_node.value] = (key_node, value_node)
    for key, value in data.items():
        nodes = key_nodes.get(str(key))
        if not isinstance(key, str):
            line, column = _pos(nodes[0]) if nodes else (None, None)
            parsed.problems.append(
                Problem(
                    str(key),
                    f"top-level keys must be text (got {_short(key)})",
                    line=line,
                    column=column,
                    file=file,
                )
            )
            continue
        path: Path = tuple(key.split("."))
        if len(path) > MAX_DEPTH:
            line, column = _pos(nodes[0]) if nodes else (None, None)
            parsed.problems.append(
                Problem(
                    "",
                    f"a key with {len(path)} dotted parts nests too deep (at most {MAX_DEPTH})",
                    hint="a config.yml key has a few parts, like `elasticsearch.bulk.chunk_size`",
                    line=line,
                    column=column,
                    file=file,
                )
            )
            continue
        target: dict[Any, Any] = parsed.data  # YAML keys: strings, or ints
        for index, part in enumerate(path[:-1]):
            existing = target.get(part)
            if not isinstance(existing, dict):
                if existing is not None:
                    _duplicate(parsed, path[: index + 1], nodes[0] if nodes else None)
                existing = target[part] = {}
            target = existing
        last = path[-1]
        if isinstance(target.get(last), dict) and isinstance(value, dict):
            _merge_into(parsed, target[last], value, path, nodes[1] if nodes else None)
        else:
            if last in target:
                _duplicate(parsed, path, nodes[0] if nodes else None)
            target[last] = value
        if nodes:
            _record(parsed, path, nodes[0], nodes[1])


def _merge_into(
    parsed: Parsed, target: dict, value: dict, path: Path, value_node: yaml.Node | None
) -> None:
    children = _children(value_node)  # once: looking each key up would be quadratic
    for key, item in value.items():
        key_node, item_node = children.get(key, (None, None))
        if isinstance(target.get(key), dict) and isinstance(item, dict):
            _merge_into(parsed, target[key], item, (*path, key), item_node)
        else:
            if key in target:
                _duplicate(parsed, (*path, key), key_node)
            target[key] = item


def _children(node: yaml.Node | None) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
    """The key and value nodes of a mapping node by key (the first one written wins)."""
    found: dict[Any, tuple[yaml.Node, yaml.Node]] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = _scalar_key(key_node)
                try:
                    found.setdefault(key, (key_node, value_node))
                except TypeError:  # an unhashable key: not one a path can name
                    continue
    return found


def _duplicate(parsed: Parsed, path: Path, key_node: yaml.Node | None) -> None:
    earlier = parsed.keys.get(path)
    line, column = _pos(key_node) if key_node is not None else (None, None)
    before = f" (also set on line {earlier[0]})" if earlier else ""
    parsed.problems.append(
        Problem(
            format_path(path),
            f"is set more than once{before}; the last one wins, as in Elastic's service",
            line=line,
            column=column,
            severity="warning",
            file=parsed.file,
        )
    )


def _record(parsed: Parsed, path: Path, key_node: yaml.Node, value_node: yaml.Node) -> None:
    """Remember positions of `path` and, recursively, of everything below it."""
    parsed.keys[path] = _pos(key_node)
    parsed.values[path] = _pos(value_node)
    if isinstance(value_node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for child_key, child_value in value_node.value:
            name = child_key.value if isinstance(child_key, yaml.ScalarNode) else None
            if name is None:
                continue
            key = _scalar_key(child_key)
            if name in seen and seen[name] != child_key.start_mark.line:
                parsed.problems.append(
                    Problem(
                        format_path((*path, key)),
                        f"is set more than once (also on line {seen[name] + 1}); the last one "
                        "wins, as in Elastic's service",
                        line=child_key.start_mark.line + 1,
                        column=child_key.start_mark.column + 1,
                        severity="warning",
                        file=parsed.file,
                    )
                )
            seen[name] = child_key.start_mark.line
            _record(parsed, (*path, key), child_key, child_value)
    elif isinstance(value_node, yaml.SequenceNode):
        for index, item in enumerate(value_node.value):
            parsed.keys[(*path, index)] = _pos(item)
            _record_item(parsed, (*path, index), item)


def _record_item(parsed: Parsed, path: Path, node: yaml.Node) -> None:
    parsed.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        _record(parsed, path, node, node)
        parsed.keys[path] = _pos(node)


def _scalar_key(node: yaml.ScalarNode) -> Any:
    """The key as PyYAML constructs it (`1` → 1), so paths match the data's keys."""
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    try:
        return yaml.safe_load(node.value)
    except yaml.YAMLError:
        return node.value


def _short(value: Any) -> str:
    """`repr(value)`, cut short: a hostile file's value may be a megabyte long."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}… ({len(text)} characters)"
