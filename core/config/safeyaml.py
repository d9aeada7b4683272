"""PyYAML's safe loader with bounds, so a hostile config.yml ends in a moment with one line
instead of running out of memory or stack: alias bombs ("billion laughs"), alias loops, deep
nesting, control characters and numbers too long to convert are all reported as a `Problem`
with the line and column where they start. So are files of more than `MAX_VALUES` keys and
values: reading 100,000 keys takes seconds, and no one writes them by hand.

Elastic's service reads config.yml with the same loader (YAML 1.1); only files it could not
read sensibly either are refused here."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from sluice.core.config.problems import Problem

try:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]  # typeshed lists no re-export
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None  # type: ignore[assignment,misc]  # checked before use


#: Deepest nesting of mappings and lists (aliases expanded). A real config.yml nests 4 deep.
MAX_DEPTH = 64
#: Most nodes that aliases may add once expanded: far above any real use of anchors, far below
#: what makes the walkers that follow slow (a billion-laughs file adds ~10^9).
MAX_ALIAS_NODES = 100_000
#: Most keys and values written (aliases not expanded). Elastic's example holds 120; even a
#: thousand connectors hold 6,000.
MAX_VALUES = 50_000
#: Python refuses to convert longer decimal numbers (`sys.get_int_max_str_digits`).
MAX_INT_DIGITS = 4300

_HINTS = {
    "found character '\\t' that cannot start any token": "YAML indentation must use spaces, "
    "not tabs",
    "mapping values are not allowed here": "a value contains ': ' or the indentation is off — "
    "put the value in quotes or fix the indentation",
    "could not find expected ':'": "a key is missing its ':' or a quote is not closed",
    "found undefined alias": "an `*alias` refers to an `&anchor` that is not defined",
}


class YamlSyntaxError(Exception):
    """The text cannot be read as config.yml; `.problem` says where and why."""

    def __init__(self, problem: Problem, *, limit: bool = False) -> None:
        super().__init__(str(problem))
        self.problem = problem
        #: True for a bound this module adds (PyYAML itself would have gone on).
        self.limit = limit


class _Refused(Exception):
    """Raised inside the loader at a node that breaks a bound."""

    def __init__(self, message: str, mark: Any, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.mark, self.hint = message, mark, hint


class _Bounded(Composer):
    """PyYAML's composer refusing alias loops, more than `MAX_VALUES` values and nesting
    deeper than `MAX_DEPTH`, and reporting values it cannot convert with their position."""

    def __init__(self) -> None:
        Composer.__init__(self)
        self.depth = 0
        self.values = 0
        self.open_anchors: set[str] = set()
        #: Every alias in document order: (the node it stands for, where it is written).
        self.aliases: list[tuple[yaml.Node | None, Any]] = []

    if TYPE_CHECKING:  # the parser half of the loader classes below provides these

        def check_event(self, *choices: Any) -> bool: ...
        def peek_event(self) -> Any: ...

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            if event.anchor in self.open_anchors:
                raise _Refused(
                    f"the alias `*{event.anchor}` is inside the `&{event.anchor}` it refers to "
                    "(a YAML alias loop)",
                    event.start_mark,
                    "refer to the anchor only after it ends",
                )
            node = super().compose_node(parent, index)
            self.aliases.append((node, event.start_mark))
            return node
        event = self.peek_event()
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused(
                f"holds more than {MAX_VALUES:,} keys and values",
                event.start_mark,
                "a config.yml holds a few hundred; is this the right file?",
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(
                f"nested more than {MAX_DEPTH} levels deep",
                event.start_mark,
                "a config.yml nests a few levels; is this the right file?",
            )
        anchor = event.anchor
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            if anchor is not None:
                self.open_anchors.discard(anchor)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)  # type: ignore[misc]  # SafeConstructor's, later in the loaders' MRO
        except (ValueError, OverflowError) as exc:
            if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
                digits = len(node.value.lstrip("+-").replace("_", ""))
                raise _Refused(
                    f"a number with {digits} digits is too long to read",
                    node.start_mark,
                    f"numbers in config.yml have at most {MAX_INT_DIGITS} digits",
                ) from None
            raise _Refused(f"cannot read this value: {exc}", node.start_mark) from None


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    """Hex, octal and binary convert at any length, but no one can print the result."""
    value = loader.construct_yaml_int(node)
    if abs(value).bit_length() > MAX_INT_DIGITS * 3:  # ~ 10**(MAX_INT_DIGITS * 0.9)
        raise ValueError("too long")
    return value


class BoundedLoader(_Bounded, Reader, Scanner, Parser, SafeConstructor, Resolver):
    """`yaml.SafeLoader` with the bounded composer: PyYAML's own messages, as Elastic's
    service would give them."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        _Bounded.__init__(self)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

