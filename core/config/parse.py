"""Read config.yml text the way Elastic's service does — PyYAML's safe loader (YAML 1.1, so
`yes`/`on` are booleans there too), then top-level dotted keys split into sections — while
remembering where every key and value was written, for messages with line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from core.config.problems import Problem
from core.config.schema import Path, format_path

_HINTS = {
    "found character '\\t' that cannot start any token": "YAML indentation must use spaces, "
    "not tabs",
    "mapping values are not allowed here": "a value contains ': ' or the indentation is off — "
    "put the value in quotes or fix the indentation",
    "could not find expected ':'": "a key is missing its ':' or a quote is not closed",
    "found undefined alias": "an `*alias` refers to an `&anchor` that is not defined",
}


@dataclass
class Parsed:
    """The nested data (dotted top-level keys split) and where each path was written."""

    data: dict[str, Any]
    file: str | None = None
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def locate_key(self, path: Path) -> tuple[int, int] | None:
        return self.keys.get(path)

    def locate_value(self, path: Path) -> tuple[int, int] | None:
        return self.values.get(path)

    def key_at_line(self, line: int) -> str | None:
        """The deepest key whose value starts on `line` (to name the key of a `${VAR}`)."""
        found = [p for p, (ln, _col) in self.values.items() if ln == line]
        return format_path(max(found, key=len)) if found else None


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def parse_text(text: str, file: str | None) -> Parsed:
    """Parse and nest. Raises `YamlSyntaxError` when the text is not YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(_syntax_problem(exc, file)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem("", f"YAML error: {exc}", file=file)) from None
    finally:
        loader.dispose()
    parsed = Parsed(data={}, file=file)
    if data is None:
        return parsed
    if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else None
        raise YamlSyntaxError(
            Problem(
                "",
                f"the file must be a mapping of keys such as `elasticsearch.host: ...` "
                f"(found {'a list' if isinstance(data, list) else repr(data)})",
                line=line,
                column=1 if line else None,
                file=file,
            )
        )
    _nest(parsed, node, data, file)
    return parsed


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str | None) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "invalid YAML").strip()
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f" ({exc.context} on line {exc.context_mark.line + 1})"
    hint = next((h for k, h in _HINTS.items() if problem.startswith(k)), None)
    if hint is None and (exc.context or "").startswith("while scanning a quoted scalar"):
        hint = "a quote is not closed"
    return Problem(
        key="",
        message=message,
        hint=hint,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        file=file,
    )


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
                    f"top-level keys must be text (got {key!r})",
                    line=line,
                    column=column,
                    file=file,
                )
            )
            continue
        path: Path = tuple(key.split("."))
        target = parsed.data
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
    for key, item in value.items():
        key_node, item_node = _child(value_node, key)
        if isinstance(target.get(key), dict) and isinstance(item, dict):
            _merge_into(parsed, target[key], item, (*path, key), item_node)
        else:
            if key in target:
                _duplicate(parsed, (*path, key), key_node)
            target[key] = item


def _child(node: yaml.Node | None, key: Any) -> tuple[yaml.Node | None, yaml.Node | None]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and _scalar_key(key_node) == key:
                return key_node, value_node
    return None, None


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