if CParser is not None:

    class FastBoundedLoader(_Bounded, CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser, several times faster, with the bounded composer in
        Python (libyaml's own composer recurses without a bound). Its syntax messages are
        worded differently, so it only reads files too large to be written by hand."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _Bounded.__init__(self)

    FastBoundedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
else:  # pragma: no cover - PyYAML built without libyaml
    FastBoundedLoader = BoundedLoader  # type: ignore[misc,assignment]  # same interface

#: Above this size the fast loader reads the file: 100,000 keys take seconds in pure Python.
FAST_ABOVE = 64 * 1024


def load(text: str, file: str | None) -> tuple[yaml.Node | None, Any]:
    """The root node and the data of the single document in `text`.

    Raises `YamlSyntaxError` for text that is not YAML or breaks a bound."""
    loader = None
    try:
        bad = Reader.NON_PRINTABLE.search(text)  # as the reader would, counting characters
        if bad is not None:
            raise _unprintable(text, bad.start(), file)
        loader = FastBoundedLoader(text) if len(text) > FAST_ABOVE else BoundedLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(loader.aliases)
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise YamlSyntaxError(_marked(exc.message, exc.mark, file, exc.hint), limit=True) from None
    except yaml.reader.ReaderError as exc:  # the check above should have come first
        character = exc.character if isinstance(exc.character, int) else 0
        raise _unprintable(text, exc.position, file, character) from None
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(syntax_problem(exc, file)) from None
    except yaml.YAMLError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise YamlSyntaxError(Problem("", f"YAML error: {message}", file=file)) from None
    except (RecursionError, MemoryError):  # a last resort: the bounds should come first
        raise YamlSyntaxError(
            Problem("", "is too deeply nested or too large to read", file=file), limit=True
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, data


def check(text: str, file: str | None) -> None:
    """Raise `YamlSyntaxError` only when `text` breaks a bound (for readers other than PyYAML,
    such as the round-trip editor, which report ordinary syntax errors themselves)."""
    try:
        load(text, file)
    except YamlSyntaxError as exc:
        if exc.limit:
            raise


def _check_expansion(aliases: list[tuple[yaml.Node | None, Any]]) -> None:
    """Refuse aliases that would grow the data past `MAX_ALIAS_NODES` extra nodes, or nest it
    past `MAX_DEPTH`. Each alias adds the expanded size of its target, so walking the
    aliases in document order finds the first one over the budget."""
    sizes: dict[int, tuple[int, int]] = {}
    added = 0
    for target, mark in aliases:
        if target is None:  # PyYAML's composer always gives a node for an alias
            continue
        size, depth = _expanded(target, sizes, 1)
        if depth > MAX_DEPTH:
            raise _Refused(
                f"aliases nest the data more than {MAX_DEPTH} levels deep",
                mark,
                "a config.yml nests a few levels; is this the right file?",
            )
        added += size
        if added > MAX_ALIAS_NODES:
            raise _Refused(
                "too many YAML aliases (an alias bomb?): expanded, they would add more than "
                f"{MAX_ALIAS_NODES:,} values",
                mark,
                "write the values out, or use fewer `*aliases`",
            )


def _expanded(node: yaml.Node, sizes: dict[int, tuple[int, int]], level: int) -> tuple[int, int]:
    """(values, depth) of `node` with every alias expanded; stops counting past the bounds
    (the composer rules out loops, and `level` keeps the recursion short)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if level > MAX_DEPTH:
        return 1, MAX_DEPTH + 1
    size, depth = 1, 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = []
    for child in children:
        child_size, child_depth = _expanded(child, sizes, level + 1)
        size += child_size
        depth = max(depth, child_depth + 1)
        if size > MAX_ALIAS_NODES or depth > MAX_DEPTH:
            break  # over a bound already: the exact figure does not matter
    sizes[id(node)] = (size, depth)
    return size, depth


def _marked(message: str, mark: Any, file: str | None, hint: str | None = None) -> Problem:
    return Problem(
        "",
        message,
        hint=hint,
        line=mark.line + 1 if mark is not None else None,
        column=mark.column + 1 if mark is not None else None,
        file=file,
    )


def _unprintable(
    text: str, position: int, file: str | None, code: int | None = None
) -> YamlSyntaxError:
    """A character YAML does not allow (NUL, ESC, ...): which one and where."""
    position = max(0, min(position, len(text) - 1))
    if code is None:
        code = ord(text[position])
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    name = unicodedata.name(chr(code), "") or _CONTROL_NAMES.get(code, "a control character")
    problem = Problem(
        "",
        f"contains the character U+{code:04X} ({name}), which YAML does not allow",
        hint="remove it (is this a binary or damaged file?)",
        line=line,
        column=column,
        file=file,
    )
    return YamlSyntaxError(problem, limit=True)


_CONTROL_NAMES = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x08: "BACKSPACE", 0x0C: "FORM FEED"}


def syntax_problem(exc: yaml.MarkedYAMLError, file: str | None) -> Problem:
    """PyYAML's syntax error as one line, with a hint for the common mistakes."""
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
